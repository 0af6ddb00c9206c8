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
from ingest.settings import Settings

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


def test_the_quickstart_ingests_every_kind_a_demo_world_has(
    tmp_path: Path, engine: Engine, settings: Settings
) -> None:
    """A world that also writes the marketing kinds (as the demo world's marketing side
    will) has them ingested, accounts first and leads before opportunities."""
    from api.commands.serving import ingest_world
    from ingest.db.schema import experiments, leads, spend

    demo = pytest.importorskip("ingest.demo")
    files = demo.write_world(demo.build_world(accounts=12, months=6, seed=5), tmp_path / "world")
    extra = {
        "spend": "date,channel,spend\n2025-03-03,paid_ads,100\n2025-03-10,paid_ads,120\n",
        "leads": "lead_id,email,created_at,mql_at\nL1,a@new.example,2025-03-01,2025-03-02\n",
        "experiments": "experiment_id,channel,start,end,spend_delta,outcome,lift\n"
        "X1,paid_ads,2025-03-03,2025-03-16,-500,pipeline,-900\n",
    }
    for kind, text in extra.items():
        files[kind] = tmp_path / "world" / f"{kind}.csv"
        files[kind].write_text(text)
    done = ingest_world(engine, settings, files)
    assert list(done) == [
        "accounts", "leads", "opportunities", "spend", "experiments",
        "reviews", "tickets", "surveys", "attribution",
    ]  # fmt: skip
    assert "truth" not in done
    assert (done["spend"]["inserted"], done["leads"]["unresolved"]) == (2, 1)
    with engine.connect() as conn:
        for table, n in ((spend, 2), (leads, 1), (experiments, 1)):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == n
