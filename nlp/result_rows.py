"""Writing model results to the store idempotently, from the driver or from a worker.

Every result table is keyed (``sentiment_scores`` on text and model version,
``aspect_scores`` on text, version and aspect, ``channel_labels`` on document, version
and channel), and rows are inserted with "on conflict do nothing": a batch written twice
(a rerun after a crash, a retried worker whose first try had committed) stores nothing
twice and fails nothing. One batch is one transaction, so a text's rows are all there or
none are.

``RowWriter`` is what a worker carries when it writes itself (PostgreSQL, which every node
can reach): a picklable table name and database URL; its engine is opened once per
process. With SQLite the driver writes (one file, one writer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Table, insert

from ingest.db import schema

_ENGINES: dict[str, Engine] = {}  # one pool per database URL in a worker process


def insert_ignoring_duplicates(engine: Engine, table: Table) -> Any:
    """INSERT that skips rows whose key is already stored (SQLite and PostgreSQL)."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    if engine.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing()
    return insert(table)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python values (numpy scalars and NaN would reach the driver as such)."""
    cleaned = frame.astype(object).where(frame.notna(), None)
    return cleaned.to_dict("records")  # type: ignore[return-value]


def write_rows(
    engine: Engine, table: Table, frame: pd.DataFrame, *, stamp: str | None = None
) -> int:
    """Insert ``frame`` into ``table`` in one transaction, skipping stored keys; ``stamp``
    names a timestamp column set to now. Returns the rows offered."""
    if frame.empty:
        return 0
    rows = records(frame)
    if stamp:
        now = datetime.now(UTC).replace(tzinfo=None)
        for row in rows:
            row[stamp] = now
    with engine.begin() as conn:
        conn.execute(insert_ignoring_duplicates(engine, table), rows)
    return len(rows)


@dataclass(frozen=True)
class RowWriter:
    """Writes result frames of one table from a worker process (see the module doc)."""

    database_url: str
    table: str
    stamp: str | None = None

    def __call__(self, frame: pd.DataFrame) -> int:
        engine = _ENGINES.get(self.database_url)
        if engine is None:
            from ingest.db.engine import make_engine

            engine = _ENGINES[self.database_url] = make_engine(self.database_url)
        return write_rows(engine, schema.metadata.tables[self.table], frame, stamp=self.stamp)
