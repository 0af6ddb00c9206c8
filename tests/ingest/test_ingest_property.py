"""Property: random CSV and JSON Lines never make an exception escape the ingest (other
than an InputError for a file that is not the kind asked for), and every row read is
accounted for: inserted, duplicate or quarantined."""

from __future__ import annotations

import csv
import io
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from ingest.db.engine import open_store
from ingest.db.schema import documents, quarantine
from ingest.errors import InputError
from ingest.pipeline import ingest_paths
from ingest.settings import Settings

COLUMNS = [
    "ticket_id",
    "account_id",
    "requester_email",
    "created_at",
    "subject",
    "body",
    "status",
    "priority",
    "csat",
]
_counter = itertools.count()

cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "T1", "T2", "2025-03-01", "2025-03-01T10:00:00Z", "2025-02-30", "=1+1", "4", "9", "a@b.co", " "]),
    st.text(alphabet='",\r\n;\x00\ufeff\u00e9 ', max_size=8),
)  # fmt: skip
rows = st.lists(st.lists(cell, min_size=len(COLUMNS), max_size=len(COLUMNS) + 1), max_size=25)
json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | cell
    | st.just("lone \ud800"),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
record = st.dictionaries(st.sampled_from(COLUMNS + ["x"]), json_value, max_size=10)
line = st.one_of(
    record.map(json.dumps), st.text(max_size=20).filter(lambda s: "\n" not in s and "\r" not in s)
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Settings, Path]:
    base = tmp_path_factory.mktemp("prop")
    s = Settings(database_url=f"sqlite:///{base / 'p.db'}", data_dir=base, max_text_chars=40)
    return open_store(s), s, base


def _totals(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        docs = conn.execute(select(func.count()).select_from(documents)).scalar_one()
        quar = conn.execute(select(func.count()).select_from(quarantine)).scalar_one()
    return int(docs), int(quar)


def _check(store: tuple[Engine, Settings, Path], path: Path, expected_read: int | None) -> None:
    engine, s, _ = store
    before = _totals(engine)
    try:
        out = ingest_paths(engine, "tickets", [path], settings=s, chunk_rows=7)
    except InputError:
        return
    after = _totals(engine)
    assert out.read == out.inserted + out.duplicates + out.rejected
    if expected_read is not None:
        assert out.read == expected_read
    assert after[0] - before[0] == out.inserted
    assert after[1] - before[1] == out.rejected


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=rows, encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
def test_random_csv_rows_are_all_accounted_for(
    store: Any, data: list[list[str]], encoding: str
) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    writer.writerows(data)
    path = store[2] / f"r{next(_counter)}.csv"
    try:
        path.write_bytes(buf.getvalue().encode(encoding))
    except UnicodeEncodeError:
        path.write_bytes(buf.getvalue().encode("utf-8"))
    _check(store, path, expected_read=len(data))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(line, max_size=25))
def test_random_jsonl_lines_are_all_accounted_for(store: Any, lines: list[str]) -> None:
    path = store[2] / f"r{next(_counter)}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _check(store, path, expected_read=sum(1 for x in lines if x.lstrip("\ufeff").strip()))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".jsonl", ".json", ".dat"]))
def test_random_bytes_never_escape(store: Any, payload: bytes, suffix: str) -> None:
    path = store[2] / f"r{next(_counter)}{suffix}"
    path.write_bytes(",".join(COLUMNS).encode() + b"\n" + payload if suffix == ".csv" else payload)
    _check(store, path, expected_read=None)
