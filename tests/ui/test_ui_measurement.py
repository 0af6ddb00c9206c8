"""The marketing measurement in the role views: the marketing view's channel-impact panel
(every method side by side, ROI by method, disagreements, diagnostics, response curves),
the finance view's ROI table, forecast fan chart, scenario form and forecast ledger, and
the forecast downloads. Each page is checked against the API's answer for the same store
(``GET /v1/channel-impact``, ``GET /v1/forecast``), so a number on a page and the same
number from the API agree. The store is the session's measured demo world
(``tests/measured_store.py``), copied so that these tests cannot change what the
measurement tests see."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from measured_store import MeasuredStore, copy_store
from sqlalchemy import Engine, insert

from api.app import create_app
from api.forecast_file import FORECAST_COLUMNS, forecast_file
from api.keys import ROLES, create_key
from api.settings import ApiSettings
from api.ui.formatting import CHANNEL_LABELS, assumption, money, pct, sig, signed_money
from ingest.db.engine import open_store
from ingest.db.schema import measurement_runs
from marketing.measure import get_measurement, stored_posterior

pytestmark = pytest.mark.slow


def sign_in(client: TestClient, key: str) -> Any:
    """Sign in through the form as a browser would (not imported from ``conftest``: with
    several test folders on the command line that name may be another folder's)."""
    page = client.get("/ui/login")
    return client.post(
        "/ui/login",
        data={"key": key, "csrf_token": _csrf(page.text), "next": ""},
        follow_redirects=False,
    )


@dataclass
class Measured:
    client: TestClient
    engine: Engine
    keys: dict[str, str]

    def sign_in(self, role: str) -> TestClient:
        self.client.cookies.clear()
        assert sign_in(self.client, self.keys[role]).status_code == 303
        return self.client

    def api(self, path: str, role: str = "finance", **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.keys[role]}"}
        return self.client.get(path, params=params, headers=headers)


@contextmanager
def _open(store: MeasuredStore, folder: Path) -> Iterator[Measured]:
    settings = copy_store(store, folder)
    engine = open_store(settings)
    keys = {role: create_key(engine, role)["key"] for role in ROLES}
    app = create_app(settings, ApiSettings(rate_limit_per_second=0, access_log=False))
    with TestClient(app, base_url="http://testserver") as client:
        yield Measured(client, engine, keys)
    engine.dispose()


@pytest.fixture(scope="module")
def measured(
    measured_store: MeasuredStore,
    measured_run: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Measured]:
    with _open(measured_store, tmp_path_factory.mktemp("ui_measured")) as m:
        yield m


def _section(page: str, testid: str) -> str:
    """The element carrying ``data-testid``, up to its own closing tag."""
    start = page.rindex("<", 0, page.index(f'data-testid="{testid}"'))
    tag = re.match(r"<(\w+)", page[start:]).group(1)  # type: ignore[union-attr]
    depth = 0
    for m in re.finditer(rf"<(/?){tag}\b", page[start:]):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            return page[start : start + m.end()]
    raise AssertionError(f"<{tag} data-testid={testid}> is not closed")


def _figure(page: str, name: str) -> dict[str, Any]:
    found = re.search(rf'id="chart-{re.escape(name)}" data-figure="([^"]+)"', page)
    assert found, f"chart {name} is on the page"
    return json.loads(html.unescape(found.group(1)))  # type: ignore[no-any-return]


def _row(section: str, channel: str) -> str:
    start = section.index(f'data-channel="{channel}"')
    return section[start : section.index("</tr>", start)]


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


# ---------------------------------------------------------------- marketing view
def test_marketing_panel_puts_every_method_side_by_side(measured: Measured) -> None:
    api = measured.api("/v1/channel-impact", "marketing").json()
    page = measured.sign_in("marketing").get("/ui/marketing")
    assert page.status_code == 200
    panel = _section(page.text, "impact-methods")
    outcome = api["outcome_total"]
    assert outcome and api["channels"]
    for c in api["channels"]:
        row = _row(panel, c["channel"])
        # the reconciled model, with its intervals
        for v in (c["contribution"], c["contribution_low"], c["contribution_high"]):
            assert money(v) in row
        for v in (c["roi"], c["roi_low"], c["roi_high"], c["marginal_roi"]):
            assert sig(v) in row
        # what buyers say and what tracking saw, in money of the period
        assert pct(c["self_reported_share"]) in row
        assert money(c["self_reported_share"] * outcome) in row
        assert money(c["self_reported_share_low"] * outcome) in row
        assert money(c["tracked_share"] * outcome) in row
        # the lift test against the model's lift for the same test
        if c["experiment_id"]:
            assert c["experiment_id"] in row
            for v in (
                c["experiment_lift"],
                c["experiment_lift_low"],
                c["model_lift"],
                c["model_lift_high"],
            ):
                assert money(v) in row
    assert any(c["experiment_id"] for c in api["channels"]), "the demo world has lift tests"
    totals = _section(page.text, "impact-totals")
    for key in ("baseline", "dark_pipeline", "paid_contribution"):
        for v in (api[key], api[f"{key}_low"], api[f"{key}_high"]):
            assert money(v) in totals
    diagnostics = _section(page.text, "channel-impact")
    assert f"R-hat max {api['diagnostics']['r_hat_max']:.3f}" in diagnostics
    assert api["run_id"] in diagnostics


def test_roi_chart_shows_each_method_with_its_interval(measured: Measured) -> None:
    api = measured.api("/v1/channel-impact", "marketing").json()
    page = measured.sign_in("marketing").get("/ui/marketing").text
    fig = _figure(page, "roi")
    traces = {t["name"]: t for t in fig["data"]}
    assert {"media-mix model (reconciled)", "what buyers say", "what tracking saw",
            "lift test (incremental)", "model on the same test"} <= set(traces)  # fmt: skip
    by_label = {CHANNEL_LABELS.get(c["channel"], c["channel"]): c for c in api["channels"]}
    model = traces["media-mix model (reconciled)"]
    assert sorted(model["x"]) == sorted(by_label)
    for k, label in enumerate(model["x"]):
        c = by_label[label]
        assert model["y"][k] == pytest.approx(c["roi"])
        assert model["y"][k] + model["error_y"]["array"][k] == pytest.approx(c["roi_high"])
        assert model["y"][k] - model["error_y"]["arrayminus"][k] == pytest.approx(c["roi_low"])
        buyers = traces["what buyers say"]["y"][k]
        assert buyers == pytest.approx(c["self_reported_share"] * api["outcome_total"] / c["spend"])
    # a lift test's ROI is per unit of its spend change: a cut (negative change) that lost
    # pipeline (negative lift) is a positive ROI, with a well-ordered interval
    lift = traces["lift test (incremental)"]
    for k, y in enumerate(lift["y"]):
        if y is not None:
            assert y > 0
            assert lift["error_y"]["array"][k] >= 0 and lift["error_y"]["arrayminus"][k] >= 0


def test_response_curves_mark_todays_spend(measured: Measured) -> None:
    run = get_measurement(measured.engine)
    posterior, _ = stored_posterior(run)
    page = measured.sign_in("marketing").get("/ui/marketing").text
    section = _section(page, "response-curves")
    assert section.count('class="chart"') == len(posterior.channels)
    for j, channel in enumerate(posterior.channels):
        fig = _figure(page, f"curve-{channel}")
        today = next(t for t in fig["data"] if t.get("name") == "today's spend")
        assert today["x"][0] == pytest.approx(float(posterior.spend[-13:, j].sum()), abs=0.01)
        line = next(t for t in fig["data"] if t.get("name") == "expected pipeline")
        assert line["x"][0] == 0 and line["x"] == sorted(line["x"])
        assert today["y"][0] == pytest.approx(line["y"][line["x"].index(today["x"][0])])


def test_disagreements_are_listed_in_words(measured: Measured) -> None:
    api = measured.api("/v1/channel-impact", "marketing").json()
    section = _section(measured.sign_in("marketing").get("/ui/marketing").text, "disagreements")
    if api["disagreements"]:
        for d in api["disagreements"]:
            assert html.escape(d["detail"]) in section
    else:
        assert "No method's interval excludes the reconciled figure's" in section


def test_marketing_period_selects_the_measured_weeks(measured: Measured) -> None:
    whole = measured.api("/v1/channel-impact", "marketing").json()
    first = datetime.fromisoformat(whole["from"]).date()
    period = {
        "from": (first + timedelta(weeks=4)).isoformat(),
        "to": (first + timedelta(weeks=13)).isoformat(),
    }
    part = measured.api("/v1/channel-impact", "marketing", **period).json()
    client = measured.sign_in("marketing")
    page = client.get("/ui/marketing", params=period).text
    assert f"({part['weeks']})" in _section(page, "channel-impact")
    assert money(part["outcome_total"]) in _section(page, "impact-totals")
    empty = client.get("/ui/marketing", params={"from": "1990-01-01", "to": "1990-02-01"})
    assert empty.status_code == 200
    assert "has none of them" in _section(empty.text, "impact-error")


def _copy_of_latest(engine: Engine, **changes: Any) -> None:
    """Store a copy of the latest run as a newer run, with ``changes``."""
    run = get_measurement(engine)
    row = {**run, "run_id": str(uuid.uuid4()),
           "created_at": datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=1), **changes}  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(measurement_runs).values(**row))


