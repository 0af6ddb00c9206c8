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

Concurrent bulk loads of one table are safe: drops and builds are ``DROP INDEX IF
EXISTS`` / ``CREATE INDEX IF NOT EXISTS``, decided by SQLite under its write lock (a
separate "does it exist?" check raced: two loads ending together both found the index
missing and the second failed with "index ... already exists"). Whichever load ends
first builds the indexes; the other's rows then go through them. A build that fails
anyway never fails the load whose rows are committed: it is logged, and the next
``open_store`` builds what is missing.
"""

from __future__ import annotations

import logging
import os

from sqlalchemy import Engine, Index, Table, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import CreateIndex, DropIndex

from ingest.db.schema import metadata

BULK_MIN_ROWS = 100_000
log = logging.getLogger(__name__)


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
            conn.execute(DropIndex(ix, if_exists=True))
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
            conn.execute(CreateIndex(ix, if_not_exists=True))


def rebuild_after_load(engine: Engine, indexes: list[Index]) -> None:
    """``build_indexes`` at the end of a bulk load, whose rows are committed: a failure
    is logged, never raised (``ensure_indexes`` builds what is missing at the next start)."""
    try:
        build_indexes(engine, indexes)
    except SQLAlchemyError as exc:
        log.warning("indexes %s not rebuilt after a bulk load (%s); the next start builds them",
                    [str(ix.name) for ix in indexes], exc)  # fmt: skip


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
