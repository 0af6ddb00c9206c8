"""Hostile files at `undertow ingest`: every case is accounted (read = inserted +
duplicates + rejected, asserted by ``ingest_json``), exits as documented and says why."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import signal
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hostile_support import error_line, ingest_json, undertow
from sqlalchemy import Engine, select

import ingest.pipeline as pipeline
from ingest.db.schema import accounts, documents, ingest_runs, quarantine
from ingest.pipeline import ingest_paths
from ingest.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TICKETS = "ticket_id,account_id,created_at,subject,body\n"
# one valid canonical record per kind (the contract's columns)
RECORDS: dict[str, dict[str, Any]] = {
    "accounts": {"account_id": "A1", "name": "Acme", "arr": "1200", "contract_start": "2024-01-01"},
    "reviews": {"review_id": "R1", "account_id": "A1", "published_at": "2025-03-01", "body": "Good"},
    "tickets": {"ticket_id": "T1", "account_id": "A1", "created_at": "2025-03-01", "body": "Slow"},
    "surveys": {"response_id": "S1", "account_id": "A1", "submitted_at": "2025-03-01", "score": "9"},
    "attribution": {"response_id": "B1", "account_id": "A1", "submitted_at": "2025-03-01",
                    "answer": "A podcast"},
    "opportunities": {"opportunity_id": "O1", "account_id": "A1", "created_at": "2025-03-01",
                      "amount": "5000"},
    "spend": {"date": "2025-03-03", "channel": "paid_ads", "spend": "1200"},
    "leads": {"lead_id": "L1", "account_id": "A1", "created_at": "2025-03-01"},
    "experiments": {"experiment_id": "X1", "channel": "podcast", "start": "2025-03-03",
                    "end": "2025-03-30", "spend_delta": "-500", "outcome": "leads",
                    "lift": "-3"},
}  # fmt: skip


def _quarantined(engine: Engine) -> dict[int, Any]:
    with engine.connect() as conn:
        return {r.source_line: r for r in conn.execute(select(quarantine))}


def _csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


# ---------------------------------------------------------------- paths that are no file
def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, with a timeout: these inputs once never returned."""
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "undertow"), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_non_regular_files_are_refused_before_any_read(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # opening it for reading would block forever
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    cases = {"/dev/zero": "is a device", str(fifo): "is a pipe", str(folder): "is a directory",
             str(tmp_path / "missing.csv"): "no such file"}  # fmt: skip
    for path, says in cases.items():
        done = _cli(cli_env, "ingest", "tickets", path)
        assert done.returncode == 2, (path, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0] and path in lines[0], done.stderr


def test_archives_that_are_not_gzip_are_named(tmp_path: Path, cli_env: dict[str, str]) -> None:
    book = tmp_path / "tickets.xlsx"
    with zipfile.ZipFile(book, "w") as z:
        z.writestr("sheet1.xml", "<x/>")
    line = error_line(undertow(cli_env, "ingest", "tickets", str(book), code=2))
    assert "ZIP archive or an Excel workbook" in line and "export the sheet as CSV" in line


@pytest.mark.parametrize("kind", list(RECORDS))
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_gzip_files_of_every_kind_are_read(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str], kind: str, fmt: str
) -> None:
    rec = RECORDS[kind]
    text = _csv([rec]) if fmt == "csv" else json.dumps(rec) + "\n"
    path = tmp_path / f"{kind}.{fmt}.gz"
    path.write_bytes(gzip.compress(text.encode()))
    out = ingest_json(cli_env, kind, str(path))
    assert (out["read"], out["inserted"], out["rejected"]) == (1, 1, 0), out
    again = ingest_json(cli_env, kind, str(path))
    assert (again["inserted"], again["duplicates"]) == (0, 1)
    if kind == "tickets":
        with engine.connect() as conn:
            assert conn.execute(select(documents.c.source_file)).scalar_one() == str(path)


