"""The HTTP boundary: headers on every /v1 answer, docs that work offline."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import create_key
from api.settings import ApiSettings
from ingest.settings import Settings


def _app(tmp_path: Path) -> TestClient:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'u.db'}", data_dir=tmp_path / "d")
    return TestClient(create_app(settings, ApiSettings(rate_limit_per_second=0)))


def test_every_v1_answer_is_nosniff_and_no_store(tmp_path: Path) -> None:
    with _app(tmp_path) as client:
        key = create_key(client.app.state.engine, "finance")["key"]  # type: ignore[attr-defined]
        auth = {"Authorization": f"Bearer {key}"}
        answers = [
            client.get("/v1/churn-risk"),  # 401
            client.get("/v1/churn-risk", headers=auth),  # 409: no fit yet
            client.get("/v1/churn-risk?horizon_days=7", headers=auth),  # 422
            client.get("/v1/accounts/nope", headers=auth),  # 404
            client.get("/v1/nothing-here", headers=auth),  # 404
        ]
        assert [r.status_code for r in answers] == [401, 409, 422, 404, 404]
        for r in answers:
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["cache-control"] == "no-store"
        assert "no-store" not in client.get("/health").headers.get("cache-control", "")


def test_docs_are_served_from_the_installed_package_not_a_cdn(tmp_path: Path) -> None:
    with _app(tmp_path) as client:
        page = client.get("/docs")
        assert page.status_code == 200 and "swagger" in page.text.lower()
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert assets and all(a.startswith("/docs/static/") for a in assets), assets
        assert "http://" not in page.text and "https://" not in page.text
        for asset in assets:
            r = client.get(asset)
            assert r.status_code == 200 and len(r.content) > 100, asset
        assert client.get("/openapi.json").status_code == 200
