"""Idempotent bulk writes: INSERT .. ON CONFLICT DO NOTHING through the dialect's insert.

Duplicates are decided by the database's unique constraints, never by a check in
Python, so two ingests of the same file at once double nothing. Rows come in
column-oriented form (``{column: list}``) holding Python values (datetime, date, dict,
bool, float with NaN for missing); a JSON column may come as ``JsonText`` (encoded).

On PostgreSQL the rows are COPied into a session-local staging table and moved with one
``INSERT .. SELECT .. ON CONFLICT DO NOTHING`` per chunk. On SQLite the rows go in multi-row
``INSERT .. VALUES (..), (..) .. ON CONFLICT DO NOTHING`` statements of up to
``SQLITE_MAX_PARAMS`` bound values each, with values already in SQLAlchemy's storage
formats: one GIL hand-off per statement instead of one per row (measured alone: within
noise on the 1M-row benchmark). The driver's row count, summed, is the number inserted. Other back ends insert row by row in savepoints.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import JSON, Boolean, Connection, Date, DateTime, Dialect, Table, bindparam
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

Columns = dict[str, Any]  # column -> list of values (or a datetime64 array)
SQLITE_CACHE_KIB = 262_144
# Bound values per SQLite statement: below SQLITE_MAX_VARIABLE_NUMBER (32,766 since
# SQLite 3.32; this project needs 3.35+ for RETURNING anyway).
SQLITE_MAX_PARAMS = 32_000


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


@dataclass
class PreparedInsert:
    """An insert made ready without the connection (so off the writer thread): multi-row
    statements on SQLite, COPY rows on PostgreSQL, Python rows on other back ends."""

    table: Table
    rows: int
    params: list[Any] = field(default_factory=list)
    # SQLite: (statement, flat values) per batch of rows, run with ``execute``
    batches: list[tuple[str, list[Any]]] = field(default_factory=list)
    # PostgreSQL: the columns of ``params`` (row tuples) for COPY, and the column to
    # insert in the order of
    copy_columns: list[str] = field(default_factory=list)
    order_by: str | None = None


def prepare_insert(
    dialect: Dialect, table: Table, columns: Columns, order_by: str | None = None
) -> PreparedInsert:
    """``columns`` as the driver takes them; ``order_by`` names a column to insert in
    the order of."""
    n = row_count(columns)
    names = list(columns)
    if n == 0 or dialect.name not in {"sqlite", "postgresql"}:
        return PreparedInsert(table, n, _python_rows(columns) if n else [])
    data = {c: _driver_column(dialect.name, table, c, columns[c]) for c in names}
    if dialect.name == "postgresql":  # rows for COPY into a staging table; the server sorts
        params = list(zip(*(data[c] for c in names), strict=True))
        return PreparedInsert(table, n, params, copy_columns=names, order_by=order_by)
    stmt = sqlite_insert(table).values({c: bindparam(c) for c in names}).on_conflict_do_nothing()
    compiled = stmt.compile(dialect=dialect)
    cols = [data[c] for c in (compiled.positiontup or names)]
    if order_by is not None and n > 1:
        key = data[order_by]
        pick = itemgetter(*sorted(range(n), key=key.__getitem__))
        cols = [list(pick(col)) for col in cols]
    return PreparedInsert(table, n, [], _sqlite_batches(str(compiled), cols, n))


def _sqlite_batches(sql: str, cols: list[list[Any]], n: int) -> list[tuple[str, list[Any]]]:
    """Multi-row statements from SQLAlchemy's one-row ``INSERT .. VALUES (?, ..) ON
    CONFLICT DO NOTHING``: its value group repeated; every value stays bound. Each
    statement's values are laid out row by row with one slice assignment per column."""
    width = len(cols)
    head, sep, tail = sql.partition(" VALUES ")
    group, close, rest = tail.partition(")")
    assert sep and close and group.count("?") == width, sql
    group += close
    step = max(1, SQLITE_MAX_PARAMS // width)
    statements: dict[int, str] = {}
    out: list[tuple[str, list[Any]]] = []
    for start in range(0, n, step):
        rows = min(step, n - start)
        if rows not in statements:
            statements[rows] = f"{head}{sep}{', '.join([group] * rows)}{rest}"
        flat: list[Any] = [None] * (rows * width)
        for j, col in enumerate(cols):
            flat[j::width] = col[start : start + rows]
        out.append((statements[rows], flat))
    return out


def _copy_insert(conn: Connection, prepared: PreparedInsert) -> int:
    """PostgreSQL: COPY the rows into a session-local staging table, then one
    ``INSERT .. SELECT .. ON CONFLICT DO NOTHING`` (the unique constraints still decide
    duplicates, also between concurrent ingests). COPY streams the values; binding them
    statement by statement cost the driver several times more. Identifiers come from
    the schema, every value travels in the COPY stream."""
    quote = conn.dialect.identifier_preparer.quote
    target = quote(prepared.table.name)
    stage = quote(f"undertow_stage_{prepared.table.name}")
    cols = ", ".join(quote(c) for c in prepared.copy_columns)
    order = f" ORDER BY {quote(prepared.order_by)}" if prepared.order_by else ""
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS"  # noqa: S608
            f" AS SELECT {cols} FROM {target} WITH NO DATA"
        )
        cur.execute(f"TRUNCATE {stage}")
        with cur.copy(f"COPY {stage} ({cols}) FROM STDIN") as copy:
            for row in prepared.params:
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
    if prepared.batches:
        # random-key index inserts want a bigger cache than SQLite's default 2 MB
        conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            return sum(cursor.execute(sql, values).rowcount for sql, values in prepared.batches)
        finally:
            cursor.close()
    if prepared.copy_columns:
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