def test_a_big_gzip_file_is_read_by_the_workers_in_pieces(
    tmp_path: Path, engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_ROWS", 50)
    used: list[Any] = []
    real = pipeline.layout
    monkeypatch.setattr(pipeline, "layout", lambda *a: used.append(real(*a)) or used[-1])
    body = "".join(f"T{i},A1,2025-03-01,s,text number {i}\n" for i in range(400))
    path = tmp_path / "big.csv.gz"
    path.write_bytes(gzip.compress((TICKETS + body).encode()))
    out = ingest_paths(engine, "tickets", [path], settings=settings, workers=1, chunk_rows=64)
    assert (out.read, out.inserted) == (400, 400)
    assert used and used[0] is not None  # read as pieces by a worker
    with engine.connect() as conn:
        assert conn.execute(select(ingest_runs.c.status)).scalar_one() == "done"


def test_a_gzip_bomb_and_a_broken_gzip_are_refused(tmp_path: Path, cli_env: dict[str, str]) -> None:
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(TICKETS.encode() + b"\n" * (40 << 20)))  # ~40 kB -> 40 MB
    assert "times its size" in error_line(undertow(cli_env, "ingest", "tickets", str(bomb), code=2))
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(gzip.compress(TICKETS.encode() * 100)[:40])
    assert "not a readable gzip file" in error_line(
        undertow(cli_env, "ingest", "tickets", str(broken), code=2)
    )


# ---------------------------------------------------------------- quotes
TEN_LINES = TICKETS + "".join(
    f'T{i},A1,2025-03-0{1 + i % 9},s,"Body {i}\n' if i == 2 else f"T{i},A1,2025-03-01,s,Body {i}\n"
    for i in range(1, 11)
)  # ticket T2 opens a quote that never closes


@pytest.mark.parametrize("workers", [0, 1])
def test_an_unterminated_quote_is_quarantined_and_reading_resumes(
    tmp_path: Path,
    engine: Engine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
) -> None:
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_ROWS", 2)
    path = tmp_path / "ten.csv"
    path.write_text(TEN_LINES)
    out = ingest_paths(engine, "tickets", [path], settings=settings, workers=workers, chunk_rows=4)
    assert (out.read, out.inserted, out.duplicates, out.rejected) == (10, 9, 0, 1)
    q = _quarantined(engine)
    assert list(q) == [3] and q[3].reason == "unterminated quote at line 3"
    assert q[3].raw == 'T2,A1,2025-03-03,s,"Body 2'  # the original line
    with engine.connect() as conn:
        texts = {r.source_id: r.text for r in conn.execute(select(documents))}
    assert texts["T3"] == "Body 3" and "T2" not in texts


