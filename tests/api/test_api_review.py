"""Review findings: inputs that must be refused with 422, never a 500."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.pagination import encode_cursor


def test_forged_signal_cursors_are_422(client: TestClient, as_role: Any) -> None:
    for key in ([10**400, "A1"], [float("nan"), "A1"], [float("inf"), "A1"]):
        cursor = encode_cursor("signals:risk", None, key)
        r = client.get(f"/v1/signals?list=risk&cursor={cursor}", headers=as_role("sales"))
        assert r.status_code == 422, (key, r.status_code, r.text)


def test_forged_provenance_offset_is_422(client: TestClient, as_role: Any) -> None:
    cursor = encode_cursor("prov:p_churn:A1:90", None, 10**30)
    r = client.get(f"/v1/provenance/p_churn/A1?cursor={cursor}", headers=as_role("finance"))
    assert r.status_code == 422, (r.status_code, r.text)
