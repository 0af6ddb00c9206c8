"""Bulk loads into SQLite: a table's plain (non-unique) indexes built once after a big
load instead of entry by entry during it.

Inserting a row into an index keyed on a random value (a content hash) is a B-tree
descent and a page write at a random place; building the index after the load is one
sort. SQLite's own advice for bulk loads, and PostgreSQL's ("Populating a Database"),
is the same. An ingest defers a table's plain indexes when the file holds at least
``BULK_MIN_ROWS`` rows and at least as many as the table already has (so the one sort
at the end costs less than what it saves). Unique constraints are never deferred: they
decide duplicates, also between concurrent ingests.

While an index is deferred, reads that would use it are slower, never wrong. A run that
ends in any way but SIGKILL builds its indexes back in a ``finally``; after a SIGKILL,
``ensure_indexes`` (run by ``open_store`` on every start) builds whatever is missing.
"""

from __future__ import annotations

import os

from sqlalchemy import Engine, Index, Table, func, select

from ingest.db.schema import metadata

BULK_MIN_ROWS = 100_000


def plain_indexes(table: Table) -> list[Index]:
    return sorted((ix for ix in table.indexes if not ix.unique), key=lambda ix: str(ix.name))


def estimate_rows(file_bytes: int, sample_rows: int, sample_chars: int) -> int:
    """Records in a file of ``file_bytes`` whose first ``sample_rows`` records took
    about ``sample_chars`` characters."""
    if sample_rows <= 0 or sample_chars <= 0:
        return 0
    return int(file_bytes * sample_rows / sample_chars)


def stored_rows(engine: Engine, table: Table) -> int:
    """About how many rows ``table`` holds (its largest integer key: no table scan)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(table.c.id))).scalar() or 0)


def should_defer(engine: Engine, table: Table, expected_rows: int) -> bool:
    return (
        engine.dialect.name == "sqlite"
        and bool(plain_indexes(table))
        and expected_rows >= BULK_MIN_ROWS
        and expected_rows >= stored_rows(engine, table)
    )


def drop_plain_indexes(engine: Engine, table: Table) -> list[Index]:
    """Drop ``table``'s plain indexes; returns them (to ``build_indexes`` later)."""
    indexes = plain_indexes(table)
    with engine.begin() as conn:
        for ix in indexes:
            ix.drop(conn, checkfirst=True)
    return indexes


# SQLite builds an index by sorting its keys: with the writer's big page cache (see
# ``ingest.writer``) the sort ran about twice as slow as with SQLite's default 2 MB, and
# helper threads for the sort cut its wall time by a fifth (benchmarks/RESULTS.md).
_BUILD_CACHE_KIB = 2_000


def build_indexes(engine: Engine, indexes: list[Index]) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA cache_size = -{_BUILD_CACHE_KIB}")
            conn.exec_driver_sql(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}")
        for ix in indexes:
            ix.create(conn, checkfirst=True)


def ensure_indexes(engine: Engine) -> list[str]:
    """Build every declared index that is missing (after an ingest killed outright in
    a bulk load); returns the names built. SQLite only: nothing else defers indexes."""
    if engine.dialect.name != "sqlite":
        return []
    with engine.connect() as conn:
        present = {
            name
            for (name,) in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index'"
            )
        }
    missing = [
        ix
        for table in metadata.sorted_tables
        for ix in plain_indexes(table)
        if ix.name not in present
    ]
    if missing:
        build_indexes(engine, missing)
    return [str(ix.name) for ix in missing]
