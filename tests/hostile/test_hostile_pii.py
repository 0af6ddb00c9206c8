"""Card numbers, IBANs and SSNs never reach the stored texts; the quarantine keeps the
original row for admins only, and is purged by age."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hostile_support import error_line, ingest_json, undertow
from sqlalchemy import Engine, insert, select, update

from api.app import create_app
from api.keys import create_key
from api.settings import ApiSettings
from ingest.db.schema import documents, quarantine
from ingest.masking import iban_valid, luhn_valid, mask_pii
from ingest.settings import Settings

CARD, IBAN, SSN = "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00", "123-45-6789"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"IBAN {IBAN} please", "IBAN [iban] please"),
        ("wire to GB82WEST12345698765432.", "wire to [iban]."),
        (f"card {CARD} exp 12/29", "card [card] exp 12/29"),
        ("card 5500-0000-0000-0004", "card [card]"),
        (f"my SSN is {SSN}", "my SSN is [ssn]"),
        ("call +44 20 7946 0958 or (555) 123-4567", "call [phone] or [phone]"),
        # look-alikes that fail their checks stay
        ("DE89 3704 0044 0532 0130 01", "DE89 3704 0044 0532 0130 01"),
        ("order 4111 1111 1111 1112", "order 4111 1111 1111 1112"),
        ("ticket 000-12-3456", "ticket 000-12-3456"),
        ("v1.2.3.4 on 2025-03-01 for $1,200.50", "v1.2.3.4 on 2025-03-01 for $1,200.50"),
    ],
)
def test_masking(text: str, masked: str) -> None:
    assert mask_pii(text) == masked


def test_checksums() -> None:
    assert iban_valid(IBAN) and not iban_valid(IBAN[:-1] + "1")
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


def test_stored_texts_are_masked_and_the_quarantine_is_admin_only(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    acc = tmp_path / "a.csv"
    acc.write_text("account_id,name,arr,contract_start\nA1,Acme,100,2024-01-01\n")
    ingest_json(cli_env, "accounts", str(acc))
    path = tmp_path / "t.csv"
    path.write_text(
        "ticket_id,account_id,created_at,body\n"
        f'T1,A1,2025-03-01,"Refund to {IBAN}, card {CARD}, SSN {SSN}"\n'
        f'T2,A1,not a date,"Card {CARD} again"\n'
    )
    out = ingest_json(cli_env, "tickets", str(path))
    assert (out["inserted"], out["rejected"]) == (1, 1)
    with engine.connect() as conn:
        text = conn.execute(select(documents.c.text)).scalar_one()
        raw = conn.execute(select(quarantine.c.raw)).scalar_one()
    assert text == "Refund to [iban], card [card], SSN [ssn]"
    assert CARD in raw  # the contract: the original row, for admins to fix and re-ingest
    app = create_app(Settings.from_env(cli_env), ApiSettings(rate_limit_per_second=0))
    with TestClient(app) as client:
        paths = [p for p in app.openapi()["paths"] if p.startswith("/v1")]
        assert not [p for p in paths if "quarantine" in p]  # no route serves it
        for role in ("sales", "finance", "marketing"):
            auth = {"Authorization": f"Bearer {create_key(engine, role)['key']}"}
            for url in ("/v1/accounts/A1", "/v1/provenance/sentiment/A1", "/v1/ingest/runs/1"):
                r = client.get(url, headers=auth)
                assert r.status_code in (200, 403, 409) and "1111" not in r.text, (role, url)
                if url == "/v1/accounts/A1":
                    assert "[card]" in r.text  # the masked text is the evidence


def _age(engine: Engine, days: float) -> None:
    with engine.begin() as conn:
        conn.execute(update(quarantine).values(created_at=datetime.now() - timedelta(days=days)))


def test_quarantine_purge_by_age_and_by_setting(
    tmp_path: Path, engine: Engine, cli_env: dict[str, str]
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("ticket_id,created_at,body\nT1,bad,x\nT2,bad,y\n")
    ingest_json(cli_env, "tickets", str(path))
    _age(engine, 40)
    with engine.begin() as conn:
        conn.execute(insert(quarantine).values(
            kind="tickets", source_file="new.csv", source_line=2, raw="{}", row_hash="n",
            reason="r", created_at=datetime.now(),
        ))  # fmt: skip
    line = error_line(undertow(cli_env, "quarantine", "purge", code=2))
    assert "--older-than" in line and "UNDERTOW_QUARANTINE_RETENTION_DAYS" in line
    out = json.loads(
        undertow(cli_env, "quarantine", "purge", "--older-than", "30", "--json").stdout
    )
    assert out == {"deleted": 2, "older_than_days": 30}
    with engine.connect() as conn:
        assert [r.source_file for r in conn.execute(select(quarantine))] == ["new.csv"]
    # the setting: purge without a flag, and every ingest before it starts
    _age(engine, 10)
    env = {**cli_env, "UNDERTOW_QUARANTINE_RETENTION_DAYS": "7"}
    assert json.loads(undertow(env, "quarantine", "purge", "--json").stdout)["deleted"] == 1
    ingest_json(cli_env, "tickets", str(path))
    _age(engine, 10)
    again = ingest_json(env, "tickets", str(path))
    assert again["rejected"] == 2
    with engine.connect() as conn:
        ages = [r.created_at for r in conn.execute(select(quarantine))]
    assert len(ages) == 2 and all(a > datetime.now() - timedelta(days=1) for a in ages)
