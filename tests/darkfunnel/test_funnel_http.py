"""GET /v1/dark-funnel serves the measurement (the HTTP boundary marketing touches)."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from api.keys import create_key
from ingest.settings import Settings
from marketing.dark_funnel import measure


def test_dark_funnel_route_returns_the_contract_figures(
    funnel_world: Engine, settings: Settings
) -> None:
    marketing = create_key(funnel_world, "marketing")["key"]
    sales = create_key(funnel_world, "sales")["key"]
    with TestClient(create_app(settings)) as client:
        res = client.get(
            "/v1/dark-funnel",
            params={"from": "2025-02-01", "to": "2025-03-31"},
            headers={"Authorization": f"Bearer {marketing}"},
        )
        assert res.status_code == 200, res.text
        body = res.json()
        expected = measure(funnel_world, date(2025, 2, 1), date(2025, 3, 31))
        assert body["dark_share"] == expected["dark_share"]
        assert body["n"] == 9
        assert [c["channel"] for c in body["channels"]][:5] == [
            "peer_referral",
            "community",
            "podcast",
            "ai_assistant",
            "social",
        ]
        assert all(c["dark"] == (i < 5) for i, c in enumerate(body["channels"]))
        denied = client.get("/v1/dark-funnel", headers={"Authorization": f"Bearer {sales}"})
        assert denied.status_code == 403
