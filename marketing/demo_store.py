"""A demo world's marketing side in a store of its own: the records ``undertow measure``
reads (accounts, leads, opportunities, spend, lift tests, answers), with the answers'
channels classified. The benchmarks, the tests and notebook 05 build their stores with
it; ``undertow quickstart`` ingests every kind of the world instead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

MEASUREMENT_KINDS = ("accounts", "leads", "opportunities", "spend", "experiments", "attribution")


@dataclass
class DemoStore:
    engine: Engine
    settings: Any  # ingest.settings.Settings
    world_dir: Path  # the written world, truth files included


def load_marketing_world(engine: Engine, settings: Any, paths: dict[str, Path]) -> dict[str, Any]:
    """Ingest a written demo world's measurement kinds (``ingest.demo.write_world``'s
    paths) and classify the answers; kind -> the ingest's counts, and ``channels``."""
    from ingest.pipeline import ingest_paths
    from nlp.channels import classify_store

    out: dict[str, Any] = {
        kind: ingest_paths(engine, kind, [paths[kind]], settings=settings).as_dict()
        for kind in MEASUREMENT_KINDS
    }
    out["channels"] = classify_store(engine, settings)
    return out


def demo_store(
    folder: Path,
    seed: int = 7,
    accounts: int = 60,
    months: int = 30,
    end: date | str | None = None,
    style: str = "demo",
) -> DemoStore:
    """A demo world (``style`` demo, or one built unlike it: ``alt``, ``long`` or
    ``lean``, ``ingest.demo.marketing.STYLES``) written to ``folder/world`` and loaded into a fresh
    SQLite store ``folder/store.db``."""
    from ingest.db.engine import open_store
    from ingest.demo import build_world, write_world
    from ingest.demo.marketing import STYLES
    from ingest.settings import Settings

    world = build_world(accounts=accounts, months=months, seed=seed, end=end,
                        marketing_style=STYLES[style])  # fmt: skip
    paths = write_world(world, folder / "world")
    settings = Settings(database_url=f"sqlite:///{folder / 'store.db'}", data_dir=folder / "data")
    engine = open_store(settings)
    load_marketing_world(engine, settings, paths)
    return DemoStore(engine, settings, folder / "world")
