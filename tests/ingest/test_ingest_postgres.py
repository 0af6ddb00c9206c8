"""Two ingests of the same file at once on PostgreSQL double nothing (the unique
constraints decide, not checks in Python)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from ingest.db.schema import accounts, documents, surveys

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from ingest.db.engine import open_store
from ingest.pipeline import ingest_paths
from ingest.settings import Settings
s = Settings(database_url=sys.argv[1])
out = ingest_paths(open_store(s), sys.argv[2], [sys.argv[3]], settings=s, chunk_rows=50)
assert out.read == out.inserted + out.duplicates + out.rejected
print(out.inserted, out.duplicates)
"""


def _write(tmp_path: Path) -> dict[str, Path]:
    acc = tmp_path / "accounts.csv"
    acc.write_text(
        "account_id,name,domain,arr,contract_start\n"
        + "".join(f"A{i},Firm {i},firm{i}.com,{1000 + i},2024-01-01\n" for i in range(300))
    )
    tickets = tmp_path / "tickets.csv"
    tickets.write_text(
        "ticket_id,requester_email,created_at,body\n"
        + "".join(f"T{i},x@firm{i % 300}.com,2025-03-01,text number {i}\n" for i in range(2000))
    )
    surv = tmp_path / "surveys.csv"
    surv.write_text(
        "response_id,account_id,submitted_at,score,comment\n"
        + "".join(
            f"S{i},A{i % 300},2025-03-01,{i % 11},{'why ' + str(i) if i % 2 else ''}\n"
            for i in range(1000)
        )
    )
    return {"accounts": acc, "tickets": tickets, "surveys": surv}


def test_concurrent_ingests_of_one_file_double_nothing(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs UNDERTOW_TEST_POSTGRES_URL (PostgreSQL)")
    files = _write(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for kind in ("accounts", "tickets", "surveys"):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", SCRIPT, database_url, kind, str(files[kind])],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for _ in range(2)
        ]
        results = [p.communicate(timeout=240) for p in procs]
        assert all(p.returncode == 0 for p in procs), [err for _, err in results]
        inserted = sum(int(out.split()[0]) for out, _ in results)
        expected = {"accounts": 300, "tickets": 2000, "surveys": 1000}[kind]
        assert inserted == expected  # each row inserted by exactly one of the two
    with engine.connect() as conn:

        def count(table: Any, *where: Any) -> int:
            return int(
                conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
            )

        assert count(accounts) == 300
        assert count(documents, documents.c.kind == "ticket") == 2000
        assert count(surveys) == 1000
        assert count(documents, documents.c.kind == "survey") == 500
        assert count(surveys, surveys.c.document_id.is_not(None)) == 500
