"""Every route, every role, every status the contract names (200, 401, 403, 404, 422)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

ROUTES_BY_ROLE = {
    "/v1/signals?list=risk": {"sales"},
    "/v1/accounts/A1": {"sales", "finance", "marketing"},
    "/v1/churn-risk?horizon_days=90": {"finance"},
    "/v1/revenue-risk?horizon_days=180": {"finance"},
    "/v1/provenance/p_churn/A1": {"finance"},
    "/v1/provenance/sentiment/A1": {"sales", "finance", "marketing"},
}


@pytest.mark.parametrize("route", sorted(ROUTES_BY_ROLE))
def test_roles_get_200_or_403(client: TestClient, as_role: Any, route: str) -> None:
    for role in ("sales", "finance", "marketing", "admin"):
        r = client.get(route, headers=as_role(role))
        allowed = role == "admin" or role in ROUTES_BY_ROLE[route]
        assert r.status_code == (200 if allowed else 403), (role, r.text)
        if not allowed:
            assert r.json()["error"] == "forbidden"


BAD_AUTH = [
    {},
    {"Authorization": "Bearer ut_0123456789abcdef_nope"},
    {"Authorization": "Bearer not-a-key"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
]


@pytest.mark.parametrize("route", ["/v1/signals", "/v1/churn-risk", "/v1/dark-funnel"])
def test_no_or_unknown_key_is_401(client: TestClient, route: str) -> None:
    for headers in BAD_AUTH:
        r = client.get(route, headers=headers)
        assert r.status_code == 401, headers
        body = r.json()
        assert body["error"] == "unauthorized" and body["request_id"]
        assert r.headers["www-authenticate"] == "Bearer"


def test_a_forged_secret_for_a_real_key_id_is_401(client: TestClient, store: Any) -> None:
    key_id = store.keys["finance"].split("_")[1]
    r = client.get("/v1/churn-risk", headers={"Authorization": f"Bearer ut_{key_id}_forged"})
    assert r.status_code == 401


def test_health_needs_no_key(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["database"] is True
    assert body["model_version"] == "cox-test-1"
    assert body["sentiment_model_version"] == "sent-test-1"


def _ids(body: dict[str, Any]) -> list[str]:
    return [i["account_id"] for i in body["items"]]


def test_signals_rank_by_the_models_by_default(client: TestClient, as_role: Any) -> None:
    h = as_role("sales")
    risk = client.get("/v1/signals?list=risk", headers=h).json()
    assert risk["sort"] == "p_churn_90d"
    assert _ids(risk) == ["A1", "A2", "A4", "A3"]  # p_churn_90d 0.40, 0.20, 0.08, 0.05
    first = risk["items"][0]
    assert first["p_churn_90d"] == pytest.approx(0.40) and first["reason"]
    assert first["revenue_at_risk"] == pytest.approx(48_000.0)
    assert first["p_expand_180d"] == pytest.approx(0.05)
    assert first["texts_90d"] == 3 and first["trend_confident"] is True
    assert risk["items"][1]["trend_confident"] is False  # trend_weight 0.4
    # evidence: the most negative texts of the 90 days before as_of, never after it, and
    # never a neutral one (A1's 'Onboarding was fine.', +0.2, is in the window)
    texts = [e["text"] for e in first["evidence"]]
    assert texts == [
        "Support ignored our outage for three days.",
        "The new billing page keeps failing.",
    ]
    assert all(e["source_file"].endswith("reviews.csv") for e in first["evidence"])
    expansion = client.get("/v1/signals?list=expansion", headers=h).json()
    assert expansion["sort"] == "p_expand_180d"
    assert _ids(expansion) == ["A3", "A4", "A2", "A1"]
    top = expansion["items"][0]
    assert top["reason"] == "Expansion more likely: NPS above typical (A3)"  # the model's own
    assert [d["feature"] for d in top["drivers"]] == ["nps_level"]  # the cited drivers only
    assert top["evidence"][0]["sentiment"] == pytest.approx(0.9)
    assert expansion["expansion_model_version"] == "expansion_pem-v1-test"


def test_signal_sorts_on_request(client: TestClient, as_role: Any) -> None:
    h = as_role("sales")
    rar = client.get("/v1/signals?list=risk&sort=revenue_at_risk", headers=h).json()
    assert _ids(rar) == ["A1", "A2", "A3", "A4"]  # 48,000, 8,000, 3,000, 640
    # sort=trend keeps the first round's lists: falling (risk) / rising (expansion) only
    trend = client.get("/v1/signals?list=risk&sort=trend", headers=h).json()
    assert _ids(trend) == ["A1", "A2"]
    rising = client.get("/v1/signals?list=expansion&sort=trend", headers=h).json()
    assert _ids(rising) == ["A3", "A4"]
    bad = client.get("/v1/signals?list=expansion&sort=revenue_at_risk", headers=h)
    assert bad.status_code == 422 and "p_expand_180d" in bad.json()["detail"]


def test_signal_filters(client: TestClient, as_role: Any) -> None:
    h = as_role("sales")
    assert _ids(client.get("/v1/signals?segment=mid", headers=h).json()) == ["A2", "A3"]
    assert _ids(client.get("/v1/signals?min_arr=50000", headers=h).json()) == ["A1", "A3"]
    assert _ids(client.get("/v1/signals?min_texts=2", headers=h).json()) == ["A1", "A3"]
    both = client.get("/v1/signals?list=expansion&segment=mid&min_texts=2", headers=h).json()
    assert _ids(both) == ["A3"] and both["filters"]["min_texts"] == 2
    assert client.get("/v1/signals?min_arr=-1", headers=h).status_code == 422


def test_signal_calibration_line(client: TestClient, as_role: Any) -> None:
    h = as_role("sales")
    cal = client.get("/v1/signals?list=risk&limit=25", headers=h).json()["calibration"]
    assert cal["top_n"] == 25 and cal["rate"] == pytest.approx(0.4)
    assert cal["origin"] == "2026-08-02" and cal["base_rate"] == pytest.approx(0.05)
    assert cal["pooled_rate"] == pytest.approx(0.38) and cal["origins_pooled"] == 2
    assert cal["text"].startswith("Of the 25 accounts ranked like these last quarter")
    assert "40% churned within 90 days" in cal["text"]
    cal = client.get("/v1/signals?list=risk&sort=trend", headers=h).json()["calibration"]
    assert cal["top_n"] == 50 and cal["rate"] == pytest.approx(0.1)  # the trend's own record
    exp = client.get("/v1/signals?list=expansion&limit=100", headers=h).json()["calibration"]
    assert exp["top_n"] == 100 and "opened an expansion opportunity within 180 days" in exp["text"]


@pytest.mark.parametrize(
    "query",
    [
        "list=risk",
        "list=risk&sort=revenue_at_risk",
        "list=risk&sort=trend",
        "list=expansion",
        "list=expansion&sort=trend",
        "list=risk&segment=mid",
    ],
)
def test_signal_pages_follow_the_cursor(client: TestClient, as_role: Any, query: str) -> None:
    h = as_role("sales")
    whole = _ids(client.get(f"/v1/signals?{query}", headers=h).json())
    walked, cursor = [], ""
    for _ in range(10):
        page = client.get(f"/v1/signals?{query}&limit=1{cursor}", headers=h).json()
        walked += _ids(page)
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert walked == whole and whole


def test_a_cursor_belongs_to_its_list_sort_and_filters(client: TestClient, as_role: Any) -> None:
    h = as_role("sales")
    first = client.get("/v1/signals?list=expansion&limit=1", headers=h).json()
    c = first["next_cursor"]
    for other in ("list=risk", "list=expansion&sort=trend", "list=expansion&segment=mid"):
        r = client.get(f"/v1/signals?{other}&cursor={c}", headers=h)
        assert r.status_code == 422, other


def test_signals_as_csv(client: TestClient, as_role: Any) -> None:
    h = as_role("sales")
    r = client.get("/v1/signals?list=risk&format=csv", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "signals-risk-p_churn_90d-2026-10-31.csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [x["account_id"] for x in rows] == ["A1", "A2", "A4", "A3"]
    assert rows[0]["rank"] == "1" and float(rows[0]["p_churn_90d"]) == pytest.approx(0.4)
    assert rows[1]["name"].startswith("'=")  # a formula never runs in a spreadsheet
    page = client.get("/v1/signals?list=expansion&format=csv&limit=2", headers=h)
    assert len(list(csv.DictReader(io.StringIO(page.text)))) == 2
    assert page.headers["x-next-cursor"]


def test_account_view(client: TestClient, as_role: Any) -> None:
    body = client.get("/v1/accounts/A1", headers=as_role("marketing")).json()
    assert body["account"]["name"] == "Acme Corp"
    assert body["trajectory_source"] == "snapshot"
    assert [p["month"] for p in body["trajectory"]] == ["2026-08-01", "2026-10-01"]
    assert body["risk"]["horizons"]["90"]["revenue_at_risk"] == pytest.approx(48_000.0)
    assert body["evidence"][0]["source_line"] >= 2
    assert body["provenance"]["p_churn"] == "/v1/provenance/p_churn/A1"


def test_churned_account_has_a_view_without_risk(client: TestClient, as_role: Any) -> None:
    body = client.get("/v1/accounts/A5", headers=as_role("sales")).json()
    assert body["risk"] is None and body["trajectory_source"] == "texts"
    assert body["trajectory"][0]["sentiment"] == pytest.approx(-0.9)


NOT_FOUND = [
    ("sales", "/v1/accounts/NOPE"),
    ("finance", "/v1/provenance/p_churn/NOPE"),
    ("finance", "/v1/provenance/revenue_at_risk/A5"),
    ("marketing", "/v1/provenance/self_reported_share/not_a_channel"),
    ("admin", "/v1/ingest/runs/999"),
    ("admin", "/v1/no-such-route"),
]


def test_unknown_things_are_404(client: TestClient, as_role: Any) -> None:
    for role, route in NOT_FOUND:
        r = client.get(route, headers=as_role(role))
        assert r.status_code == 404, (route, r.text)
        assert r.json()["error"] == "not_found"


BAD_PARAMETERS = [
    ("sales", "/v1/signals?list=sideways"),
    ("sales", "/v1/signals?limit=0"),
    ("sales", "/v1/signals?limit=100000"),
    ("sales", "/v1/signals?cursor=%%%"),
    ("sales", "/v1/signals?cursor=eyJxIjoxfQ"),
    ("finance", "/v1/churn-risk?horizon_days=30"),
    ("finance", "/v1/churn-risk?horizon_days=abc"),
    ("finance", "/v1/churn-risk?format=xlsx"),
    ("finance", "/v1/revenue-risk?horizon_days=91"),
    ("marketing", "/v1/dark-funnel?from=yesterday"),
    ("marketing", "/v1/dark-funnel?from=2026-05-01&to=2026-01-01"),
    ("finance", "/v1/provenance/not_a_metric/A1"),
    ("admin", "/v1/ingest/runs/0"),
]


def test_bad_parameters_are_422(client: TestClient, as_role: Any) -> None:
    for role, route in BAD_PARAMETERS:
        r = client.get(route, headers=as_role(role))
        assert r.status_code == 422, (route, r.text)
        assert r.json()["error"] == "invalid_input"


def test_churn_feed_json_pages_cover_every_account_once(client: TestClient, as_role: Any) -> None:
    h = as_role("finance")
    seen, cursor = [], None
    for _ in range(10):
        url = "/v1/churn-risk?horizon_days=365&limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=h).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [r["account_id"] for r in seen] == ["A1", "A2", "A3", "A4"]
    a1 = seen[0]
    assert a1["p_churn"] == pytest.approx(0.88)
    assert a1["revenue_at_risk"] == pytest.approx(120_000 * 0.88)
    assert a1["as_of"] == "2026-10-31" and a1["model_version"] == "cox-test-1"
    assert a1["p_churn_low"] <= a1["p_churn"] <= a1["p_churn_high"]


def test_churn_feed_csv_is_neutralized_and_parquet_reads(client: TestClient, as_role: Any) -> None:
    h = as_role("finance")
    r = client.get("/v1/churn-risk?format=csv", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["account_id"] for row in rows] == ["A1", "A2", "A3", "A4"]
    assert rows[1]["name"].startswith("'=")  # a formula never reaches a spreadsheet raw
    assert float(rows[0]["revenue_at_risk"]) == pytest.approx(48_000.0)
    r = client.get("/v1/churn-risk?format=parquet&horizon_days=180", headers=h)
    table = pq.read_table(io.BytesIO(r.content))
    assert table.num_rows == 4 and "expected_ltv" in table.column_names
    parquet_rows = table.to_pylist()  # text neutralised as in CSV, dates typed
    assert parquet_rows[1]["name"] == rows[1]["name"]
    assert isinstance(parquet_rows[0]["as_of"], date)


def test_revenue_risk_totals_and_segments(client: TestClient, as_role: Any) -> None:
    body = client.get("/v1/revenue-risk?horizon_days=90", headers=as_role("finance")).json()
    expected = 120_000 * 0.40 + 40_000 * 0.20 + 60_000 * 0.05 + 8_000 * 0.08
    total = body["total"]
    assert total["expected_churned_arr"] == pytest.approx(expected)
    assert total["low"] <= total["expected_churned_arr"] <= total["high"]
    assert total["accounts"] == 4
    by_segment = {s["segment"]: s for s in body["segments"]}
    assert set(by_segment) == {"enterprise", "mid", "smb"}
    assert sum(s["expected_churned_arr"] for s in body["segments"]) == pytest.approx(expected)


def test_a_newer_fit_is_served_at_once_despite_the_page_cache(
    client: TestClient, as_role: Any, add_run: Any
) -> None:
    h = as_role("finance")
    assert client.get("/v1/churn-risk", headers=h).json()["run_id"] == "run-0001"
    signals = client.get("/v1/signals?limit=1", headers=as_role("sales")).json()
    assert signals["run_id"] == "run-0001"
    add_run("run-0002")
    assert client.get("/v1/churn-risk", headers=h).json()["run_id"] == "run-0002"
    assert client.get("/v1/signals", headers=as_role("sales")).json()["run_id"] == "run-0002"
    # a cursor taken on the older snapshot keeps reading it
    page = client.get(
        f"/v1/signals?limit=1&cursor={signals['next_cursor']}", headers=as_role("sales")
    )
    assert page.json()["run_id"] == "run-0001"


def test_feed_columns_are_the_exports_columns() -> None:
    from api.schemas.churn import ChurnRow
    from risk.feeds import CHURN_COLUMNS

    assert list(ChurnRow.model_fields) == CHURN_COLUMNS  # every door writes the same file