def page_of(m: Measured, role: str) -> str:
    return m.sign_in(role).get(f"/ui/{role}").text


def test_a_run_that_did_not_converge_is_flagged(
    measured_store: MeasuredStore, measured_run: dict[str, Any], tmp_path: Path
) -> None:
    with _open(measured_store, tmp_path) as m:
        diagnostics = {**measured_run["diagnostics"], "converged": True, "problems": []}
        said = {
            "channel": "event",
            "method": "self_reported",
            "detail": "buyers credit <b>more</b>",
        }
        result = {**measured_run["result"], "disagreements": [said]}
        _copy_of_latest(m.engine, status="ok", diagnostics=diagnostics, result=result)
        for role, path in (("marketing", "/ui/marketing"), ("finance", "/ui/finance")):
            page = m.sign_in(role).get(path).text
            assert 'data-testid="not-converged"' not in page
            assert "Diagnostics: converged" in page
        listed = _section(page_of(m, "marketing"), "disagreements")
        assert (
            "<strong>event</strong> (self reported): buyers credit &lt;b&gt;more&lt;/b&gt;."
            in listed
        )
        bad = {
            **diagnostics,
            "converged": False,
            "r_hat_max": 1.31,
            "problems": ["R-hat 1.310 > 1.05"],
        }
        _copy_of_latest(m.engine, status="not_converged", diagnostics=bad)
        for role, path in (("marketing", "/ui/marketing"), ("finance", "/ui/finance")):
            page = m.sign_in(role).get(path).text
            warning = page[page.index('data-testid="not-converged"') :].split("</p>")[0]
            assert "did not converge" in warning and "R-hat 1.310 &gt; 1.05" in warning
            assert "Diagnostics: NOT converged" in page


