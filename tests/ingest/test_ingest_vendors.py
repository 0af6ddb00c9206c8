"""Every shipped vendor mapping, on a small fixture in the vendor's published column names,
through `undertow ingest --mapping NAME`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import Engine, select

from api.cli import cli
from ingest.db.schema import accounts, documents, quarantine, surveys

VENDORS = Path(__file__).parent / "fixtures" / "vendors"


def ingest(env: dict[str, str], kind: str, name: str, mapping: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli, ["ingest", kind, str(VENDORS / name), "--mapping", mapping, "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["read"] == out["inserted"] + out["duplicates"] + out["rejected"]
    return out


def _doc(engine: Engine, source_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(documents).where(documents.c.source_id == source_id)).one()


def _reasons(engine: Engine, kind: str) -> dict[int, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(quarantine.c.source_line, quarantine.c.reason).where(quarantine.c.kind == kind)
        )
        return {r.source_line: r.reason for r in rows}


def test_vendor_exports_ingest_through_their_mappings(
    engine: Engine, cli_env: dict[str, str]
) -> None:
    out = ingest(cli_env, "accounts", "salesforce_accounts.csv", "salesforce")
    assert (out["inserted"], out["rejected"]) == (2, 1)
    assert "'arr' is not a number" in _reasons(engine, "accounts")[4]
    with engine.connect() as conn:
        globex = conn.execute(select(accounts).where(accounts.c.name == "Globex, Inc.")).one()
        initech = conn.execute(select(accounts).where(accounts.c.name == "Initech")).one()
    assert (globex.domain, globex.arr, str(globex.contract_start)) == (
        "globex.io",
        48000.0,
        "2023-03-01",
    )
    assert (initech.currency, str(initech.churned_at), initech.source) == (
        "EUR",
        "2025-06-30",
        "salesforce",
    )

    out = ingest(cli_env, "tickets", "zendesk_tickets.jsonl", "zendesk")
    assert (out["read"], out["inserted"], out["rejected"], out["unresolved"]) == (3, 2, 1, 1)
    first = _doc(engine, "35436")
    assert (first.source, first.account_id, first.resolved_by) == (
        "zendesk",
        globex.account_id,
        "domain",
    )
    assert first.rating == 1.0 and first.attrs == {"status": "open", "priority": "high"}
    assert "[phone]" in first.text and "201-3344" not in first.text
    assert str(_doc(engine, "35437").created_at) == "2025-02-05 13:00:00"
    assert "missing required 'body'" in _reasons(engine, "tickets")[3]
    # the API-style document {"tickets": [...]} holds two of the same tickets
    out = ingest(cli_env, "tickets", "zendesk_tickets.json", "zendesk")
    assert (out["read"], out["inserted"], out["duplicates"]) == (2, 0, 2)

    out = ingest(cli_env, "reviews", "g2_reviews.csv", "g2")
    assert (out["inserted"], out["rejected"]) == (2, 1)
    review = _doc(engine, "8812345")
    assert (review.source, review.account_id, review.resolved_by) == (
        "g2",
        globex.account_id,
        "name",
    )
    assert review.text.startswith(
        "Dashboards are fast.\nSharing is easy.\n\nThe price went up 20%."
    )
    assert review.rating == 4.0 and review.title == "Solid, but pricey"
    assert "'rating' must be between 1 and 5" in _reasons(engine, "reviews")[5]

    out = ingest(cli_env, "surveys", "typeform_nps.csv", "typeform")
    assert (out["inserted"], out["rejected"], out["unresolved"]) == (2, 1, 1)
    out = ingest(cli_env, "surveys", "qualtrics_nps.csv", "qualtrics")
    assert (out["inserted"], out["rejected"]) == (2, 1)
    assert sorted(_reasons(engine, "surveys")) == [4, 6]  # typeform line 4, qualtrics line 6
    with engine.connect() as conn:
        rows = {r.response_id: r for r in conn.execute(select(surveys))}
    assert rows["a1b2c3d4e5"].account_id == globex.account_id
    assert rows["a1b2c3d4e5"].score == 9 and rows["a1b2c3d4e5"].source == "typeform"
    assert (
        rows["R_1abcDEF234"].source_line == 4
        and rows["R_1abcDEF234"].account_id == globex.account_id
    )
    assert rows["R_2ghiJKL567"].document_id is None  # no comment, no document
    comment = _doc(engine, "a1b2c3d4e5")
    assert rows["a1b2c3d4e5"].document_id == comment.id
    assert (
        comment.kind == "survey" and "[email]" in comment.text and "globex.io" not in comment.text
    )

    out = ingest(cli_env, "attribution", "hubspot_contacts.csv", "hubspot")
    assert (out["inserted"], out["rejected"], out["unresolved"]) == (2, 1, 0)
    answer = _doc(engine, "52")
    assert answer.account_id == initech.account_id and answer.source == "hubspot"
    assert answer.attrs == {"question": "How did you hear about us?"}
    assert answer.text == "Heard it on a podcast, then asked ChatGPT"


def test_a_flat_contract_mapping_file(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    """The contract's form: a YAML of canonical_name: vendor_column; unmapped canonical
    columns still come from same-named columns."""
    mapping = tmp_path / "helpdesk.yaml"
    mapping.write_text("ticket_id: Case Number\ncreated_at: Opened\nbody: Description\n")
    data = tmp_path / "cases.csv"
    data.write_text(
        "Case Number,Opened,Description,status\n00001,2025-04-01 09:30,Printer on fire,open\n"
    )
    res = CliRunner().invoke(
        cli, ["ingest", "tickets", str(data), "--mapping", str(mapping), "--json"], env=cli_env
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["inserted"] == 1
    doc = _doc(engine, "00001")
    assert (doc.text, doc.attrs, str(doc.created_at)) == (
        "Printer on fire",
        {"status": "open"},
        "2025-04-01 09:30:00",
    )
    assert doc.source == "csv"
    data.write_text("Case Number,Description\n00002,x\n")
    res = CliRunner().invoke(
        cli, ["ingest", "tickets", str(data), "--mapping", str(mapping)], env=cli_env
    )
    assert res.exit_code == 2 and "'Opened'" in res.stderr and "cases.csv" in res.stderr
