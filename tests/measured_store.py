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

from ingest.settings import Settings
from marketing.mmm import MediaMixConfig

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
    from marketing.demo_store import demo_store

    store = demo_store(folder, seed=5, accounts=20, months=9, end=END)
    return MeasuredStore(store.engine, store.settings, folder)


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
