"""Big files prepare their chunks in worker processes: same rows, same quarantine, same
counts as in one process; errors reach the caller; a killed ingest leaves no worker.

``pipeline.PARALLEL_MIN_ROWS`` is lowered so that small files take that path.
"""

from __future__ import annotations

import operator
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from stored_contents import stored_contents

import ingest.pipeline as pipeline
from ingest.db.engine import open_store
from ingest.settings import Settings, SettingsError
from ingest.workers import WorkerError, Workers

ROOT = Path(__file__).resolve().parents[2]
HEADER = "ticket_id,account_id,requester_email,created_at,subject,body,status,priority,csat\n"


def _hostile(path: Path, n: int = 300) -> Path:
    rows = []
    for i in range(n):
        date = "2025-02-30" if i % 17 == 0 else f"2025-03-{1 + i % 28:02d}T09:00:00+02:00"
        body = f"Export fails again, mail me at u{i}@firm.com" if i % 5 == 0 else f"text {i % 40}"
        tid = f"T{i - 1}" if i % 23 == 0 else f"T{i}"  # a duplicate id now and then
        rows.append(f'{tid},A{i % 9},u{i % 13}@firm{i % 9}.com,{date},S,"{body}",open,,{i % 7}\n')
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def test_worker_processes_store_what_one_process_stores(
    tmp_path: Path, engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_ROWS", 10)
    started: list[int] = []
    real = pipeline.Workers

    def counting(count: int, *args: Any, **kw: Any) -> Workers:
        started.append(count)
        return real(count, *args, **kw)

    monkeypatch.setattr(pipeline, "Workers", counting)
    path = _hostile(tmp_path / "t.csv")
    out = pipeline.ingest_paths(
        engine, "tickets", [path], settings=settings, chunk_rows=40, workers=2
    )
    assert started == [2]

    solo = Settings(database_url=f"sqlite:///{tmp_path / 'solo.db'}", data_dir=tmp_path / "s")
    other = open_store(solo)
    try:
        ref = pipeline.ingest_paths(
            other, "tickets", [path], settings=solo, chunk_rows=40, workers=0
        )
        assert started == [2]  # the in-process run started none
        for name in ("read", "inserted", "duplicates", "rejected", "unresolved"):
            assert getattr(out, name) == getattr(ref, name), name
        assert out.rejected > 0 and out.duplicates > 0
        assert stored_contents(engine) == stored_contents(other)
    finally:
        other.dispose()
    again = pipeline.ingest_paths(
        engine, "tickets", [path], settings=settings, chunk_rows=40, workers=2
    )
    assert again.inserted == 0 and again.read == out.read


def test_worker_errors_reach_the_caller() -> None:
    workers = Workers(1, int, "4")  # state: int("4")
    try:
        assert workers.submit(operator.truediv, 2).result(timeout=60) == 2.0
        with pytest.raises(ZeroDivisionError):
            workers.submit(operator.truediv, 0).result(timeout=60)
        assert workers.submit(operator.mul, 3).result(timeout=60) == 12  # still serving
        workers._workers[0]._proc.kill()
        with pytest.raises(WorkerError, match="stopped"):
            workers.submit(operator.mul, 3).result(timeout=60)
    finally:
        workers.close()


KILL_WITH_WORKERS = """
import os, signal, sys
from pathlib import Path
import ingest.pipeline as pipeline
from ingest.db.engine import open_store
from ingest.settings import Settings
pipeline.PARALLEL_MIN_ROWS = 10
s = Settings(database_url=sys.argv[1])
def kill(n):
    kids = set()
    for task in Path("/proc/self/task").iterdir():
        kids |= set((task / "children").read_text().split())
    Path(sys.argv[3]).write_text(" ".join(sorted(kids)))
    os.kill(os.getpid(), signal.SIGKILL)
pipeline.ingest_paths(open_store(s), "tickets", [sys.argv[2]], settings=s, on_progress=kill,
                      chunk_rows=40, workers=2)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has exited; only its parent's reaping is left


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_an_ingest_killed_outright_leaves_no_worker(tmp_path: Path, settings: Settings) -> None:
    pids_file = tmp_path / "pids"
    killed = subprocess.run(
        [sys.executable, "-c", KILL_WITH_WORKERS, settings.database_url,
         str(_hostile(tmp_path / "t.csv")), str(pids_file)],
        cwd=ROOT, capture_output=True, timeout=120,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    pids = [int(p) for p in pids_file.read_text().split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in pids)


def test_workers_setting_comes_from_the_environment() -> None:
    assert Settings.from_env({}).ingest_workers is None
    assert Settings.from_env({"UNDERTOW_INGEST_WORKERS": "0"}).ingest_workers == 0
    assert Settings.from_env({"UNDERTOW_INGEST_WORKERS": "3"}).ingest_workers == 3
    with pytest.raises(SettingsError, match="UNDERTOW_INGEST_WORKERS: input should be greater"):
        Settings.from_env({"UNDERTOW_INGEST_WORKERS": "-1"})


def test_setting_zero_workers_prepares_in_process(
    tmp_path: Path, engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_ROWS", 10)
    started: list[Any] = []
    monkeypatch.setattr(pipeline, "Workers", lambda *a, **k: started.append(a))

    none = settings.model_copy(update={"ingest_workers": 0})
    out = pipeline.ingest_paths(engine, "tickets", [_hostile(tmp_path / "t.csv")], settings=none)
    assert started == [] and out.read == 300


def test_a_failed_ingest_stops_its_workers(
    tmp_path: Path, engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_ROWS", 10)
    made: list[Workers] = []
    real = pipeline.Workers
    monkeypatch.setattr(pipeline, "Workers", lambda *a, **k: made.append(real(*a, **k)) or made[-1])
    write = pipeline._write_chunk

    def failing(conn: Any, ctx: Any, prep: Any) -> Any:
        if prep.read and failing.calls == 1:  # type: ignore[attr-defined]
            raise RuntimeError("disk full")
        failing.calls += 1  # type: ignore[attr-defined]
        return write(conn, ctx, prep)

    failing.calls = 0  # type: ignore[attr-defined]
    monkeypatch.setattr(pipeline, "_write_chunk", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        pipeline.ingest_paths(engine, "tickets", [_hostile(tmp_path / "t.csv", 600)],
                              settings=settings, chunk_rows=40, workers=2)  # fmt: skip
    assert len(made) == 1
    assert all(w._proc.poll() is not None for w in made[0]._workers)
