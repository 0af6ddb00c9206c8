"""Shared fixtures.

Store-backed tests take the ``database_url`` fixture (or ``settings``/``engine`` built on
it). It always yields a fresh SQLite file; when ``UNDERTOW_TEST_POSTGRES_URL`` points at a
PostgreSQL server whose role may CREATE DATABASE, it also yields a fresh PostgreSQL
database, so the same test runs on both back ends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from ingest.db.engine import open_store
from ingest.settings import Settings

PG_URL = os.environ.get("UNDERTOW_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'undertow.db'}"
        return
    assert PG_URL
    name = f"ut_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    # our own leftover sessions only: an autovacuum worker (a superuser
                    # process) may be on the database too, and DROP DATABASE stops it itself
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid() AND usename = current_user"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path / "data")


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = open_store(settings)
    yield eng
    eng.dispose()


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """Environment for running the CLI against the test database."""
    return {
        "UNDERTOW_DATABASE_URL": settings.database_url,
        "UNDERTOW_DATA_DIR": str(settings.data_dir),
        "HF_HUB_OFFLINE": "1",
    }


@pytest.fixture(scope="session")
def measured_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A small demo world ingested and classified, once per session (``tests/measured_store.py``)."""
    from measured_store import build_measured_store

    store = build_measured_store(tmp_path_factory.mktemp("measured"))
    yield store
    store.engine.dispose()


@pytest.fixture(scope="session")
def measured_run(measured_store: Any) -> dict[str, Any]:
    """The first measurement run of ``measured_store`` (small draws), once per session."""
    from measured_store import SMALL

    from marketing.measure import measure_and_store

    return measure_and_store(measured_store.engine, config=SMALL)


@pytest.fixture(scope="session")
def ray_engine() -> Iterator[object]:
    """One local Ray instance for every Ray test of the session (2 CPUs, a small object
    store, no dashboard), as a ``RayEngine``; skipped when the ``ray`` extra is missing."""
    try:
        import ray
    except ImportError as exc:
        pytest.skip(f"ray is not importable ({exc}); install the 'ray' extra")
    from nlp.engines.ray_backend import QUIET, RayEngine

    ray.init(
        address="local",  # a new instance, never a cluster `ray start` left on this machine
        num_cpus=2,
        object_store_memory=200 * 1024**2,
        include_dashboard=False,
        **QUIET,
    )
    try:
        yield RayEngine()
    finally:
        ray.shutdown()