def test_views_say_to_run_measure_before_the_first_measurement(
    ui_client: TestClient, ui_store: Any
) -> None:
    sign_in(ui_client, ui_store.keys["admin"])
    for path in ("/ui/marketing", "/ui/finance"):
        page = ui_client.get(path)
        assert page.status_code == 200
        notice = page.text[page.text.index('data-testid="no-measurement"') :].split("</p>")[0]
        assert "run <code>undertow measure</code>" in notice
    assert 'data-testid="pipeline-ledger"' in ui_client.get("/ui/finance").text
    assert ui_client.get("/ui/forecast.csv").status_code == 409


# ---------------------------------------------------------------- finance view
def test_finance_shows_roi_per_channel_and_the_forecast_fan(measured: Measured) -> None:
    impact = measured.api("/v1/channel-impact").json()
    page = measured.sign_in("finance").get("/ui/finance")
    assert page.status_code == 200
    table = _section(page.text, "channel-roi")
    for c in impact["channels"]:
        for v in (c["contribution"], c["contribution_low"], c["contribution_high"]):
            assert money(v) in table
        assert f"{sig(c['roi_low'])} – {sig(c['roi_high'])}" in table
    weeks = int(re.search(r'name="weeks" min="1" max="\d+" value="(\d+)"', page.text).group(1))  # type: ignore[union-attr]
    api = measured.api("/v1/forecast", weeks=weeks).json()
    fan = _section(page.text, "pipeline-forecast")
    assert api["forecast_id"] in fan  # the page's forecast is the recorded one
    assert money(api["total"]["p50"]) in fan and money(api["total"]["p10"]) in fan
    fig = _figure(page.text, "forecast")
    traces = {t.get("name"): t for t in fig["data"]}
    run = get_measurement(measured.engine)
    posterior, _ = stored_posterior(run)
    actual = traces["actual"]
    assert actual["x"][-1] == posterior.weeks[-1].isoformat()
    assert actual["y"] == pytest.approx(
        [round(float(v), 2) for v in posterior.outcome[-len(actual["x"]) :]]
    )
    assert traces["forecast P50"]["x"] == [w["week"] for w in api["weeks"]]
    assert traces["forecast P50"]["y"] == [w["p50"] for w in api["weeks"]]
    assert traces["forecast P10-P90"]["y"] == [w["p10"] for w in api["weeks"]]
    assert "scenario P50" not in traces


