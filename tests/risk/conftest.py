"""Fixtures of the risk tests: a small synthetic world (known truth), in memory or stored."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from synthetic_world import SyntheticWorld, make_world, write_to_store


@pytest.fixture(scope="session")
def world() -> SyntheticWorld:
    return make_world(300, months=24, seed=5, as_of="2026-06-30")


@pytest.fixture
def stored_world(engine: Engine) -> SyntheticWorld:
    w = make_world(160, months=24, seed=9, as_of="2026-06-30")
    write_to_store(engine, w)
    return w
