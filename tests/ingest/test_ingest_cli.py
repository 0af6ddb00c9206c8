"""`undertow ingest` at the boundary users touch: hostile files accounted row by row,
re-ingest, exit codes, accounts updates, re-resolution, interrupted ingests."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from api.cli import cli
from ingest.db.schema import accounts, documents, ingest_runs, quarantine
from ingest.pipeline import ingest_paths, ingest_records
from ingest.settings import Settings

TICKET_HEADER = (
    "ticket_id,account_id,requester_email,created_at,subject,body,status,priority,csat\n"
)
ROOT = Path(__file__).resolve().parents[2]
LONG = "word " * 30  # 150 characters, over the 60-character cap used below


def run(env: dict[str, str], *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(cli, ["ingest", *args], env=env)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if "--json" in args and code == 0 else result


def _count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_hostile_csv_is_accounted_row_by_row(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    p = tmp_path / "hostile.csv"
    p.write_text(
        TICKET_HEADER
        + "T1,A1,,2025-03-01,Hello,Login is slow,open,high,4\n"  # 2 ok
        + "T2,A1,,2025-02-30,Bad date,text,open,,\n"  # 3 bad date
        + ",A1,,2025-03-01,No id,text,open,,\n"  # 4 missing id
        + "T3,A1,,2025-03-01,Empty,   ,open,,\n"  # 5 empty body
        + "T1,A1,,2025-03-01,Hello,Login is slow,open,high,4\n"  # 6 duplicate id in file
        + 'T4,A1,,2025-03-02,Formula,"=HYPERLINK(""http://x"",""y"")",open,,\n'  # 7 stored as text
        + "T5,A1,,2025-03-02,Formula,ok,open,,=1+1\n"  # 8 formula in a number
        + f"T6,A1,,2025-03-03,Long,{LONG},open,,\n"  # 9 cut and recorded
        + "T7,A1,,2025-03-01,Again,Login is slow,open,high,4\n"  # 10 same content, new id
        + "T8,A1,,2025-03-04,Cells,text,open,,,extra\n",  # 11 too many cells
        encoding="utf-8",
    )
    env = {**cli_env, "UNDERTOW_MAX_TEXT_CHARS": "60"}
    out = run(env, "tickets", str(p), "--json")
    assert {k: out[k] for k in ("kind", "read", "inserted", "duplicates", "rejected", "unresolved")} == {
        "kind": "tickets", "read": 10, "inserted": 3, "duplicates": 2, "rejected": 5, "unresolved": 5,
    }  # fmt: skip
    with engine.connect() as conn:
        q = {r.source_line: r for r in conn.execute(select(quarantine))}
        docs = {r.source_id: r for r in conn.execute(select(documents))}
    assert sorted(q) == [3, 4, 5, 8, 11]
    assert "'created_at' is not an ISO 8601 date" in q[3].reason
    assert "missing required 'ticket_id'" in q[4].reason
    assert "missing required 'body'" in q[5].reason
    assert "'csat' is not a number" in q[8].reason
    assert "cells" in q[11].reason
    assert json.loads(q[3].raw)["created_at"] == "2025-02-30"  # the original content
    assert all(r.source_file == str(p.resolve()) for r in q.values())
    assert set(docs) == {"T1", "T4", "T6"}
    assert docs["T4"].text == '=HYPERLINK("http://x","y")'
    assert (docs["T6"].truncated, docs["T6"].text_chars, len(docs["T6"].text)) == (
        True,
        len(LONG),
        60,
    )
    assert (docs["T1"].truncated, docs["T1"].source, docs["T1"].source_line) == (False, "csv", 2)

    again = run(env, "tickets", str(p), "--json")
    assert (again["read"], again["inserted"], again["duplicates"], again["rejected"]) == (
        10,
        0,
        5,
        5,
    )
    assert _count(engine, quarantine) == 5 and _count(engine, documents) == 3
    with engine.connect() as conn:
        runs = conn.execute(select(ingest_runs).order_by(ingest_runs.c.id)).all()
    assert [(r.status, r.read, r.inserted) for r in runs] == [("done", 10, 3), ("done", 10, 0)]
    assert runs[0].file_hash == runs[1].file_hash and len(runs[0].file_hash) == 64


def test_hostile_jsonl(tmp_path: Path, engine: Engine, cli_env: dict[str, str]) -> None:
    p = tmp_path / "hostile.jsonl"
    lines = [
        {"review_id": "R1", "source": "Capterra", "published_at": "2025-01-01T08:00:00-05:00", "rating": 5, "body": "Great"},
        "{not json",
        [1, 2, 3],
        {"review_id": "R2", "published_at": "2025-01-02", "rating": 9, "body": "x"},
        {"review_id": "R3", "published_at": "2025-01-02", "body": {"nested": "object"}},
        {"review_id": "R4", "published_at": None, "body": "no date"},
        {"review_id": "R5", "published_at": "2025-01-03", "body": "nul\u0000 and \u00e9", "title": "=cmd|' /C calc'!A0"},
        {"review_id": "R6", "published_at": "2025-01-04", "body": "lone \ud800 surrogate"},
        {"review_id": "R7", "published_at": "bad \udfff", "body": "rejected, stored escaped"},
    ]  # fmt: skip
    p.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    out = run(cli_env, "reviews", str(p), "--source", "web", "--json")
    assert (out["read"], out["inserted"], out["duplicates"], out["rejected"]) == (9, 4, 0, 5)
    with engine.connect() as conn:
        docs = {r.source_id: r for r in conn.execute(select(documents))}
        lines_q = sorted(r.source_line for r in conn.execute(select(quarantine)))
    assert lines_q == [2, 3, 4, 6, 9]
    assert docs["R1"].source == "capterra" and str(docs["R1"].created_at) == "2025-01-01 13:00:00"
    assert docs["R3"].source == "web" and json.loads(docs["R3"].text) == {"nested": "object"}
    assert docs["R5"].text == "nul and \u00e9" and docs["R5"].title == "=cmd|' /C calc'!A0"
    assert docs["R6"].text == "lone ? surrogate"


@pytest.mark.parametrize("encoding", ["latin-1", "utf-8-sig", "utf-16", "cp1252"])
def test_wrong_encodings_keep_their_characters(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str], encoding: str
) -> None:
    p = tmp_path / "enc.csv"
    body = "Caf\u00e9 cr\u00e8me, na\u00efve \u00fcber" + (
        " \u20ac5 \u201cok\u201d" if encoding != "latin-1" else ""
    )
    p.write_bytes((TICKET_HEADER + f'E1,,,2025-03-01,s,"{body}",,,\r\n').encode(encoding))
    out = run(cli_env, "tickets", str(p), "--json")
    assert (out["read"], out["inserted"]) == (1, 1)
    with engine.connect() as conn:
        assert conn.execute(select(documents.c.text)).scalar_one() == body


def test_input_errors_exit_2_with_one_line(tmp_path: Path, cli_env: dict[str, str]) -> None:
    p = tmp_path / "no_body.csv"
    p.write_text("ticket_id,created_at\nT1,2025-01-01\n")
    res = run(cli_env, "tickets", str(p), code=2)
    assert "'body'" in res.stderr and "no_body.csv" in res.stderr
    assert "unknown kind 'invoices'" in run(cli_env, "invoices", str(p), code=2).stderr
    assert "no such file" in run(cli_env, "tickets", str(tmp_path / "nope.csv"), code=2).stderr
    assert "unknown mapping" in run(cli_env, "tickets", str(p), "--mapping", "acme", code=2).stderr
    assert (
        "for kind 'tickets'"
        in run(cli_env, "reviews", str(p), "--mapping", "zendesk", code=2).stderr
    )
    binary = tmp_path / "image.csv"
    binary.write_bytes(bytes(range(256)) * 20)
    assert "required column" in run(cli_env, "tickets", str(binary), code=2).stderr


def test_accounts_update_in_place_and_resolve_earlier_records(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    tickets = tmp_path / "tickets.csv"
    tickets.write_text(
        TICKET_HEADER
        + "T1,,jane@globex.io,2025-03-01,s,by domain,,,\n"
        + "T2,ACC-2,,2025-03-01,s,by id,,,\n"
        + "T3,,nobody@nowhere.example,2025-03-01,s,nobody,,,\n"
    )
    out = run(cli_env, "tickets", str(tickets), "--json")
    assert out["unresolved"] == 3
    acc = tmp_path / "accounts.csv"
    head = "account_id,name,domain,segment,arr,currency,contract_start,churned_at,tracked_source\n"
    acc.write_text(
        head
        + "ACC-1,Globex,globex.io,smb,1000,,2024-01-01,,\nACC-2,Initech,,smb,2000,,2024-01-01,,\n"
    )
    out = run(cli_env, "accounts", str(acc), "--json")
    assert (out["inserted"], out["updated"], out["reresolved"]) == (2, 0, 2)
    with engine.connect() as conn:
        got = {r.source_id: (r.account_id, r.resolved_by) for r in conn.execute(select(documents))}
    assert got == {"T1": ("ACC-1", "domain"), "T2": ("ACC-2", "account_id"), "T3": (None, None)}

    acc.write_text(
        head
        + "ACC-1,Globex,globex.io,smb,1500,,2024-01-01,,\nACC-2,Initech,,smb,2000,,2024-01-01,,\n"
    )
    out = run(cli_env, "accounts", str(acc), "--json")
    # an update is a duplicate (its id is stored) that changed the stored values: counted
    # once, so that read = inserted + duplicates + rejected
    assert (out["read"], out["inserted"], out["updated"], out["duplicates"]) == (2, 0, 1, 2)
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(accounts.c.arr).where(accounts.c.account_id == "ACC-1")
            ).scalar_one()
            == 1500
        )
    assert _count(engine, accounts) == 2
    assert run(cli_env, "tickets", str(tickets), "--json")["unresolved"] == 1


def test_an_interrupted_ingest_is_completed_by_a_rerun(
    tmp_path: Path, engine: Engine, settings: Settings
) -> None:
    p = tmp_path / "t.csv"
    p.write_text(TICKET_HEADER + "".join(f"T{i},,,2025-03-01,s,text {i},,,\n" for i in range(7)))

    def die_after_first_chunk(n: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest_paths(
            engine,
            "tickets",
            [p],
            settings=settings,
            on_progress=die_after_first_chunk,
            chunk_rows=3,
        )
    assert _count(engine, documents) == 3
    with engine.connect() as conn:
        assert conn.execute(select(ingest_runs.c.status)).scalar_one() == "interrupted"
    done = ingest_paths(engine, "tickets", [p], settings=settings, chunk_rows=3)
    assert (done.read, done.inserted, done.duplicates) == (7, 4, 3)
    assert _count(engine, documents) == 7


KILL_AFTER_FIRST_CHUNK = """
import os, signal, sys
from ingest.db.engine import open_store
from ingest.pipeline import ingest_paths
from ingest.settings import Settings
s = Settings(database_url=sys.argv[1])
kill = lambda n: os.kill(os.getpid(), signal.SIGKILL)
ingest_paths(open_store(s), "tickets", [sys.argv[2]], settings=s, on_progress=kill, chunk_rows=3)
"""


def test_a_run_killed_outright_is_marked_interrupted_by_the_rerun(
    tmp_path: Path, engine: Engine, settings: Settings, cli_env: dict[str, str]
) -> None:
    p = tmp_path / "t.csv"
    p.write_text(TICKET_HEADER + "".join(f"T{i},,,2025-03-01,s,text {i},,,\n" for i in range(7)))
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_FIRST_CHUNK, settings.database_url, str(p)],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with engine.connect() as conn:
        assert conn.execute(select(ingest_runs.c.status)).scalar_one() == "running"
    out = run(cli_env, "tickets", str(p), "--json")
    assert (out["read"], out["inserted"], out["duplicates"]) == (7, 7 - 3, 3)
    with engine.connect() as conn:
        statuses = conn.execute(select(ingest_runs.c.status).order_by(ingest_runs.c.id)).all()
    assert [s for (s,) in statuses] == ["interrupted", "done"]


def test_ingest_records_for_the_http_api(engine: Engine, settings: Settings) -> None:
    recs: list[Any] = [
        {
            "response_id": "S1",
            "submitted_at": "2025-01-01",
            "score": 9,
            "comment": "Great, call 555-123-4567",
        },
        {"response_id": "S2", "submitted_at": "2025-01-01", "score": 3, "survey_type": "CSAT"},
        {"response_id": "S3", "submitted_at": "2025-01-01", "score": 8.5},
        "not an object",
    ]
    out = ingest_records(engine, "surveys", recs, settings=settings).as_dict()
    assert (out["read"], out["inserted"], out["rejected"]) == (4, 2, 2)
    again = ingest_records(engine, "surveys", recs, settings=settings)
    assert (again.inserted, again.duplicates) == (0, 2)
    with engine.connect() as conn:
        text = conn.execute(
            select(documents.c.text).where(documents.c.kind == "survey")
        ).scalar_one()
    assert text == "Great, call [phone]"


def test_same_answer_from_two_people_is_not_a_duplicate(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    p = tmp_path / "hdyhau.csv"
    p.write_text(
        "response_id,respondent_email,submitted_at,answer\n"
        "H1,ann@globex.io,2025-03-01,LinkedIn\n"
        "H2,bob@globex.io,2025-03-01,LinkedIn\n"  # another person: kept
        "H3,Ann@globex.io,2025-03-01,LinkedIn\n"  # the same person again: duplicate
    )
    out = run(cli_env, "attribution", str(p), "--json")
    assert (out["inserted"], out["duplicates"]) == (2, 1)
    with engine.connect() as conn:
        texts = conn.execute(select(documents.c.source_id, documents.c.text)).all()
    assert sorted(texts) == [("H1", "LinkedIn"), ("H2", "LinkedIn")]


def test_every_survey_response_links_to_its_comment_text(
    engine: Engine, settings: Settings
) -> None:
    """Responses whose comment is already stored under another response (same person,
    time and words: one document by content) all link to that document."""
    from ingest.db.schema import surveys

    def rec(rid: str) -> dict[str, Any]:
        return {"response_id": rid, "respondent_email": "ann@globex.io",
                "submitted_at": "2025-03-01", "score": 4, "comment": "Too slow lately"}  # fmt: skip

    ingest_records(engine, "surveys", [rec("S0")], settings=settings)
    out = ingest_records(engine, "surveys", [rec("S1"), rec("S2")], settings=settings)
    assert (out.inserted, out.duplicates) == (2, 0)
    with engine.connect() as conn:
        doc_id = conn.execute(select(documents.c.id)).scalar_one()
        links = dict(conn.execute(select(surveys.c.response_id, surveys.c.document_id)).all())
    assert links == {"S0": doc_id, "S1": doc_id, "S2": doc_id}