def test_a_quote_over_the_line_bound_is_cut_there(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    rows = [
        'T1,A1,2025-03-01,s,"a legit body\nover two lines"\n',
        'T2,A1,2025-03-01,s,"stray quote\n',
        *(f"T{i},A1,2025-03-01,s,body {i}\n" for i in range(3, 9)),
        'T9,A1,2025-03-01,s,a stray quote" here\n',  # closes T2's field 8 lines on
        "T10,A1,2025-03-01,s,last\n",
    ]
    path = tmp_path / "bound.csv"
    path.write_text(TICKETS + "".join(rows))
    out = ingest_json({**cli_env, "UNDERTOW_MAX_QUOTED_LINES": "4"}, "tickets", str(path))
    assert (out["read"], out["inserted"], out["rejected"]) == (10, 9, 1)
    assert _quarantined(engine)[4].reason == "unterminated quote at line 4"
    # within the default bound the same file reads T2 to T9 as one record: the bound is
    # what tells a runaway quote from a long quoted text
    loose = ingest_json(cli_env, "tickets", str(path))
    assert loose["read"] == 3


# ---------------------------------------------------------------- encodings
def test_mixed_encodings_keep_every_rows_characters(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    utf8 = "T1,A1,2025-03-01,s,Caf\u00e9 cr\u00e8me \u20ac5\n".encode()
    cp1252 = "T2,A1,2025-03-01,s,na\u00efve \u201cquote\u201d \u20ac7\n".encode("cp1252")
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        TICKETS.encode() + utf8 + cp1252 + utf8.replace(b"T1,A1,2025-03-01", b"T3,A1,2025-03-02")
    )
    out = ingest_json(cli_env, "tickets", str(path))
    assert (out["read"], out["inserted"]) == (3, 3)
    with engine.connect() as conn:
        texts = {r.source_id: r.text for r in conn.execute(select(documents))}
    assert texts["T1"] == texts["T3"] == "Caf\u00e9 cr\u00e8me \u20ac5"
    assert texts["T2"] == "na\u00efve \u201cquote\u201d \u20ac7"


# ---------------------------------------------------------------- values
def test_future_event_dates_are_quarantined_naming_column_and_value(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    path = tmp_path / "t.csv"
    path.write_text(
        TICKETS
        + "T1,A1,2099-01-01,s,a typo\n"
        + f"T2,A1,{later},s,planned\n"
        + f"T3,A1,{soon},s,clock skew: within the tolerance\n"
        + "T4,A1,2025-03-01,s,fine\n"
    )
    out = ingest_json(cli_env, "tickets", str(path))
    assert (out["read"], out["inserted"], out["rejected"]) == (4, 2, 2)
    q = _quarantined(engine)
    assert "'created_at' is a future date" in q[2].reason and "'2099-01-01'" in q[2].reason
    assert f"'{later}'" in q[3].reason
    acc = tmp_path / "a.csv"
    acc.write_text(
        "account_id,name,arr,contract_start,churned_at\n"
        f"A1,Acme,1000,{later},\n"  # a contract may start later: kept
        f"A2,Beta,1000,2024-01-01,{later}\n"  # a churn may not have happened yet
    )
    out = ingest_json(cli_env, "accounts", str(acc))
    assert (out["inserted"], out["rejected"]) == (1, 1)
    assert "'churned_at' is a future date" in _quarantined(engine)[3].reason
    strict = ingest_json({**cli_env, "UNDERTOW_FUTURE_TOLERANCE_DAYS": "0"}, "tickets", str(path))
    assert strict["rejected"] == 3  # T3 is a few hours ahead


def test_money_and_scores_are_bounded(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    acc = tmp_path / "a.csv"
    acc.write_text(
        "account_id,name,arr,contract_start\n"
        "A1,Acme,1e308,2024-01-01\nA2,Beta,-5,2024-01-01\nA3,Gamma,inf,2024-01-01\n"
        "A4,Delta,999999999999,2024-01-01\n"
    )
    out = ingest_json(cli_env, "accounts", str(acc))
    assert (out["read"], out["inserted"], out["rejected"]) == (4, 1, 3)
    q = _quarantined(engine)
    assert q[2].reason == "'arr' must be between 0 and 1e+12, got '1e308'"
    assert "got '-5'" in q[3].reason and "'arr' is not a number" in q[4].reason
    opp = tmp_path / "o.csv"
    opp.write_text(
        "opportunity_id,account_id,created_at,amount\nO1,A4,2025-01-01,2e12\nO2,A4,2025-01-01,10\n"
    )
    out = ingest_json(cli_env, "opportunities", str(opp))
    assert (out["inserted"], out["rejected"]) == (1, 1)


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(_csv(rows))
    return path


def test_a_future_spend_date_and_future_marketing_events_are_quarantined(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    """Spend's day, a lead's stage dates and a lift test's run are events: a value past
    the ingest time plus the tolerance is quarantined with the column and value."""
    later = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    spend_file = tmp_path / "spend.csv"
    spend_file.write_text(
        f"date,channel,spend\n2099-01-05,paid_ads,100\n{later},event,50\n2025-03-03,event,50\n"
    )
    out = ingest_json(cli_env, "spend", str(spend_file))
    assert (out["read"], out["inserted"], out["rejected"]) == (3, 1, 2)
    q = _quarantined(engine)
    assert "'date' is a future date" in q[2].reason and "'2099-01-05'" in q[2].reason
    assert "'date' is a future date" in q[3].reason and f"'{later}'" in q[3].reason
    leads_file = tmp_path / "leads.csv"
    leads_file.write_text(
        f"lead_id,created_at,mql_at,sql_at\nL1,2025-01-02,{later},\nL2,2025-01-02,,2099-01-01\n"
    )
    out = ingest_json(cli_env, "leads", str(leads_file))
    assert (out["read"], out["inserted"], out["rejected"]) == (2, 0, 2)
    with engine.connect() as conn:
        leads_q = {
            r.source_line: r.reason
            for r in conn.execute(select(quarantine).where(quarantine.c.kind == "leads"))
        }
    assert "'mql_at' is a future date" in leads_q[2] and "'sql_at'" in leads_q[3]
    exp = RECORDS["experiments"]
    out = ingest_json(cli_env, "experiments", str(_write(tmp_path / "x.csv", [
        {**exp, "end": later}, {**exp, "experiment_id": "X2"},
    ])))  # fmt: skip
    assert (out["read"], out["inserted"], out["rejected"]) == (2, 1, 1)


def test_a_1e308_spend_and_other_marketing_figures_are_bounded_like_money(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    """Spend, impressions and clicks lie in [0, 1e12], a spend change and lifts in
    [-1e12, 1e12] (a holdout cuts spend, its lift is negative); beyond, the row is
    quarantined naming the column and the value, and no figure stored is inf."""
    spend_file = tmp_path / "spend.csv"
    spend_file.write_text(
        "date,channel,spend,impressions,clicks\n"
        "2025-03-03,paid_ads,1e308,,\n"  # 2
        "2025-03-03,event,999999999999,,\n"  # 3 ok: just under the bound
        "2025-03-04,event,10,2e12,\n"  # 4 impressions
        "2025-03-05,event,10,,1e308\n"  # 5 clicks
    )
    out = ingest_json(cli_env, "spend", str(spend_file))
    assert (out["read"], out["inserted"], out["rejected"]) == (4, 1, 3)
    q = _quarantined(engine)
    assert q[2].reason == "'spend' must be between 0 and 1e+12, got '1e308'"
    assert "'impressions' must be between 0 and 1e+12, got '2e12'" == q[4].reason
    assert "'clicks'" in q[5].reason and "'1e308'" in q[5].reason
    exp = {**RECORDS["experiments"], "lift_low": "", "lift_high": ""}
    rows = [
        {**exp, "experiment_id": "X1", "spend_delta": "-1e308"},
        {**exp, "experiment_id": "X2", "lift": "-2e12"},
        {**exp, "experiment_id": "X3", "lift": "-5", "lift_low": "-1e13", "lift_high": "1"},
        {**exp, "experiment_id": "X4", "spend_delta": "-999999999999", "lift": "-1e11"},
    ]
    out = ingest_json(cli_env, "experiments", str(_write(tmp_path / "x.csv", rows)))
    assert (out["read"], out["inserted"], out["rejected"]) == (4, 1, 3)
    with engine.connect() as conn:
        got = {
            r.source_line: r.reason
            for r in conn.execute(select(quarantine).where(quarantine.c.kind == "experiments"))
        }
    assert got[2] == "'spend_delta' must be between -1e+12 and 1e+12, got '-1e308'"
    assert "'lift' must be between -1e+12 and 1e+12, got '-2e12'" == got[3]
    assert "'lift_low'" in got[4] and "'-1e13'" in got[4]


def test_every_numeric_column_of_every_kind_declares_its_bounds() -> None:
    """The bound mechanism is declared per column: a new kind gets it by declaring."""
    from ingest.records import KINDS

    for spec in KINDS.values():
        floats = {c for c, t in spec.columns.items() if t == "float"}
        assert floats <= set(spec.ranges), (spec.kind, floats - set(spec.ranges))
        assert set(spec.past_only) <= {c for c, t in spec.columns.items() if "date" in t}


# ---------------------------------------------------------------- ids
def test_repeated_account_ids_first_row_wins_and_an_update_is_counted_once(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    head = "account_id,name,arr,contract_start\n"
    path = tmp_path / "a.csv"
    path.write_text(head + "A1,First,100,2024-01-01\nA1,Second,200,2024-01-01\nA2,B,5,2024-01-01\n")
    out = ingest_json(cli_env, "accounts", str(path))
    assert (out["read"], out["inserted"], out["duplicates"], out["updated"]) == (3, 2, 1, 0)

    def stored() -> tuple[str, float]:
        with engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.account_id == "A1")).one()
        return row.name, row.arr

    assert stored() == ("First", 100)
    path.write_text(head + "A1,Renamed,300,2024-01-01\nA1,Again,400,2024-01-01\n")
    out = ingest_json(cli_env, "accounts", str(path))
    assert (out["read"], out["inserted"], out["duplicates"], out["updated"]) == (2, 0, 2, 1)
    assert stored() == ("Renamed", 300)
    # the same across chunks: a later chunk of the same file does not overwrite
    monkeypatch.setattr(pipeline, "DEFAULT_CHUNK_ROWS", 1)
    path.write_text(head + "A3,One,1,2024-01-01\nA3,Two,2,2024-01-01\n")
    settings = Settings.from_env(cli_env)
    done = ingest_paths(engine, "accounts", [path], settings=settings, chunk_rows=1)
    assert (done.inserted, done.duplicates, done.updated) == (1, 1, 0)
    # and again: the stored row is the file's first, so nothing is corrected
    again = ingest_paths(engine, "accounts", [path], settings=settings, chunk_rows=1)
    assert (again.inserted, again.duplicates, again.updated) == (0, 2, 0)
    with engine.connect() as conn:
        assert (
            conn.execute(select(accounts.c.name).where(accounts.c.account_id == "A3")).scalar_one()
            == "One"
        )


def test_an_account_id_with_a_slash_is_stored_and_fetchable(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.keys import create_key
    from api.settings import ApiSettings

    path = tmp_path / "a.csv"
    path.write_text("account_id,name,arr,contract_start\nACME/EU,Acme Europe,10,2024-01-01\n")
    assert ingest_json(cli_env, "accounts", str(path))["inserted"] == 1
    settings = Settings.from_env(cli_env)
    with TestClient(create_app(settings, ApiSettings(rate_limit_per_second=0))) as client:
        auth = {"Authorization": f"Bearer {create_key(engine, 'sales')['key']}"}
        for url in ("/v1/accounts/ACME%2FEU", "/v1/accounts/ACME/EU"):
            r = client.get(url, headers=auth)
            assert r.status_code == 200 and r.json()["account"]["account_id"] == "ACME/EU", url
        link = r.json()["provenance"]["sentiment"]
        assert client.get(link, headers=auth).status_code in (200, 409)  # no fit yet: 409


# ---------------------------------------------------------------- signals
SIGTERM_AFTER_FIRST_CHUNK = """
import os, signal, sys
import ingest.pipeline as p
real = p.ingest_paths
def first_chunk_then_sigterm(*a, **k):
    k["chunk_rows"] = 3
    k["on_progress"] = lambda n: os.kill(os.getpid(), signal.SIGTERM)
    return real(*a, **k)
p.ingest_paths = first_chunk_then_sigterm
from api.cli import main
sys.argv = ["undertow", "ingest", "tickets", sys.argv[1]]
main()
"""


def test_sigterm_marks_the_run_interrupted(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(TICKETS + "".join(f"T{i},A1,2025-03-01,s,text {i}\n" for i in range(7)))
    done = subprocess.run(
        [sys.executable, "-c", SIGTERM_AFTER_FIRST_CHUNK, str(path)],
        env={**os.environ, **cli_env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert "interrupted" in done.stderr and "Traceback" not in done.stderr
    with engine.connect() as conn:
        run = conn.execute(select(ingest_runs)).one()
    assert (run.status, run.read, run.inserted) == ("interrupted", 3, 3)
    out = ingest_json(cli_env, "tickets", str(path))
    assert (out["read"], out["inserted"], out["duplicates"]) == (7, 4, 3)
