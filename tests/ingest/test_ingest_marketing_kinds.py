"""`undertow ingest spend|leads|experiments` at the boundary users touch: every bad row
quarantined with its reason, file and line; re-ingests insert nothing; corrections update
in place and count once (a duplicate with `updated`, never inserted too); the first row
of a repeated id in a file wins; leads and opportunities of prospects resolve when their
account arrives."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from api.cli import cli
from ingest.db.schema import (
    experiments,
    ingest_runs,
    leads,
    opportunities,
    quarantine,
    spend,
)
from ingest.pipeline import ingest_paths, ingest_records
from ingest.rows import digest
from ingest.settings import Settings

SPEND_HEADER = "date,channel,spend,currency,campaign,segment,impressions,clicks\n"
COUNTS = ("read", "inserted", "duplicates", "rejected", "unresolved", "updated")


def run(env: dict[str, str], *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(cli, ["ingest", *args, "--json"], env=env)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if code == 0 else result


def counts(out: dict[str, Any]) -> tuple[int, ...]:
    assert out["read"] == out["inserted"] + out["duplicates"] + out["rejected"]
    return tuple(out[k] for k in COUNTS)


def rows(engine: Engine, table: Any, order: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(table).order_by(order)))


def reasons(engine: Engine, kind: str) -> dict[int, str]:
    with engine.connect() as conn:
        q = select(quarantine.c.source_line, quarantine.c.reason).where(quarantine.c.kind == kind)
        return {r.source_line: r.reason for r in conn.execute(q)}


# ----------------------------------------------------------------- spend
def test_spend_bad_rows_are_quarantined_and_good_ones_keep_their_provenance(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    p = tmp_path / "spend.csv"
    p.write_text(
        SPEND_HEADER
        + "2025-03-03,paid_ads,1200.50,,brand,smb,10000,300\n"  # 2 ok
        + "2025-03-03,Paid Search,800,usd,generic,,,\n"  # 3 alias -> paid_ads
        + "2025-03-03,tv,500,,,,,\n"  # 4 not in the taxonomy
        + "2025-03-03,linkedin,500,,,,,\n"  # 5 ambiguous
        + "2025-03-03,direct,500,,,,,\n"  # 6 names no channel
        + "2025-03-03,event,-5,,,,,\n"  # 7 negative spend
        + "2025-03-03,event,5,XYZ,,,,\n"  # 8 not a currency
        + ",event,5,,,,,\n"  # 9 no date
        + "2025-03-03,event,,,,,,\n"  # 10 no spend
        + "2025-03-03,event,0,,booth,,,\n"  # 11 ok: zero spend is data
        + "2025-03-03,paid_ads,1200.50,USD,brand,smb,10000,300\n"  # 12 same figure: duplicate
        + "2025-03-03,paid_ads,999,USD,brand,smb,10000,300\n"  # 13 same key, other figure
        + "2025-03-10,content,50,EUR,,,-1,\n"  # 14 negative impressions
        + "2025-03-10,Webinar,75.25,EUR,,,,\n",  # 15 ok: alias -> event
        encoding="utf-8",
    )
    out = run(cli_env, "spend", str(p))
    assert counts(out) == (14, 4, 1, 9, 0, 0)
    bad = reasons(engine, "spend")
    assert sorted(bad) == [4, 5, 6, 7, 8, 9, 10, 13, 14]
    assert "'tv' is not a channel of the taxonomy" in bad[4]
    assert "'linkedin' is ambiguous" in bad[5] and "paid_ads" in bad[5]
    assert "not a channel" in bad[6]
    assert bad[7] == "'spend' must be between 0 and 1e+12, got '-5'"
    assert "'currency' is not an ISO 4217 code" in bad[8]
    assert "missing required 'date'" in bad[9]
    assert "missing required 'spend'" in bad[10]
    assert "of line 2 with other values" in bad[13]
    assert bad[14] == "'impressions' must be between 0 and 1e+12, got '-1'"
    stored = rows(engine, spend, spend.c.source_line)
    assert [(r.source_line, r.channel, r.channel_given, r.spend, r.currency) for r in stored] == [
        (2, "paid_ads", "paid_ads", 1200.5, "USD"),
        (3, "paid_ads", "Paid Search", 800.0, "USD"),
        (11, "event", "event", 0.0, "USD"),
        (15, "event", "Webinar", 75.25, "EUR"),
    ]
    first = stored[0]
    assert (first.date, first.campaign, first.segment, first.impressions, first.clicks) == (
        date(2025, 3, 3), "brand", "smb", 10000.0, 300.0,
    )  # fmt: skip
    assert first.source_file == str(p.resolve()) and first.ingest_run_id == out["run_ids"][0]
    assert first.row_hash == digest("\x1f".join(["2025-03-03", "paid_ads", "1200.50", "", "brand",
                                                 "smb", "10000", "300"]))  # fmt: skip
    assert stored[1].campaign == "generic" and stored[1].segment is None

    again = run(cli_env, "spend", str(p))
    assert counts(again) == (14, 0, 5, 9, 0, 0)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(quarantine)).scalar_one() == 9
    assert len(rows(engine, spend, spend.c.id)) == 4


def test_a_corrected_spend_figure_updates_the_stored_one(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    first = tmp_path / "spend_march.csv"
    first.write_text(
        SPEND_HEADER + "2025-03-03,paid_ads,1000,,brand,,,\n2025-03-03,event,10,,,,,\n"
    )
    assert counts(run(cli_env, "spend", str(first))) == (2, 2, 0, 0, 0, 0)
    fixed = tmp_path / "spend_march_restated.csv"
    fixed.write_text(
        SPEND_HEADER + "2025-03-03,event,10,,,,,\n2025-03-03,Paid Ads,1100,,brand,,,\n"
    )
    assert counts(run(cli_env, "spend", str(fixed))) == (2, 0, 2, 0, 0, 1)
    stored = {r.channel: r for r in rows(engine, spend, spend.c.id)}
    assert len(stored) == 2
    assert stored["paid_ads"].spend == 1100.0
    assert (stored["paid_ads"].source_file, stored["paid_ads"].source_line) == (
        str(fixed.resolve()), 3,
    )  # fmt: skip
    assert stored["event"].source_file == str(first.resolve())  # unchanged: kept as first seen
    # another campaign or segment is another figure, never a correction
    other = tmp_path / "spend_split.csv"
    other.write_text(SPEND_HEADER + "2025-03-03,paid_ads,1100,,brand,smb,,\n")
    assert counts(run(cli_env, "spend", str(other))) == (1, 1, 0, 0, 0, 0)


def test_spend_from_json_lines_and_the_http_route_count_alike(
    tmp_path: Path, engine: Engine, settings: Settings, cli_env: dict[str, str]
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.keys import create_key

    records = [
        {"date": "2025-03-03", "channel": "ppc", "spend": 10, "campaign": "=cmd()"},
        {"date": "2025-03-03", "channel": "radio", "spend": 10},
        {"date": "2025-03-04", "channel": "search", "spend": "USD 1,200.00"},
    ]
    p = tmp_path / "spend.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert counts(run(cli_env, "spend", str(p))) == (3, 2, 0, 1, 0, 0)
    admin = create_key(engine, "admin")["key"]
    marketing = create_key(engine, "marketing")["key"]
    with TestClient(create_app(settings)) as client:
        res = client.post(
            "/v1/ingest/spend", json=records, headers={"Authorization": f"Bearer {admin}"}
        )
        assert res.status_code == 200, res.text
        assert {k: res.json()[k] for k in ("read", "inserted", "duplicates", "rejected")} == {
            "read": 3, "inserted": 0, "duplicates": 2, "rejected": 1,
        }  # fmt: skip
        fixed = [{**records[2], "spend": 1300}]
        res = client.post(
            "/v1/ingest/spend", json=fixed, headers={"Authorization": f"Bearer {admin}"}
        )
        assert {k: res.json()[k] for k in ("inserted", "duplicates", "updated")} == {
            "inserted": 0, "duplicates": 1, "updated": 1,
        }  # fmt: skip
        for kind in ("leads", "experiments"):
            denied = client.post(
                f"/v1/ingest/{kind}", json=[], headers={"Authorization": f"Bearer {marketing}"}
            )
            assert denied.status_code == 403
    stored = {r.channel: r for r in rows(engine, spend, spend.c.id)}
    assert stored["paid_ads"].campaign == "=cmd()" and stored["search"].spend == 1300.0


# ----------------------------------------------------------------- leads
LEADS_HEADER = (
    "lead_id,account_id,email,created_at,mql_at,sql_at,opportunity_id,tracked_source,segment\n"
)


def test_leads_resolve_like_documents_and_progress_in_place(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    p = tmp_path / "leads.csv"
    p.write_text(
        LEADS_HEADER
        + "L1,ACC-1,,2025-01-02,2025-01-10,,,paid_search,smb\n"  # 2 by account id
        + "L2,,Jane@Globex.io,2025-01-03T09:00:00Z,,,,organic_search,\n"  # 3 by e-mail domain
        + "L3,P-9,bob@prospect.example,2025-01-04,2025-01-04,2025-01-20,O-9,event,mid\n"  # 4
        + "L4,,,2025-01-05,2025-01-01,,,,\n"  # 5 MQL before creation
        + "L5,,,2025-01-05,2025-01-09,2025-01-08,,,\n"  # 6 SQL before MQL
        + "L6,,,2025-01-05,,2025-01-01,,,\n"  # 7 SQL before creation
        + "L7,,,,,,,,\n"  # 8 no creation date
        + "L8,,,2025-01-06,,2025-01-07,,,\n",  # 9 ok: SQL without MQL
        encoding="utf-8",
    )
    acc = tmp_path / "accounts.csv"
    acc.write_text(
        "account_id,name,domain,segment,arr,contract_start\n"
        "ACC-1,Acme,acme.com,smb,1000,2024-01-01\nACC-2,Globex,globex.io,mid,2000,2024-01-01\n"
    )
    run(cli_env, "accounts", str(acc))
    out = run(cli_env, "leads", str(p))
    assert counts(out) == (8, 4, 0, 4, 2, 0)
    bad = reasons(engine, "leads")
    assert sorted(bad) == [5, 6, 7, 8]
    assert bad[5] == "'mql_at' is before 'created_at'"
    assert bad[6] == "'sql_at' is before 'mql_at'"
    assert bad[7] == "'sql_at' is before 'created_at'"
    assert bad[8] == "missing required 'created_at'"
    got = {r.lead_id: r for r in rows(engine, leads, leads.c.id)}
    assert {k: (r.account_id, r.resolved_by) for k, r in got.items()} == {
        "L1": ("ACC-1", "account_id"),
        "L2": ("ACC-2", "domain"),
        "L3": (None, None),
        "L8": (None, None),
    }
    assert got["L2"].email_hash == digest("jane@globex.io") and got["L1"].email_hash is None
    assert got["L2"].created_at == datetime(2025, 1, 3, 9, 0)
    assert got["L3"].account_ref == {"account_id": "P-9", "domain": "prospect.example"}
    assert (got["L3"].opportunity_id, got["L3"].sql_at) == ("O-9", datetime(2025, 1, 20))

    assert counts(run(cli_env, "leads", str(p))) == (8, 0, 4, 4, 2, 0)
    # the CRM's next export: L1 became an SQL; the prospect P-9 became a customer
    later = tmp_path / "leads_later.csv"
    later.write_text(LEADS_HEADER + "L1,ACC-1,,2025-01-02,2025-01-10,2025-02-01,,paid_search,smb\n")
    assert counts(run(cli_env, "leads", str(later))) == (1, 0, 1, 0, 0, 1)
    acc.write_text(
        "account_id,name,domain,segment,arr,contract_start\nP-9,Prospect,,mid,500,2025-02-01\n"
    )
    assert run(cli_env, "accounts", str(acc))["reresolved"] >= 1
    got = {r.lead_id: r for r in rows(engine, leads, leads.c.id)}
    assert got["L1"].sql_at == datetime(2025, 2, 1) and got["L1"].source_line == 2
    assert got["L1"].source_file == str(later.resolve())
    assert (got["L3"].account_id, got["L3"].resolved_by) == ("P-9", "account_id")
    assert len(got) == 4


# ----------------------------------------------------------------- experiments
EXP_HEADER = "experiment_id,channel,start,end,spend_delta,outcome,lift,lift_low,lift_high,design\n"


def test_experiments_are_checked_as_lift_tests(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    p = tmp_path / "experiments.csv"
    p.write_text(
        EXP_HEADER
        + "X1,paid_ads,2025-03-03,2025-03-30,-20000,pipeline,-45000,-70000,-20000,holdout\n"  # 2
        + "X2,Podcast,2025-04-01,2025-04-28,15000,Leads,30,,,GEO\n"  # 3 ok
        + "X3,paid_ads,2025-03-30,2025-03-03,-100,pipeline,-1,,,\n"  # 4 end before start
        + "X4,paid_ads,2025-03-03,2025-03-30,-100,revenue,-1,,,\n"  # 5 outcome
        + "X5,paid_ads,2025-03-03,2025-03-30,-100,pipeline,-1,,,survey\n"  # 6 design
        + "X6,paid_ads,2025-03-03,2025-03-30,-100,pipeline,-1,0,5,\n"  # 7 lift_low above lift
        + "X7,paid_ads,2025-03-03,2025-03-30,-100,pipeline,-1,-5,-2,\n"  # 8 lift_high below
        + "X8,paid_ads,2025-03-03,2025-03-30,-100,pipeline,-1,-5,,\n"  # 9 one end only
        + "X9,paid_ads,2025-03-03,2025-03-30,0,pipeline,-1,,,\n"  # 10 no spend change
        + "X10,billboards,2025-03-03,2025-03-30,-100,pipeline,-1,,,\n"  # 11 channel
        + "X11,event,2025-03-03,2025-03-03,500,opportunities,2,,,pulse\n",  # 12 ok: one day
        encoding="utf-8",
    )
    out = run(cli_env, "experiments", str(p))
    assert counts(out) == (11, 3, 0, 8, 0, 0)
    bad = reasons(engine, "experiments")
    assert bad == {
        4: "'end' is before 'start'",
        5: "'outcome' must be pipeline, opportunities or leads",
        6: "'design' must be geo, holdout or pulse",
        7: "'lift_low' is above 'lift'",
        8: "'lift_high' is below 'lift'",
        9: "give both 'lift_low' and 'lift_high', or neither",
        10: "'spend_delta' is 0: a lift test changes spend",
        11: bad[11],
    }
    assert "'billboards' is not a channel" in bad[11]
    got = {r.experiment_id: r for r in rows(engine, experiments, experiments.c.id)}
    x2 = got["X2"]
    assert (x2.channel, x2.channel_given, x2.outcome, x2.design, x2.lift_low) == (
        "podcast", "Podcast", "leads", "geo", None,
    )  # fmt: skip
    assert (got["X1"].start_date, got["X1"].end_date) == (date(2025, 3, 3), date(2025, 3, 30))
    assert counts(run(cli_env, "experiments", str(p))) == (11, 0, 3, 8, 0, 0)
    final = tmp_path / "experiments_final.csv"
    final.write_text(
        EXP_HEADER
        + "X1,paid_ads,2025-03-03,2025-03-30,-20000,pipeline,-52000,-75000,-30000,holdout\n"
    )
    assert counts(run(cli_env, "experiments", str(final))) == (1, 0, 1, 0, 0, 1)
    got = {r.experiment_id: r for r in rows(engine, experiments, experiments.c.id)}
    assert (got["X1"].lift, got["X1"].lift_high) == (-52000.0, -30000.0) and len(got) == 3


@pytest.mark.parametrize("chunk_rows", [10_000, 1])
def test_a_repeated_id_in_a_file_first_row_wins_for_leads_and_experiments(
    tmp_path: Path, engine: Engine, settings: Settings, chunk_rows: int
) -> None:
    """As for accounts: within one file the first row of a repeated id wins and the later
    ones are duplicates, whether or not they fall in the same chunk; a later file with
    other values corrects the record once (a duplicate that updated)."""
    lead_file = tmp_path / "leads.csv"
    lead_file.write_text(
        LEADS_HEADER
        + "L1,,,2025-01-02,2025-01-10,,,paid_search,smb\n"
        + "L1,,,2025-01-02,2025-01-11,2025-01-20,,paid_search,smb\n"
        + "L2,,,2025-01-03,,,,,\n"
    )
    exp_file = tmp_path / "experiments.csv"
    exp_file.write_text(
        EXP_HEADER
        + "X1,paid_ads,2025-03-03,2025-03-30,-100,pipeline,-10,,,\n"
        + "X1,paid_ads,2025-03-03,2025-03-30,-100,pipeline,-99,,,\n"
    )
    for kind, path, table, key, rid, col, first in (
        ("leads", lead_file, leads, "lead_id", "L1", "mql_at", datetime(2025, 1, 10)),
        ("experiments", exp_file, experiments, "experiment_id", "X1", "lift", -10.0),
    ):
        out = ingest_paths(engine, kind, [path], settings=settings, chunk_rows=chunk_rows)
        assert out.read == out.inserted + out.duplicates + out.rejected
        assert (out.inserted, out.duplicates, out.updated) == (out.read - 1, 1, 0), kind
        got = {getattr(r, key): r for r in rows(engine, table, table.c.id)}
        assert (getattr(got[rid], col), got[rid].source_line) == (first, 2)
        again = ingest_paths(engine, kind, [path], settings=settings, chunk_rows=chunk_rows)
        assert (again.inserted, again.duplicates, again.updated) == (0, again.read, 0), kind
    # a later file that restates L1 corrects it once: a duplicate that updated
    later = tmp_path / "leads_later.csv"
    later.write_text(
        LEADS_HEADER
        + "L1,,,2025-01-02,2025-01-12,,,paid_search,smb\n"
        + "L1,,,2025-01-02,2025-01-13,,,paid_search,smb\n"
    )
    out = ingest_paths(engine, "leads", [later], settings=settings, chunk_rows=chunk_rows)
    assert (out.read, out.inserted, out.duplicates, out.updated) == (2, 0, 2, 1)
    got = {r.lead_id: r for r in rows(engine, leads, leads.c.id)}
    assert got["L1"].mql_at == datetime(2025, 1, 12) and len(got) == 2


def test_a_missing_required_column_names_it(tmp_path: Path, cli_env: dict[str, str]) -> None:
    p = tmp_path / "spend.csv"
    p.write_text("date,spend\n2025-03-03,10\n")
    res = run(cli_env, "spend", str(p), code=2)
    assert "'channel'" in res.stderr and "spend.csv" in res.stderr


# ----------------------------------------------------------------- prospects' opportunities
def test_opportunities_of_prospects_are_stored_unresolved_and_resolve_later(
    engine: Engine, settings: Settings
) -> None:
    accounts = [{"account_id": "A1", "name": "Acme", "arr": 100, "contract_start": "2024-01-01"}]
    opps = [
        {"opportunity_id": "O1", "account_id": "A1", "created_at": "2025-01-01", "amount": 10},
        {"opportunity_id": "O2", "account_id": "P-1", "created_at": "2025-01-02", "amount": 20},
        {"opportunity_id": "O3", "account_id": "P-2", "created_at": "2025-01-03", "amount": 30},
    ]
    ingest_records(engine, "accounts", accounts, settings=settings)
    out = ingest_records(engine, "opportunities", opps, settings=settings)
    assert (out.inserted, out.unresolved) == (3, 2)
    got = {r.opportunity_id: r for r in rows(engine, opportunities, opportunities.c.id)}
    assert {k: (r.account_id, r.resolved_by) for k, r in got.items()} == {
        "O1": ("A1", "account_id"), "O2": ("P-1", None), "O3": ("P-2", None),
    }  # fmt: skip
    again = ingest_records(engine, "opportunities", opps, settings=settings)
    assert (again.inserted, again.duplicates, again.unresolved) == (0, 3, 2)
    won = [{"account_id": "P-1", "name": "Prospect One", "arr": 50, "contract_start": "2025-02-01"}]
    assert ingest_records(engine, "accounts", won, settings=settings).reresolved == 1
    got = {r.opportunity_id: r for r in rows(engine, opportunities, opportunities.c.id)}
    assert (got["O2"].account_id, got["O2"].resolved_by) == ("P-1", "account_id")
    assert got["O3"].resolved_by is None
    with engine.connect() as conn:
        run_rows = conn.execute(select(ingest_runs.c.kind, ingest_runs.c.unresolved)).all()
    assert ("opportunities", 2) in [tuple(r) for r in run_rows]