def test_scenario_is_shown_beside_the_base_and_recorded(measured: Measured) -> None:
    client = measured.sign_in("finance")
    page = client.get("/ui/finance").text
    weeks = int(re.search(r'name="weeks" value="(\d+)"', page).group(1))  # type: ignore[union-attr]
    channel = get_measurement(measured.engine)["posterior"]["channels"][0]
    text = f"channel={channel}:spend*=0.5"
    res = client.post(
        "/ui/finance/scenario",
        data={
            "csrf_token": _csrf(page),
            "assumptions": f"\n {text} \n\n",
            "name": "halve it",
            "weeks": str(weeks),
            "horizon_days": "90",
        },  # fmt: skip
    )
    assert res.status_code == 200, res.text[:500]
    api = measured.api("/v1/forecast", weeks=weeks, assumption=[text]).json()
    result = _section(res.text, "scenario")
    words = assumption({"channel": channel, "op": "*=", "value": 0.5, "percent": False})
    line = result[result.index('data-testid="scenario-result"') :].split("</p>")[0]
    assert html.escape(words) in line and "halve it" in line
    for q in ("p10", "p50", "p90"):
        assert signed_money(api["change"][q]) in line
        assert money(api["base"]["total"][q]) in result and money(api["total"][q]) in result
    assert api["change"]["p50"] < 0  # halving a channel's spend loses pipeline
    assert api["forecast_id"] in result and html.escape(text) in result
    assert "scenario P50" in {t.get("name") for t in _figure(res.text, "forecast")["data"]}
    ledger = _section(client.get("/ui/finance").text, "pipeline-ledger")
    row = ledger[ledger.index(f'data-forecast="{api["forecast_id"]}"') :].split("</tr>")[0]
    assert html.escape(text) in row and "halve it" in row
    # how it has turned out so far, as GET /v1/forecasts says (the session's store may hold
    # an earlier measurement whose forecast weeks have passed and been judged)
    entry = next(
        f for f in measured.api("/v1/forecasts").json()["forecasts"]
        if f["forecast_id"] == api["forecast_id"]
    )  # fmt: skip
    assert f"{entry['weeks_judged']} / {weeks}" in row
    assert pct(entry["weekly_coverage_p10_p90"], 0) in row and pct(entry["weekly_p50_mape"]) in row


def test_bad_assumptions_show_their_error_in_the_page(measured: Measured) -> None:
    client = measured.sign_in("finance")
    token = _csrf(client.get("/ui/finance").text)
    for text, message in (
        ("channel=tv:spend*=2", "unknown channel &#39;tv&#39;"),
        ("channel=paid_ads:spend*=-1", "factor"),
        ("channel=paid_ads:clicks*=2", "target &#39;spend&#39;"),
        ("spend", "expected an assumption like"),
    ):
        res = client.post("/ui/finance/scenario", data={"csrf_token": token, "assumptions": text})
        assert res.status_code == 422, text
        error = res.text[res.text.index('data-testid="scenario-error"') :].split("</p>")[0]
        assert message in error, (text, error)
        assert 'data-testid="forecast-total"' in res.text  # the base plan is still shown
    many = "\n".join(["spend*=1"] * 21)
    assert (
        client.post(
            "/ui/finance/scenario", data={"csrf_token": token, "assumptions": many}
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/ui/finance/scenario", data={"csrf_token": token, "assumptions": " \n"}
        ).status_code
        == 422
    )
    too_far = client.get("/ui/finance", params={"weeks": 52})
    assert too_far.status_code == 422 and "--weeks must be 1 to" in _section(
        too_far.text, "pipeline-forecast"
    )


