"""Review findings: inputs that must be refused with 422, never a 500."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from api.pagination import encode_cursor
from api.routers.signals import signals_query
from risk.feeds import SignalFilters

RISK = signals_query("risk", "p_churn_90d", SignalFilters())


def test_forged_signal_cursors_are_422(client: TestClient, as_role: Any) -> None:
    for key in ([10**400, "A1"], [float("nan"), "A1"], [float("inf"), "A1"]):
        cursor = encode_cursor(RISK, None, key)
        r = client.get(f"/v1/signals?list=risk&cursor={cursor}", headers=as_role("sales"))
        assert r.status_code == 422, (key, r.status_code, r.text)


def test_forged_provenance_offset_is_422(client: TestClient, as_role: Any) -> None:
    cursor = encode_cursor("prov:p_churn:A1:90", None, 10**30)
    r = client.get(f"/v1/provenance/p_churn/A1?cursor={cursor}", headers=as_role("finance"))
    assert r.status_code == 422, (r.status_code, r.text)


ODD_RECORDS = [
    {"account_id": {"x": 1}, "name": ["a"], "arr": 10**400, "contract_start": "2025-01-01"},
    {"account_id": "Z1", "name": "Z", "arr": "1e999", "contract_start": "9999-99-99"},
    {"account_id": "Z2", "name": "Z", "arr": -1, "contract_start": None, "churned_at": 5},
    {"account_id": "Z3\x00", "name": "\ud800", "arr": True, "contract_start": "2025-01-01"},
]


def test_odd_ingest_records_never_500(client: TestClient, as_role: Any) -> None:
    for kind in ("accounts", "reviews", "surveys", "opportunities"):
        for rec in ODD_RECORDS:
            body = json.dumps([rec], default=str)  # ASCII escapes: a lone surrogate travels
            headers = {**as_role("admin"), "Content-Type": "application/json"}
            r = client.post(f"/v1/ingest/{kind}", content=body, headers=headers)
            assert r.status_code in (200, 422), (kind, rec, r.status_code, r.text)


def test_extreme_dark_funnel_dates_never_500(client: TestClient, as_role: Any) -> None:
    for query in ("from=0001-01-01&to=9999-12-31", "to=9999-12-31", "from=9999-12-31"):
        r = client.get(f"/v1/dark-funnel?{query}", headers=as_role("marketing"))
        assert r.status_code in (200, 422), (query, r.status_code, r.text)
        r = client.get(
            f"/v1/provenance/self_reported_share/community?{query}", headers=as_role("marketing")
        )
        assert r.status_code in (200, 404, 422), (query, r.status_code, r.text)


def test_nul_characters_in_ids_never_500(client: TestClient, as_role: Any) -> None:
    for role, route in (
        ("sales", "/v1/accounts/A%00"),
        ("finance", "/v1/provenance/p_churn/A%00"),
        ("marketing", "/v1/provenance/self_reported_share/x%00"),
        ("finance", "/v1/churn-risk?cursor=" + encode_cursor("churn:90", "r\x00", "A\x00")),
        ("sales", "/v1/signals?cursor=" + encode_cursor(RISK, None, [-0.2, "A\x00"])),
        ("sales", "/v1/signals?cursor=" + encode_cursor(RISK, "r\x00", [-0.2, "A"])),
        ("sales", "/v1/signals?segment=A%00"),
    ):
        r = client.get(route, headers=as_role(role))
        assert r.status_code in (200, 404, 422), (route, r.status_code, r.text)
    r = client.get("/v1/signals", headers={"Authorization": "Bearer ut_abc_x\x00y"})
    assert r.status_code == 401
