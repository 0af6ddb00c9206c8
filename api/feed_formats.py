"""Feeds as files. The finance feed is rendered here once for every door (``GET
/v1/churn-risk`` in CSV or Parquet, ``/ui/finance/churn-risk.csv``, ``undertow export
churn-risk``), with the one column list ``risk.feeds.CHURN_COLUMNS``; the funnel's
downloads (``api.routers.funnel``) use the same writers.

CSV text cells that a spreadsheet would read as a formula (starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return) are prefixed with a single quote (the OWASP advice
against CSV injection), in Parquet too; numbers are written as numbers, untouched, and
Parquet keeps dates as dates. A non-finite number (never stored by a fit; a second line
of defence) is written as an empty cell / null.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from risk.feeds import CHURN_COLUMNS

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
MEDIA_TYPES = {"json": "application/json", "csv": CSV_MEDIA_TYPE, "parquet": PARQUET_MEDIA_TYPE}


def neutralize(value: Any) -> Any:
    """A cell value a spreadsheet cannot execute (and no NaN or infinity)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _cells(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    return [{c: neutralize(row.get(c)) for c in columns} for row in rows]


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in _cells(rows, columns):
        writer.writerow(["" if row[c] is None else row[c] for c in columns])
    return buf.getvalue().encode("utf-8")


def _typed_cell(value: Any) -> Any:
    """A Parquet cell: dates keep their type (Parquet has one), the rest as ``neutralize``."""
    return value if isinstance(value, datetime | date) else neutralize(value)


def to_parquet(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> bytes:
    """Text neutralised as in CSV and non-finite numbers null; dates and numbers keep
    their Parquet types."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({c: [_typed_cell(row.get(c)) for row in rows] for c in columns})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def to_json(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> bytes:
    return (json.dumps(_cells(rows, columns), allow_nan=False) + "\n").encode("utf-8")


def render_feed(rows: Sequence[dict[str, Any]], fmt: str) -> bytes:
    """The churn feed's rows (``risk.feeds.churn_risk_page``) as a ``fmt`` file."""
    render = {"csv": to_csv, "parquet": to_parquet, "json": to_json}[fmt]
    return render(rows, CHURN_COLUMNS)
