"""A small demo world ingested whole through `undertow ingest` (accounts first), and a
second ingest of the same files inserts nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from api.cli import cli
from ingest.db.schema import accounts, documents, opportunities, quarantine, surveys

ORDER = ["accounts", "reviews", "tickets", "surveys", "attribution", "opportunities"]


def _rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.DictReader(fh))


def test_demo_world_ingests_whole_and_reingest_inserts_nothing(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    demo = pytest.importorskip("ingest.demo")
    files = demo.write_world(demo.build_world(accounts=25, months=6, seed=3), tmp_path / "world")
    runner = CliRunner()
    first: dict[str, dict[str, int]] = {}
    for kind in ORDER:
        res = runner.invoke(cli, ["ingest", kind, str(files[kind]), "--json"], env=cli_env)
        assert res.exit_code == 0, res.output
        first[kind] = json.loads(res.stdout)
        out = first[kind]
        assert out["read"] == _rows(files[kind]) > 0
        assert (out["inserted"], out["rejected"]) == (out["read"], 0), (kind, out)
    # every text resolves to one of the world's accounts, but reviews posted anonymously
    # (no account id, no domain, a company the accounts do not know)
    assert all(first[k]["unresolved"] == 0 for k in ORDER if k != "reviews")
    with files["reviews"].open(newline="", encoding="utf-8") as fh:
        anonymous = sum(
            1 for r in csv.DictReader(fh) if not r["account_id"] and not r["reviewer_domain"]
        )
    assert first["reviews"]["unresolved"] <= anonymous
    for kind in ORDER:
        res = runner.invoke(cli, ["ingest", kind, str(files[kind]), "--json"], env=cli_env)
        again = json.loads(res.stdout)
        assert (again["inserted"], again["duplicates"]) == (0, first[kind]["read"]), kind
    with engine.connect() as conn:

        def count(table: object, *where: object) -> int:
            return int(
                conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
            )  # type: ignore[arg-type]

        assert count(accounts) == first["accounts"]["read"]
        assert count(surveys) == first["surveys"]["read"]
        assert count(opportunities) == first["opportunities"]["read"]
        assert count(documents, documents.c.kind == "ticket") == first["tickets"]["read"]
        assert count(documents, documents.c.kind == "attribution") == first["attribution"]["read"]
        assert count(documents, documents.c.account_id.is_(None)) == first["reviews"]["unresolved"]
        assert count(quarantine) == 0
