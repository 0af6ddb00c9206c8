"""Concurrent bulk loads into one SQLite store: deferring index builds is safe, and a run
whose rows are committed is never marked failed over an index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hostile_support import at_once
from sqlalchemy import Engine, inspect, select

import ingest.bulk as bulk
from ingest.db.engine import open_store
from ingest.db.schema import documents, ingest_runs
from ingest.pipeline import ingest_paths
from ingest.settings import Settings

TICKETS = "ticket_id,account_id,created_at,subject,body\n"


def _index_names(engine: Engine) -> set[str]:
    return {str(ix["name"]) for ix in inspect(engine).get_indexes("documents")}


def test_two_index_builds_at_once_both_succeed(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'u.db'}", data_dir=tmp_path)
    engine = open_store(settings)
    deferred = bulk.drop_plain_indexes(engine, documents)
    assert "ix_documents_account_created" not in _index_names(engine)
    results = at_once(4, lambda i: bulk.build_indexes(engine, deferred))
    assert results == [None] * 4, results
    assert "ix_documents_account_created" in _index_names(engine)
    engine.dispose()


@pytest.mark.parametrize("same_file", [False, True])
def test_two_bulk_ingests_at_once_both_finish_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, same_file: bool
) -> None:
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 100)  # the bulk path on a small file
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'u.db'}", data_dir=tmp_path)
    open_store(settings).dispose()
    paths = []
    for k in range(2):
        path = tmp_path / f"big{0 if same_file else k}.csv"
        body = "".join(f"K{k}T{i},A{i % 50},2025-03-01,s,text {k} {i}\n" for i in range(3000))
        if not path.exists():
            path.write_text(TICKETS + body)
        paths.append(path)

    def load(i: int) -> Any:
        engine = open_store(settings)
        try:
            return ingest_paths(engine, "tickets", [paths[i]], settings=settings, workers=0,
                                chunk_rows=500)  # fmt: skip
        finally:
            engine.dispose()

    summaries = at_once(2, load)
    assert all(not isinstance(s, Exception) for s in summaries), summaries
    for s in summaries:
        assert s.read == s.inserted + s.duplicates + s.rejected == 3000
    engine = open_store(settings)
    with engine.connect() as conn:
        statuses = [r for (r,) in conn.execute(select(ingest_runs.c.status))]
        stored = len(conn.execute(select(documents.c.id)).all())
    assert statuses == ["done", "done"]
    assert stored == (3000 if same_file else 6000)
    assert sum(s.inserted for s in summaries) == stored
    assert "ix_documents_account_created" in _index_names(engine)
    engine.dispose()


def test_a_failed_rebuild_does_not_fail_a_committed_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 100)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'u.db'}", data_dir=tmp_path)
    engine = open_store(settings)
    path = tmp_path / "big.csv"
    path.write_text(TICKETS + "".join(f"T{i},A1,2025-03-01,s,text {i}\n" for i in range(500)))

    def broken(*args: Any) -> None:
        from sqlalchemy.exc import OperationalError

        raise OperationalError("CREATE INDEX", {}, Exception("index already exists"))

    monkeypatch.setattr(bulk, "build_indexes", broken)
    out = ingest_paths(engine, "tickets", [path], settings=settings, workers=0)
    assert out.inserted == 500
    with engine.connect() as conn:
        assert conn.execute(select(ingest_runs.c.status)).scalar_one() == "done"
    monkeypatch.undo()
    engine.dispose()
    engine = open_store(settings)  # the next start builds what is missing
    assert "ix_documents_account_created" in _index_names(engine)
    engine.dispose()
