"""Bulk loads into SQLite: plain indexes deferred and built after the load, never lost.

The threshold (``ingest.bulk.BULK_MIN_ROWS``) is lowered so that small files take the
bulk path; the decision itself (file rows vs stored rows) is the real one.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select, text

import ingest.bulk
import ingest.pipeline as pipeline
from api.cli import cli
from ingest.db.engine import open_store
from ingest.db.schema import documents
from ingest.settings import Settings

HEADER = "ticket_id,account_id,requester_email,created_at,subject,body,status,priority,csat\n"
PLAIN = {"ix_documents_account_created", "ix_documents_text_hash"}


def _tickets(path: Path, start: int, n: int) -> Path:
    rows = [
        f"T{i},A{i % 7},u{i}@firm{i % 7}.com,2025-03-{1 + i % 28:02d}T10:00:00Z,Subject {i},"
        f"Body number {i} about the export,open,low,{1 + i % 5}\n"
        for i in range(start, start + n)
    ]
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def _indexes(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {
            r[0]
            for r in conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'documents'"
                )
            )
        }


@pytest.fixture
def sqlite_store(tmp_path: Path) -> tuple[Engine, Settings]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'bulk.db'}", data_dir=tmp_path / "d")
    engine = open_store(settings)
    yield engine, settings
    engine.dispose()


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Lower the bulk threshold; record index drops and whether the collector ran."""
    seen: dict[str, Any] = {"dropped": [], "gc_during": set()}
    monkeypatch.setattr(ingest.bulk, "BULK_MIN_ROWS", 50)
    drop = pipeline.drop_plain_indexes

    def dropping(engine: Engine, table: Any) -> Any:
        out = drop(engine, table)
        seen["dropped"].append(sorted(str(ix.name) for ix in out))
        seen["present_while_loading"] = _indexes(engine)
        return out

    prepare = pipeline._prepare_chunk

    def preparing(ctx: Any, chunk: Any) -> Any:
        seen["gc_during"].add(gc.isenabled())
        return prepare(ctx, chunk)

    monkeypatch.setattr(pipeline, "drop_plain_indexes", dropping)
    monkeypatch.setattr(pipeline, "_prepare_chunk", preparing)
    return seen


def _stored(engine: Engine) -> list[tuple[Any, ...]]:
    cols = [c for c in documents.c if c.name not in {"id", "ingest_run_id", "source_file"}]
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(*cols)))


def test_big_file_defers_plain_indexes_and_stores_the_same_rows(
    tmp_path: Path, sqlite_store: tuple[Engine, Settings], spy: dict[str, Any]
) -> None:
    engine, settings = sqlite_store
    path = _tickets(tmp_path / "big.csv", 0, 120)
    out = pipeline.ingest_paths(engine, "tickets", [path], settings=settings, chunk_rows=40)
    assert (out.read, out.inserted, out.duplicates, out.rejected) == (120, 120, 0, 0)
    assert spy["dropped"] == [sorted(PLAIN)]
    assert not PLAIN & spy["present_while_loading"]  # really gone during the load
    assert PLAIN <= _indexes(engine)  # and built after it
    assert spy["gc_during"] == {False} and gc.isenabled()

    # the same file into a store that takes the row-by-row path stores the same rows
    plain = Settings(database_url=f"sqlite:///{tmp_path / 'plain.db'}", data_dir=tmp_path / "p")
    other = open_store(plain)
    try:
        pipeline.ingest_paths(other, "tickets", [path], settings=plain, chunk_rows=1000)
        assert _stored(other) == _stored(engine)
    finally:
        other.dispose()
    again = pipeline.ingest_paths(engine, "tickets", [path], settings=settings, chunk_rows=40)
    assert (again.inserted, again.duplicates) == (0, 120)


def test_file_smaller_than_the_table_keeps_indexes(
    tmp_path: Path, sqlite_store: tuple[Engine, Settings], spy: dict[str, Any]
) -> None:
    engine, settings = sqlite_store
    pipeline.ingest_paths(
        engine, "tickets", [_tickets(tmp_path / "a.csv", 0, 200)], settings=settings, chunk_rows=40
    )
    assert len(spy["dropped"]) == 1
    out = pipeline.ingest_paths(
        engine, "tickets", [_tickets(tmp_path / "b.csv", 200, 80)], settings=settings, chunk_rows=40
    )
    assert out.inserted == 80
    assert len(spy["dropped"]) == 1  # 80 new rows against 200 stored: row by row


def test_failed_bulk_load_builds_its_indexes_back(
    tmp_path: Path,
    sqlite_store: tuple[Engine, Settings],
    spy: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, settings = sqlite_store
    write = pipeline._write_chunk
    calls = {"n": 0}

    def failing(conn: Any, ctx: Any, prep: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        return write(conn, ctx, prep)

    monkeypatch.setattr(pipeline, "_write_chunk", failing)
    path = _tickets(tmp_path / "big.csv", 0, 120)
    with pytest.raises(RuntimeError, match="disk on fire"):
        pipeline.ingest_paths(engine, "tickets", [path], settings=settings, chunk_rows=40)
    assert spy["dropped"] and PLAIN <= _indexes(engine)
    assert gc.isenabled()
    monkeypatch.setattr(pipeline, "_write_chunk", write)
    out = pipeline.ingest_paths(engine, "tickets", [path], settings=settings, chunk_rows=40)
    assert out.inserted == 80  # the first chunk was committed before the failure
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(documents)).scalar_one() == 120


def test_index_left_unbuilt_by_a_killed_load_is_built_on_next_start(
    tmp_path: Path, sqlite_store: tuple[Engine, Settings]
) -> None:
    engine, settings = sqlite_store
    with engine.begin() as conn:  # what a SIGKILL between drop and build leaves
        conn.execute(text("DROP INDEX ix_documents_text_hash"))
    assert "ix_documents_text_hash" not in _indexes(engine)
    again = open_store(settings)
    try:
        assert PLAIN <= _indexes(again)
    finally:
        again.dispose()

    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_documents_account_created"))
    env = {"UNDERTOW_DATABASE_URL": settings.database_url, "UNDERTOW_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(cli, ["db", "upgrade", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["to"]
    assert PLAIN <= _indexes(engine)
