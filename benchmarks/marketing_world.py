"""A demo world's marketing side in a fresh SQLite store, for the marketing benchmarks:
``build_world`` + ``write_world``, ingest of the kinds measurement reads, and the answers'
channels (``nlp.channels.classify_store``), as ``undertow quickstart`` would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

KINDS = ("accounts", "leads", "opportunities", "spend", "experiments", "attribution")
END = "2026-11-29"  # a Sunday: the data end with a complete week


def build_store(seed: int, accounts: int, months: int, style: str, folder: Path) -> tuple[Any, Path]:
    """(engine, the world's folder with its truth files)."""
    from ingest.db.engine import open_store
    from ingest.demo import build_world, write_world
    from ingest.demo.marketing import ALT, MarketingStyle
    from ingest.pipeline import ingest_paths
    from ingest.settings import Settings
    from nlp.channels import classify_store

    world = build_world(accounts=accounts, months=months, seed=seed, end=END,
                        marketing_style=ALT if style == "alt" else MarketingStyle())  # fmt: skip
    paths = write_world(world, folder / "world")
    settings = Settings(database_url=f"sqlite:///{folder / 'store.db'}", data_dir=folder / "data")
    engine = open_store(settings)
    for kind in KINDS:
        ingest_paths(engine, kind, [paths[kind]], settings=settings)
    classify_store(engine, settings)
    return engine, folder / "world"