def test_the_scenario_form_needs_its_token_and_the_finance_role(measured: Measured) -> None:
    client = measured.sign_in("finance")
    data = {"assumptions": "spend*=1.1"}
    assert (
        client.post("/ui/finance/scenario", data={**data, "csrf_token": "wrong"}).status_code == 403
    )
    token = _csrf(client.get("/ui/finance").text)
    foreign = client.post("/ui/finance/scenario", data={**data, "csrf_token": token},
                          headers={"Origin": "https://evil.example"})  # fmt: skip
    assert foreign.status_code == 403
    client = measured.sign_in("marketing")
    token = _csrf(client.get("/ui/marketing").text)
    assert (
        client.post("/ui/finance/scenario", data={**data, "csrf_token": token}).status_code == 403
    )
    client.cookies.clear()
    signed_out = client.post("/ui/finance/scenario", data=data, follow_redirects=False)
    assert signed_out.status_code == 303 and "/ui/login" in signed_out.headers["location"]


# ---------------------------------------------------------------- downloads
def test_forecast_downloads_agree_with_the_api(measured: Measured) -> None:
    weeks, text = 8, "spend-=10%"
    api = measured.api("/v1/forecast", weeks=weeks, assumption=[text]).json()
    client = measured.sign_in("marketing")
    res = client.get("/ui/forecast.csv", params={"weeks": weeks, "assumption": text})
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/csv")
    assert res.headers["x-forecast-id"] == api["forecast_id"]
    assert "attachment" in res.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(res.text)))
    assert list(rows[0]) == FORECAST_COLUMNS
    assert [r["period"] for r in rows] == ["week"] * weeks + ["total"]
    for r, w in zip(rows, api["weeks"], strict=False):
        assert r["from"] == w["week"] and float(r["p50"]) == w["p50"] and r["assumptions"] == text
    total = rows[-1]
    assert float(total["p90"]) == api["total"]["p90"]
    assert float(total["base_p50"]) == api["base"]["total"]["p50"]
    assert float(total["change_p10"]) == api["change"]["p10"]
    # the API's file is the same forecast, the same bytes
    same = measured.api("/v1/forecast", "marketing", weeks=weeks, assumption=[text], format="csv")
    assert same.status_code == 200 and same.content == res.content
    parquet = client.get("/ui/forecast.parquet", params={"weeks": weeks, "assumption": text})
    assert parquet.status_code == 200
    table = pq.read_table(io.BytesIO(parquet.content)).to_pylist()
    assert [r["p50"] for r in table[:-1]] == [w["p50"] for w in api["weeks"]]
    assert table[-1]["change_p50"] == api["change"]["p50"]
    api_parquet = measured.api("/v1/forecast", weeks=weeks, assumption=[text], format="parquet")
    assert pq.read_table(io.BytesIO(api_parquet.content)).to_pylist() == table
    # JSON stays the default; bad formats, assumptions and roles are refused
    assert measured.api("/v1/forecast", weeks=weeks).headers["content-type"] == "application/json"
    assert measured.api("/v1/forecast", format="xml").status_code == 422
    assert (
        client.get("/ui/forecast.csv", params={"assumption": "channel=tv:spend*=2"}).status_code
        == 422
    )
    assert client.get("/ui/forecast.xlsx").status_code in (404, 422)
    assert measured.sign_in("sales").get("/ui/forecast.csv").status_code == 403


def test_forecast_file_neutralises_formula_text() -> None:
    result = {
        "forecast_id": "f1", "measurement_run_id": "=cmd|' /C calc'!A0", "as_of": "2026-01-04",
        "outcome": "pipeline", "model_version": "@SUM(1)", "measurement_status": "ok",
        "definitions_version": "1", "assumptions": [{"text": "+spend*=2"}, {"text": "-x"}],
        "weeks": [{"week": "2026-01-05", "p10": -1.0, "p50": 2.0, "p90": 3.0}],
        "total": {"p10": -1.0, "p50": 2.0, "p90": 3.0},
    }  # fmt: skip
    body, headers = forecast_file(result, "csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert rows[0]["measurement_run_id"].startswith("'=") and rows[0]["model_version"] == "'@SUM(1)"
    assert rows[0]["assumptions"] == "'+spend*=2; -x" and rows[0]["p10"] == "-1.0"
    assert rows[1]["period"] == "total" and rows[1]["base_p50"] == ""
    parquet, _ = forecast_file(result, "parquet")
    table = pq.read_table(io.BytesIO(parquet)).to_pylist()
    assert table[0]["model_version"] == "'@SUM(1)" and table[0]["p10"] == -1.0
    assert headers["X-Forecast-Id"] == "f1"
