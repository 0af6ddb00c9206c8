"""A small demo world ingested, classified and measured once per test session (the
``measured_store`` and ``measured_run`` fixtures of ``tests/conftest.py``), shared by the
measurement tests (``tests/marketing/test_measurement.py``) and the views that show a
measurement (``tests/ui/test_ui_measurement.py``). Small draws: these test plumbing, not
accuracy (``benchmarks/channel_impact.py`` judges accuracy).

Tests that add measurement runs to it (so change which one is the latest) should work on
``copy_store``'s copy instead.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from ingest.db.engine import open_store
from ingest.settings import Settings
from marketing.mmm import MediaMixConfig

KINDS = ("accounts", "leads", "opportunities", "spend", "experiments", "attribution")
END = date(2026, 11, 29)
SMALL = MediaMixConfig(draws=30, tune=40, chains=2, keep_draws=40)


@dataclass
class MeasuredStore:
    engine: Engine
    settings: Settings
    folder: Path


def build_measured_store(folder: Path) -> MeasuredStore:
    """The demo world of 20 accounts over 9 months ending at ``END``, its marketing kinds
    and answers ingested, the answers classified (no measurement yet)."""
    from ingest.demo import build_world, write_world
    from ingest.pipeline import ingest_paths
    from nlp.channels import classify_store

    world = build_world(accounts=20, months=9, seed=5, end=END)
    paths = write_world(world, folder / "world")
    settings = Settings(database_url=f"sqlite:///{folder / 'store.db'}", data_dir=folder / "data")
    engine = open_store(settings)
    for kind in KINDS:
        ingest_paths(engine, kind, [paths[kind]], settings=settings)
    classify_store(engine, settings)
    return MeasuredStore(engine, settings, folder)


def copy_store(store: MeasuredStore, folder: Path) -> Settings:
    """A copy of the store's SQLite database in ``folder`` (the backup API: the copy holds
    what the write-ahead log holds too); the settings that open it."""
    target = folder / "store.db"
    src = sqlite3.connect(str(store.folder / "store.db"))
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return Settings(database_url=f"sqlite:///{target}", data_dir=folder / "data")
