"""Huge, infinite and NaN numbers in HTTP query parameters and ingest bodies: 422 for a
parameter, quarantine for a record (the contract's rule for bad input), never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ingest.db.schema import accounts, documents

HUGE = "9" * 400


@pytest.mark.parametrize(
    ("url", "role"),
    [
        (f"/v1/churn-risk?horizon_days={HUGE}", "finance"),
        ("/v1/churn-risk?horizon_days=inf", "finance"),
        ("/v1/churn-risk?limit=nan", "finance"),
        (f"/v1/revenue-risk?horizon_days={HUGE}", "finance"),
        (f"/v1/signals?limit={HUGE}", "sales"),
        ("/v1/signals?evidence=-inf", "sales"),
        ("/v1/signals?limit=1e3", "sales"),
        (f"/v1/provenance/p_churn/A1?horizon_days={HUGE}", "finance"),
        ("/v1/provenance/p_churn/A1?limit=nan", "finance"),
        (f"/v1/dark-funnel?from={HUGE}", "marketing"),
        (f"/v1/ingest/runs/{HUGE}", "admin"),
        ("/v1/ingest/runs/nan", "admin"),
    ],
)
def test_out_of_range_numeric_parameters_are_422(
    client: TestClient, as_role: Any, url: str, role: str
) -> None:
    r = client.get(url, headers=as_role(role))
    assert r.status_code == 422, r.text[:300]
    assert r.json()["error"] == "invalid_input"


@pytest.mark.parametrize("number", [HUGE, "1e400", "-1e400", "Infinity", "-Infinity", "NaN"])
def test_non_finite_numbers_in_an_ingest_body_are_quarantined(
    client: TestClient, as_role: Any, store: Any, number: str
) -> None:
    body = (
        f'[{{"account_id":"Z1","name":"z","arr":{number},"contract_start":"2025-01-01"}},'
        f'{{"review_id":"RZ","account_id":"A1","published_at":"2026-01-01","rating":{number},'
        f'"body":"fine"}}]'
    )
    admin = {**as_role("admin"), "content-type": "application/json"}
    with store.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(documents)).scalar()
    r = client.post("/v1/ingest/accounts", content=body.split(",{")[0] + "]", headers=admin)
    assert r.status_code == 200 and r.json()["rejected"] == 1 and r.json()["inserted"] == 0
    r = client.post("/v1/ingest/reviews", content="[{" + body.split(",{", 1)[1], headers=admin)
    assert r.status_code == 200 and r.json()["rejected"] == 1 and r.json()["inserted"] == 0
    with store.engine.connect() as conn:
        assert (
            conn.execute(select(accounts.c.account_id).where(accounts.c.account_id == "Z1")).first()
            is None
        )
        assert conn.execute(select(func.count()).select_from(documents)).scalar() == before
    assert client.get("/v1/churn-risk", headers=as_role("finance")).status_code == 200
