"""Idempotent bulk writes: INSERT .. ON CONFLICT DO NOTHING through the dialect's insert.

Duplicates are decided by the database's unique constraints, never by a check in
Python, so two ingests of the same file at once double nothing. Rows come in
column-oriented form (``{column: list}``) holding Python values (datetime, date, dict,
bool, float with NaN for missing).

On SQLite the statement is compiled once and run through the driver's ``executemany``
with values already in SQLAlchemy's SQLite storage format (the fast path the ingest
benchmark measures); the driver's row count is the number inserted. Elsewhere
(PostgreSQL) the statement runs through SQLAlchemy with ``RETURNING`` of the key, and
the returned rows are the ones inserted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, Date, DateTime, Table, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

Columns = dict[str, list[Any]]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _sqlite_column(table: Table, name: str, values: list[Any]) -> list[Any]:
    ctype = table.c[name].type
    if isinstance(ctype, DateTime):
        return [None if _missing(v) else v.strftime("%Y-%m-%d %H:%M:%S.%f") for v in values]
    if isinstance(ctype, Date):
        return [None if _missing(v) else v.strftime("%Y-%m-%d") for v in values]
    if isinstance(ctype, JSON):
        return [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
    if isinstance(ctype, Boolean):
        return [None if _missing(v) else int(bool(v)) for v in values]
    return [None if _missing(v) else v for v in values]


def _python_rows(columns: Columns) -> list[dict[str, Any]]:
    names = list(columns)
    out = []
    for values in zip(*(columns[n] for n in names), strict=True):
        out.append({n: (None if _missing(v) else v) for n, v in zip(names, values, strict=True)})
    return out


def row_count(columns: Columns) -> int:
    return len(next(iter(columns.values()))) if columns else 0


def insert_ignore(conn: Connection, table: Table, columns: Columns) -> int:
    """Insert the rows, skipping any that a unique constraint rejects; returns how many
    were inserted."""
    n = row_count(columns)
    if n == 0:
        return 0
    names = list(columns)
    if conn.dialect.name == "sqlite":
        stmt = (
            sqlite_insert(table).values({c: bindparam(c) for c in names}).on_conflict_do_nothing()
        )
        compiled = stmt.compile(dialect=conn.dialect)
        order = compiled.positiontup or names
        data = {c: _sqlite_column(table, c, columns[c]) for c in names}
        params = list(zip(*(data[c] for c in order), strict=True))
        result = conn.exec_driver_sql(str(compiled), params)
        return int(result.rowcount)
    if conn.dialect.name == "postgresql":
        key = list(table.primary_key.columns)[0]
        returning = pg_insert(table).on_conflict_do_nothing().returning(key)
        return len(conn.execute(returning, _python_rows(columns)).all())
    inserted = 0  # any other back end: row by row, duplicates by the unique constraints
    for row in _python_rows(columns):
        with conn.begin_nested():
            try:
                conn.execute(table.insert(), row)
                inserted += 1
            except Exception:  # noqa: BLE001 - an integrity error means "already there"
                pass
    return inserted


def to_python(values: Sequence[Any]) -> list[Any]:
    """numpy / pandas scalars -> Python values (NaT/NaN -> None)."""
    out: list[Any] = []
    for v in values:
        if v is None:
            out.append(None)
        elif hasattr(v, "to_pydatetime"):
            out.append(None if v != v else v.to_pydatetime())
        elif isinstance(v, float) and math.isnan(v):
            out.append(None)
        elif hasattr(v, "item"):
            out.append(v.item())
        else:
            out.append(v)
    return out
