"""Idempotent bulk writes: INSERT .. ON CONFLICT DO NOTHING through the dialect's insert.

Duplicates are decided by the database's unique constraints, never by a check in
Python, so two ingests of the same file at once double nothing. Rows come in
column-oriented form (``{column: list}``) holding Python values (datetime, date, dict,
bool, float with NaN for missing); a JSON column may come as ``JsonText`` (encoded).

A prepared insert holds one list of values per column, already in the driver's terms,
so that a worker process can build it and ship it compactly (``ingest.column_frames``).
On PostgreSQL the rows are COPied into a session-local staging table and moved with one
``INSERT .. SELECT .. ON CONFLICT DO NOTHING`` per chunk. On SQLite the rows go through
one ``INSERT .. VALUES (?, ..) ON CONFLICT DO NOTHING`` by ``executemany`` over the
zipped columns, with values already in SQLAlchemy's storage formats (it took 10-20% less
CPU than multi-row ``VALUES (..), (..)`` statements at 1M rows, and needs no flattening);
its row count is the number inserted. Other back ends insert row by row in savepoints.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    DateTime,
    Dialect,
    Table,
    UniqueConstraint,
    bindparam,
)
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
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


class _Memo(dict):  # type: ignore[type-arg]
    """``memo[key]`` is ``build(key)``, built once per distinct key."""

    def __init__(self, build: Any) -> None:
        super().__init__()
        self._build = build

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self._build(key)
        return value


def json_objects(fields: dict[str, list[str]]) -> JsonText:
    """Per row a JSON object of the non-empty string ``fields`` in their order (None
    where all are empty), as ``json.dumps`` writes it. Such objects repeat (a ticket's
    status and priority, a record's account keys): each distinct row is encoded once
    and looked up by a C-level ``map`` after (about 100 ns a row instead of 400+)."""
    heads = [f"{_STR(k)}: " for k in fields]

    def build(row: tuple[str, ...]) -> str | None:
        body = ", ".join(head + _STR(v) for head, v in zip(heads, row, strict=True) if v)
        return "{" + body + "}" if body else None

    return JsonText(map(_Memo(build).__getitem__, zip(*fields.values(), strict=True)))


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
        # SQLAlchemy's SQLite storage format, which PostgreSQL's COPY reads as well
        is_date = not isinstance(ctype, DateTime)
        strs = np.datetime_as_string(values, unit="D" if is_date else "us").tolist()
        if is_date:
            return [None if v == "NaT" else v for v in strs]
        return [None if v == "NaT" else v.replace("T", " ") for v in strs]
    if dialect == "sqlite" and isinstance(ctype, DateTime | Date):
        fmt = "%Y-%m-%d %H:%M:%S.%f" if isinstance(ctype, DateTime) else "%Y-%m-%d"
        return [None if v is None else v.strftime(fmt) for v in values]
    if dialect == "sqlite" and isinstance(ctype, Boolean):
        return [None if v is None else int(bool(v)) for v in values]
    return values if isinstance(values, list) else _plain(values)


def python_records(columns: Columns) -> list[dict[str, Any]]:
    """The rows of ``columns`` as dicts of Python values (``_plain``)."""
    names = list(columns)
    plain = [_plain(columns[n]) for n in names]
    return [dict(zip(names, vals, strict=True)) for vals in zip(*plain, strict=True)]


def row_count(columns: Columns) -> int:
    return len(next(iter(columns.values()))) if columns else 0


def take_rows(columns: Columns, keep: list[int]) -> Columns:
    """The rows ``keep`` (positions, in order) of ``columns``, each column of its kind
    (a datetime64 array stays an array, JSON text stays JSON text)."""
    out: Columns = {}
    for name, values in columns.items():
        if isinstance(values, np.ndarray):
            out[name] = values[np.asarray(keep, dtype=np.int64)]
        elif isinstance(values, JsonText):
            out[name] = JsonText(values[i] for i in keep)
        else:
            out[name] = [values[i] for i in keep]
    return out


@dataclass
class PreparedInsert:
    """An insert made ready without the connection (so off the writer thread, or in a
    worker process): on SQLite and PostgreSQL the values of each column, as the driver
    takes them and in insert order; on other back ends Python rows."""

    table: Table
    rows: int
    names: list[str] = field(default_factory=list)
    columns: list[list[Any]] = field(default_factory=list)  # aligned with ``names``
    params: list[dict[str, Any]] = field(default_factory=list)  # other back ends
    order_by: str | None = None
    # SQLite: the positions of the rows in insert order (``order_by``), applied by the
    # writer: gathering values in a worker, whose objects lie all over its heap, cost
    # more than in the writer, which unpacks each column into fresh, adjacent objects
    order: list[int] | None = None


def prepare_insert(
    dialect: Dialect, table: Table, columns: Columns, order_by: str | None = None
) -> PreparedInsert:
    """``columns`` as the driver takes them, rows in file order. ``order_by`` names a
    column to insert in the order of (SQLite: neighbouring keys share index pages;
    PostgreSQL: the server sorts) where that changes nothing: see ``_order_is_free``."""
    n = row_count(columns)
    names = list(columns)
    if n == 0 or dialect.name not in {"sqlite", "postgresql"}:
        return PreparedInsert(table, n, params=python_records(columns) if n else [])
    if dialect.name == "sqlite":
        names = list(_sqlite_statement(table, tuple(names))[1])
    data = [_driver_column(dialect.name, table, c, columns[c]) for c in names]
    if order_by is None or n < 2 or not _order_is_free(table, names, data, order_by):
        return PreparedInsert(table, n, names, data)
    order = None
    if dialect.name == "sqlite":
        key = data[names.index(order_by)]
        order = sorted(range(n), key=key.__getitem__)  # stable: ties keep file order
    return PreparedInsert(table, n, names, data, order_by=order_by, order=order)


def _order_is_free(table: Table, names: list[str], data: list[list[Any]], order_by: str) -> bool:
    """Whether inserting in ``order_by`` order stores what file order stores: the first
    row of the file wins every unique key. A stable sort keeps that for keys holding
    ``order_by``; any other unique key must not repeat within the chunk (two rows of
    one ticket id with different texts: which one is stored must not depend on their
    hashes, or on where a chunk happens to end)."""
    n = len(data[0])
    for constraint in table.constraints:
        if not isinstance(constraint, UniqueConstraint) or order_by in constraint.columns:
            continue
        cols = [data[names.index(c.name)] for c in constraint.columns if c.name in names]
        varying = [col for col in cols if col.count(col[0]) != n]
        if not varying:
            return False  # one key for every row: the rows are all duplicates of one
        keys = varying[0] if len(varying) == 1 else list(zip(*varying, strict=True))
        if len(set(keys)) != n:
            return False
    return True


@lru_cache(maxsize=64)
def _sqlite_statement(table: Table, names: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """SQLite's one-row ``INSERT .. VALUES (?, ..) ON CONFLICT DO NOTHING`` of ``names``
    (run with ``executemany`` over the rows), and the order of its parameters."""
    stmt = sqlite_insert(table).values({c: bindparam(c) for c in names}).on_conflict_do_nothing()
    compiled = stmt.compile(dialect=sqlite_dialect())
    return str(compiled), tuple(compiled.positiontup or names)


def _copy_insert(conn: Connection, prepared: PreparedInsert) -> int:
    """PostgreSQL: COPY the rows into a session-local staging table, then one
    ``INSERT .. SELECT .. ON CONFLICT DO NOTHING`` (the unique constraints still decide
    duplicates, also between concurrent ingests). COPY streams the values; binding them
    statement by statement cost the driver several times more. Identifiers come from
    the schema, every value travels in the COPY stream."""
    quote = conn.dialect.identifier_preparer.quote
    target = quote(prepared.table.name)
    stage = quote(f"undertow_stage_{prepared.table.name}")
    cols = ", ".join(quote(c) for c in prepared.names)
    order = f" ORDER BY {quote(prepared.order_by)}" if prepared.order_by else ""
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS"  # noqa: S608
            f" AS SELECT {cols} FROM {target} WITH NO DATA"
        )
        cur.execute(f"TRUNCATE {stage}")
        with cur.copy(f"COPY {stage} ({cols}) FROM STDIN") as copy:
            for row in zip(*prepared.columns, strict=True):
                copy.write_row(row)
        cur.execute(
            f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {stage}{order}"  # noqa: S608
            " ON CONFLICT DO NOTHING"
        )
        return int(cur.rowcount)
    finally:
        cur.close()


def run_insert(conn: Connection, prepared: PreparedInsert) -> int:
    """Run a prepared insert, skipping rows a unique constraint rejects; returns how
    many were inserted."""
    if prepared.rows == 0:
        return 0
    if prepared.columns and conn.dialect.name == "sqlite":
        # random-key index inserts want a bigger cache than SQLite's default 2 MB
        conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        sql, order = _sqlite_statement(prepared.table, tuple(prepared.names))
        assert list(order) == prepared.names, "columns not in the statement's order"
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        columns: list[Any] = prepared.columns
        if prepared.order is not None:
            pick = itemgetter(*prepared.order)  # n > 1: a tuple per column
            columns = [pick(col) for col in columns]
        try:
            return int(cursor.executemany(sql, zip(*columns, strict=True)).rowcount)
        finally:
            cursor.close()
    if prepared.columns:
        return _copy_insert(conn, prepared)
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
