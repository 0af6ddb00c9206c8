"""Records that are restated: stored once per key, corrected in place when a later
ingest carries other values for a stored key.

Accounts (an ARR that grew), leads (a lead that became an MQL), spend (a corrected
figure) and experiments (a final read-out) are re-exported with new values under the
same key. ``upsert`` counts each row it is given once, so that ``read = inserted +
duplicates + rejected`` holds:

- *inserted*: a key not stored yet;
- *duplicate*: a key already stored, or given by an earlier row of the same rows (the
  first row of a key wins);
- *updated*, a part of *duplicates* (never also counted as inserted): a stored key whose
  compared values differ; the row replaces it, provenance included.

``ingest.pipeline`` gives it the rows of one chunk after taking out the keys that an
earlier chunk of the same file gave (the first row of a key in a file wins; spend's
repeats with other values are quarantined). New keys go in through ``insert_ignore``, so
two ingests at once insert a key once (the loser counts it as a duplicate). Floats
compare with a relative tolerance of 1e-12.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, select

from ingest.writer import Columns, insert_ignore, python_records

_BATCH = 500


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int = 0  # new keys
    duplicates: int = 0  # stored or repeated keys, the updated ones included
    updated: int = 0  # stored keys corrected in place (a part of duplicates)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return False
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-9)
    return bool(a == b)


def _stored(
    conn: Connection, table: Table, key: tuple[str, ...], keys: list[tuple[Any, ...]]
) -> dict[tuple[Any, ...], Any]:
    # keys that share their leading columns (one source, as a rule) are read by equality
    # on those and IN on the last: an index range scan of the unique index
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for k in keys:
        groups.setdefault(k[:-1], []).append(k[-1])
    last = table.c[key[-1]]
    found: dict[tuple[Any, ...], Any] = {}
    for lead, values in groups.items():
        same = [table.c[c] == v for c, v in zip(key[:-1], lead, strict=True)]
        for start in range(0, len(values), _BATCH):
            where = and_(*same, last.in_(values[start : start + _BATCH]))
            for row in conn.execute(select(table).where(where)):
                found[tuple(getattr(row, k) for k in key)] = row
    return found


def upsert(
    conn: Connection,
    table: Table,
    columns: Columns,
    key: tuple[str, ...],
    compared: tuple[str, ...],
) -> UpsertCounts:
    """Store the rows of ``columns`` by ``key`` (module docstring); returns the counts."""
    records = python_records(columns)
    first: dict[tuple[Any, ...], dict[str, Any]] = {}
    for rec in records:
        first.setdefault(tuple(rec[c] for c in key), rec)  # the first row of a key wins
    existing = _stored(conn, table, key, list(first))
    fresh = [rec for k, rec in first.items() if k not in existing]
    changed = [
        rec
        for k, rec in first.items()
        if k in existing and not all(_same(getattr(existing[k], c), rec[c]) for c in compared)
    ]
    duplicates = len(records) - len(fresh)  # repeats and stored keys, changed ones included
    inserted = 0
    if fresh:
        names = list(columns)
        inserted = insert_ignore(conn, table, {n: [rec[n] for rec in fresh] for n in names})
        duplicates += len(fresh) - inserted
    if changed:
        where = and_(*(table.c[k] == bindparam(f"key_{k}") for k in key))
        names = [c for c in columns if c not in key]
        values = {c: bindparam(f"new_{c}", type_=table.c[c].type) for c in names}
        conn.execute(
            table.update().where(where).values(values),
            [
                {**{f"key_{k}": rec[k] for k in key}, **{f"new_{c}": rec[c] for c in names}}
                for rec in changed
            ],
        )
    return UpsertCounts(inserted, duplicates, len(changed))
