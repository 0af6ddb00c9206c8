"""Idempotent bulk writes: INSERT .. ON CONFLICT DO NOTHING through the dialect's insert.

Duplicates are decided by the database's unique constraints, never by a check in
Python, so two ingests of the same file at once double nothing. Rows come in
column-oriented form (``{column: list}``) holding Python values (datetime, date, dict,
bool, float with NaN for missing); a JSON column may come as ``JsonText`` (encoded).

On SQLite and PostgreSQL the dialect's statement is compiled once and run through the
driver's ``executemany`` (SQLite with values already in SQLAlchemy's storage formats;
psycopg batches in pipeline mode); the driver's row count, summed over the rows, is the
number inserted. Other back ends insert row by row in savepoints.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import JSON, Boolean, Connection, Date, DateTime, Dialect, Table, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

Columns = dict[str, Any]  # column -> list of values (or a datetime64 array)
SQLITE_CACHE_KIB = 262_144


_JSON = json.JSONEncoder(ensure_ascii=False, default=str)
_STR = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _json(value: Any) -> str:
    """JSON text; flat dicts of strings (account_ref, attrs) take a fast path."""
    if type(value) is dict and all(type(v) is str for v in value.values()):
        return "{" + ", ".join(f"{_STR(k)}: {_STR(v)}" for k, v in value.items()) + "}"
    return _JSON.encode(value)


class JsonText(list):  # type: ignore[type-arg]
    """A JSON column whose values are JSON text already (or None): written as they are,
    without building and encoding a dict per row."""


def json_objects(fields: dict[str, list[str]]) -> JsonText:
    """Per row a JSON object of the non-empty string ``fields`` in their order (None
    where all are empty), as ``json.dumps`` writes it. Built column by column: one
    encoded '"key": value' member list per field, then one join per row."""
    members = [[f"{_STR(k)}: {_STR(v)}" if v else "" for v in vals] for k, vals in fields.items()]
    return JsonText(
        "{" + body + "}" if (body := ", ".join(filter(None, parts))) else None
        for parts in zip(*members, strict=True)
    )


def _plain(values: Any) -> list[Any]:
    """A column as Python values: datetime64 arrays become datetime/None, NaN None,
    JSON text the value it encodes."""
    if isinstance(values, JsonText):
        return [None if v is None else json.loads(v) for v in values]
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        objs = values.astype("datetime64[us]").astype(object)
        objs[np.isnat(values)] = None
        return list(objs)
    return [None if isinstance(v, float) and math.isnan(v) else v for v in values]


def _driver_column(dialect: str, table: Table, name: str, values: Any) -> list[Any]:
    """Values as the driver takes them: SQLite gets SQLAlchemy's storage formats."""
    ctype = table.c[name].type
    if isinstance(ctype, JSON):
        if isinstance(values, JsonText):
            return values
        return [None if v is None else _json(v) for v in values]
    if isinstance(ctype, DateTime | Date) and isinstance(values, np.ndarray):
        is_date = not isinstance(ctype, DateTime)
        if dialect == "sqlite":
            strs = np.datetime_as_string(values, unit="D" if is_date else "us").tolist()
            if is_date:
                return [None if v == "NaT" else v for v in strs]
            return [None if v == "NaT" else v.replace("T", " ") for v in strs]
        objs = _plain(values)
        return [v.date() if is_date and v is not None else v for v in objs]
    if dialect == "sqlite" and isinstance(ctype, DateTime | Date):
        fmt = "%Y-%m-%d %H:%M:%S.%f" if isinstance(ctype, DateTime) else "%Y-%m-%d"
        return [None if v is None else v.strftime(fmt) for v in values]
    if dialect == "sqlite" and isinstance(ctype, Boolean):
        return [None if v is None else int(bool(v)) for v in values]
    return values if isinstance(values, list) else _plain(values)


def _python_rows(columns: Columns) -> list[dict[str, Any]]:
    names = list(columns)
    plain = [_plain(columns[n]) for n in names]
    return [dict(zip(names, vals, strict=True)) for vals in zip(*plain, strict=True)]


def row_count(columns: Columns) -> int:
    return len(next(iter(columns.values()))) if columns else 0


def sort_rows(columns: Columns, key: str) -> Columns:
    """The rows ordered by ``key``. Inserting in the order of a random-valued index
    (a hash) touches its B-tree pages in sequence: about half the cost on SQLite."""
    order = sorted(range(row_count(columns)), key=columns[key].__getitem__)
    return {
        name: values[order] if isinstance(values, np.ndarray) else [values[i] for i in order]
        for name, values in columns.items()
    }


@dataclass
class PreparedInsert:
    """An insert made ready without the connection (so off the writer thread): driver
    SQL and parameters on SQLite and PostgreSQL, Python rows on other back ends."""

    table: Table
    rows: int
    sql: str | None = None
    params: list[Any] = field(default_factory=list)


def prepare_insert(
    dialect: Dialect, table: Table, columns: Columns, order_by: str | None = None
) -> PreparedInsert:
    """``columns`` as the driver takes them; ``order_by`` names a column to insert in
    the order of."""
    n = row_count(columns)
    names = list(columns)
    if n == 0 or dialect.name not in {"sqlite", "postgresql"}:
        return PreparedInsert(table, n, None, _python_rows(columns) if n else [])
    dml = sqlite_insert if dialect.name == "sqlite" else pg_insert
    stmt = dml(table).values({c: bindparam(c) for c in names}).on_conflict_do_nothing()
    compiled = stmt.compile(dialect=dialect)
    data = {c: _driver_column(dialect.name, table, c, columns[c]) for c in names}
    params: list[Any]
    if compiled.positional:  # SQLite: plain tuples, sorted once (not column by column)
        order = list(compiled.positiontup or names)
        params = list(zip(*(data[c] for c in order), strict=True))
        if order_by is not None:
            params.sort(key=itemgetter(order.index(order_by)))
    else:
        if order_by is not None:
            data = sort_rows(data, order_by)
        params = [
            dict(zip(names, vals, strict=True))
            for vals in zip(*(data[c] for c in names), strict=True)
        ]
    return PreparedInsert(table, n, str(compiled), params)


def run_insert(conn: Connection, prepared: PreparedInsert) -> int:
    """Run a prepared insert, skipping rows a unique constraint rejects; returns how
    many were inserted."""
    if prepared.rows == 0:
        return 0
    if prepared.sql is not None:
        if conn.dialect.name == "sqlite":  # random-key index inserts want a bigger cache
            conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        return int(conn.exec_driver_sql(prepared.sql, prepared.params).rowcount)
    inserted = 0  # any other back end: row by row, duplicates by the unique constraints
    for row in prepared.params:
        with conn.begin_nested():
            try:
                conn.execute(prepared.table.insert(), row)
                inserted += 1
            except Exception:  # noqa: BLE001 - an integrity error means "already there"
                pass
    return inserted


def insert_ignore(
    conn: Connection, table: Table, columns: Columns, order_by: str | None = None
) -> int:
    """Insert the rows, skipping any that a unique constraint rejects; returns how many
    were inserted. ``order_by`` names a column to insert in the order of."""
    return run_insert(conn, prepare_insert(conn.dialect, table, columns, order_by))
