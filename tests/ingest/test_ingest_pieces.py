"""Big files are read in pieces by worker processes (``ingest.pieces``): whatever the
bytes, the records, their lines and the rejected rows are exactly those of a plain
front-to-back read; a piece cut at a guessed boundary is caught and the rest is read in
order. Prepared chunks travel in compact column frames (``ingest.column_frames``) that
decode to equal lists.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from stored_contents import stored_contents

import ingest.pipeline as pipeline
from ingest import column_frames, pieces
from ingest.db.engine import open_store
from ingest.readers import RawChunk, Resume, open_source, read_chunks
from ingest.settings import Settings
from ingest.workers import unpack

_n = itertools.count()


def _front_to_back(path: Path) -> tuple[list[Any], list[Any]]:
    rows, bad = [], []
    for chunk in read_chunks(open_source(path), chunk_rows=7):
        rows += list(zip(chunk.lines, chunk.rows, strict=True))
        bad += [(b.line, b.raw, b.reason) for b in chunk.bad]
    return rows, bad


def _in_pieces(path: Path, piece_bytes: int) -> tuple[list[Any], list[Any], str]:
    """What the pipeline does with pieces, one after another: (rows, bad, how it ended)."""
    src = open_source(path)
    lay = pieces.layout(src, 0)
    if lay is None:  # not to be cut: the pipeline reads it front to back
        return (*_front_to_back(path), "whole")
    rows: list[Any] = []
    bad: list[Any] = []

    def take(chunk: RawChunk) -> None:
        rows.extend(zip(chunk.lines, chunk.rows, strict=True))
        bad.extend((b.line, b.raw, b.reason) for b in chunk.bad)

    for item in pieces.plan(lay, itertools.repeat(piece_bytes)):
        start = item if isinstance(item, Resume) else None
        if start is None:
            got = pieces.read_piece(lay, item)
            if got.clean:
                take(got.chunk)
                continue
            start = Resume(item.offset, item.line, lay.start.header, lay.start.delimiter)
        for chunk in read_chunks(src, 7, resume=start):
            take(chunk)
        return rows, bad, "read on"
    return rows, bad, "pieces"


CELLS = ["plain", "", "5\" screen", '"two\nlines"', '"a ""quoted"" word"', '"x\r\ny"',
         "caf\u00e9", '"comma, inside"', "\u20ac", '"unterminated']  # fmt: skip
ENDS = ["\n", "\r\n", "\r", "\n\n"]


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    lines = ["id,body,extra" + draw(st.sampled_from(ENDS))]
    for i in range(draw(st.integers(1, 40))):
        cells = [str(i)] + draw(st.lists(st.sampled_from(CELLS), min_size=1, max_size=3))
        lines.append(",".join(cells) + draw(st.sampled_from(ENDS)))
    text = "".join(lines)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no line end after the last record
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return text.encode(encoding)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=csv_files(), piece_bytes=st.integers(1, 200))
def test_csv_pieces_read_what_a_front_to_back_read_does(
    tmp_path: Path, data: bytes, piece_bytes: int
) -> None:
    path = tmp_path / f"p{next(_n)}.csv"
    path.write_bytes(data)
    rows, bad, _ = _in_pieces(path, piece_bytes)
    assert (rows, bad) == _front_to_back(path)


def test_a_stray_quote_is_caught_and_the_rest_read_in_order(tmp_path: Path) -> None:
    # the stray quote of row 3 makes every later quote count look shifted: a guessed
    # boundary inside the quoted newline of row 5 must not split that record
    body = ["1,ok", "2,ok", '3,5" screen', "4,ok", '5,"two\nlines"', "6,ok", '7,"a\nb"', "8,end"]
    path = tmp_path / "stray.csv"
    path.write_text("id,body\n" + "\n".join(body) + "\n")
    outcomes = {_in_pieces(path, size)[2] for size in range(1, 100)}
    assert outcomes == {"pieces", "read on"}  # caught when cut; one piece when not
    for size in range(1, 100):
        rows, bad, _ = _in_pieces(path, size)
        assert (rows, bad) == _front_to_back(path), size
    assert [line for line, _ in _front_to_back(path)[0]] == [2, 3, 4, 5, 6, 8, 9, 11]


def test_jsonl_pieces_keep_lines_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    lines = [json.dumps({"n": i, "t": "x\ny"}) if i % 5 else "not json" for i in range(60)]
    path.write_bytes("\r\n".join(lines).encode() + b"\n\n")
    for size in (1, 17, 90, 10_000):
        rows, bad, how = _in_pieces(path, size)
        assert how == "pieces"
        assert (rows, bad) == _front_to_back(path)


def test_files_that_cannot_be_cut_are_read_front_to_back(tmp_path: Path) -> None:
    utf16 = tmp_path / "u.csv"
    utf16.write_text("id,body\n1,x\n", encoding="utf-16")
    one_json = tmp_path / "a.json"
    one_json.write_text('[{"id": 1}]')
    header_only = tmp_path / "h.csv"
    header_only.write_text("id,body\n")
    for path in (utf16, one_json, header_only):
        assert pieces.layout(open_source(path), 0) is None


HEADER = "ticket_id,account_id,requester_email,created_at,subject,body,status,priority,csat\n"


def _tickets(path: Path, n: int) -> Path:
    rows = []
    for i in range(n):
        body = f'"Export fails, call +1 555 123 {1000 + i}\nsecond line"' if i % 3 else f"text {i}"
        if i % 11 == 0:
            body = 'our 27" monitor shows nothing'  # a stray quote: pieces fall back
        date = "2025-02-30" if i % 17 == 0 else f"2025-03-{1 + i % 28:02d}T09:00:00Z"
        rows.append(
            f"T{i % 280},A{i % 9},u{i % 13}@firm{i % 9}.com,{date},S,{body},open,,{i % 6}\n"
        )
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def test_workers_reading_pieces_store_what_one_process_stores(
    tmp_path: Path, engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_ROWS", 10)
    read_on: list[Any] = []
    real_read = pipeline.read_chunks

    def spying(*args: Any, **kw: Any) -> Any:
        if kw.get("resume") is not None:
            read_on.append(kw["resume"])
        return real_read(*args, **kw)

    monkeypatch.setattr(pipeline, "read_chunks", spying)
    path = _tickets(tmp_path / "t.csv", 400)
    out = pipeline.ingest_paths(engine, "tickets", [path], settings=settings, chunk_rows=30,
                                workers=2)  # fmt: skip
    assert read_on, "the stray quotes should have sent the rest of the file front to back"
    solo = Settings(database_url=f"sqlite:///{tmp_path / 'solo.db'}", data_dir=tmp_path / "s")
    other = open_store(solo)
    try:
        ref = pipeline.ingest_paths(other, "tickets", [path], settings=solo, workers=0)
        for name in ("read", "inserted", "duplicates", "rejected", "unresolved"):
            assert getattr(out, name) == getattr(ref, name), name
        assert out.read == 400 and out.rejected > 0 and out.duplicates > 0
        assert stored_contents(engine) == stored_contents(other)
    finally:
        other.dispose()


column = st.one_of(
    st.lists(st.one_of(st.none(), st.text(alphabet="ab\x00\u00e9 ", max_size=4)), max_size=8),
    st.lists(st.one_of(st.none(), st.integers(), st.floats(allow_nan=False)), max_size=8),
    st.lists(st.sampled_from(["same"]), max_size=8),
    st.lists(st.one_of(st.none(), st.booleans(), st.text(max_size=2)), max_size=8),
)


@given(st.lists(column, max_size=5))
def test_column_frames_decode_to_equal_lists(columns: list[list[Any]]) -> None:
    back = column_frames.decode(column_frames.encode(columns))
    assert back == columns
    assert [[type(v) for v in c] for c in back] == [[type(v) for v in c] for c in columns]


def test_a_prepared_chunk_travels_as_marshal_not_pickle(tmp_path: Path, engine: Engine) -> None:
    # pickle cost workers about 4 us a row more: a str subclass (SQLAlchemy's table name)
    # once sent every chunk down that path without anyone noticing
    from ingest.mapping import identity_mapping
    from ingest.records import spec_for

    path = _tickets(tmp_path / "t.csv", 50)
    spec = spec_for("tickets")
    ctx = pipeline._Context(spec, identity_mapping(spec), "csv", str(path), None, 20_000,
                            pipeline.AccountIndex(), engine.dialect)  # fmt: skip
    chunk = next(read_chunks(open_source(path)))
    blob = pipeline._packed(pipeline._prepare_chunk(ctx, chunk))
    assert blob[:1] == b"M"
    prep = pipeline._prepared_from(blob)
    assert prep.insert is not None and prep.insert.rows == prep.accepted > 0
    rating = prep.insert.columns[prep.insert.names.index("rating")]
    assert any(isinstance(v, float) and not math.isnan(v) for v in rating)
    assert unpack(blob)[0] == chunk.size
