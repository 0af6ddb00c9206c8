"""The HTTP boundary: headers on every /v1 answer, docs that work offline."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert

from api.app import create_app
from api.keys import create_key
from api.settings import ApiSettings
from ingest.db.schema import accounts, risk_predictions, risk_runs
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


def _overflowing_snapshot(engine: Any) -> None:
    """A snapshot as an older store could hold it: an ARR of 1e308 (ingested before the
    bounds), an expected LTV of inf, and revenue risk whose sums the fit stored as null."""
    now = datetime(2026, 11, 1)
    with engine.begin() as conn:
        for aid, arr in (("BIG", 1e308), ("OK", 50_000.0)):
            conn.execute(insert(accounts).values(
                account_id=aid, name=aid, name_norm=aid.lower(), segment="smb", arr=arr,
                currency="USD", contract_start=date(2024, 1, 1), source="csv",
                source_file="accounts.csv", source_line=2, row_hash=aid, updated_at=now,
            ))  # fmt: skip
        conn.execute(insert(risk_runs).values(
            run_id="r1", as_of=date(2026, 10, 31), created_at=now, model_version="m1",
            status="complete", n_accounts=2, params={},
            metrics={"revenue_risk": {"90": {"total": {"arr": None, "expected_churned_arr": None,
                                                        "low": 0.0, "high": None, "accounts": 2},
                                              "segments": []}}},
        ))  # fmt: skip
        for aid, arr, ltv in (("BIG", 1e308, float("inf")), ("OK", 50_000.0, 120_000.0)):
            p = {f"p_churn_{h}d{s}": 0.5 for h in (90, 180, 365) for s in ("", "_low", "_high")}
            conn.execute(insert(risk_predictions).values(
                run_id="r1", account_id=aid, arr=arr, segment="smb", sentiment=0.1,
                sentiment_trend=-0.1, expected_ltv=ltv, reason="x", drivers=[], **p,
            ))  # fmt: skip


def test_no_route_answers_500_or_emits_a_non_finite_number(tmp_path: Path) -> None:
    with _app(tmp_path) as client:
        engine = client.app.state.engine  # type: ignore[attr-defined]
        _overflowing_snapshot(engine)
        auth = {"Authorization": f"Bearer {create_key(engine, 'admin')['key']}"}
        for path in (
            "/v1/revenue-risk",
            "/v1/revenue-risk?horizon_days=365",
            "/v1/churn-risk",
            "/v1/accounts/BIG",
            "/v1/signals?list=risk",
            "/v1/provenance/p_churn/BIG",
        ):
            r = client.get(path, headers=auth)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
            assert "Infinity" not in r.text and "NaN" not in r.text, path
            json.loads(r.text)
        for fmt in ("csv", "parquet"):
            r = client.get(f"/v1/churn-risk?format={fmt}", headers=auth)
            assert r.status_code == 200
            assert b"inf" not in r.content.lower() and b"nan" not in r.content.lower()


def test_the_export_writes_no_non_finite_number_in_any_format(
    engine: Any, cli_env: dict[str, str]
) -> None:
    from hostile_support import undertow

    _overflowing_snapshot(engine)
    for fmt in ("json", "csv"):
        out = undertow(cli_env, "export", "churn-risk", "--format", fmt).stdout
        assert "inf" not in out.lower() and "nan" not in out.lower(), fmt
    rows = json.loads(undertow(cli_env, "export", "churn-risk", "--format", "json").stdout)
    big = next(r for r in rows if r["account_id"] == "BIG")
    assert big["expected_ltv"] is None and big["arr"] == 1e308
