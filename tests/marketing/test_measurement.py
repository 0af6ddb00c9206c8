"""`undertow measure` and GET /v1/channel-impact on a small demo world, end to end: the
store's weekly series and evidence, a fitted run with its provenance, the CLI's exit
codes, the route's roles and periods. Small draws: these test plumbing, not accuracy
(``benchmarks/channel_impact.py`` judges accuracy)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from measured_store import END, SMALL, MeasuredStore
from sqlalchemy import Engine, func, select

from api.app import create_app
from api.cli import cli
from api.keys import create_key
from ingest.db.engine import open_store
from ingest.db.schema import measurement_runs, spend
from ingest.settings import Settings
from marketing.errors import NoMeasurementError
from marketing.measure import get_measurement, measure_and_store, measurement_data

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(measured_store: MeasuredStore) -> tuple[Engine, Settings, Path]:
    """The session's measured demo world (``tests/measured_store.py``, shared with the views)."""
    return measured_store.engine, measured_store.settings, measured_store.folder


@pytest.fixture(scope="module")
def run(measured_run: dict[str, Any]) -> dict[str, Any]:
    return measured_run


def test_the_run_is_stored_with_its_inputs_provenance(
    store: tuple[Engine, Settings, Path], run: dict[str, Any]
) -> None:
    engine, _, _ = store
    assert get_measurement(engine)["run_id"] == run["run_id"]
    assert run["weeks"] >= 26 and run["last_week"] <= END - timedelta(days=6)
    inputs = run["inputs"]
    lo, hi = run["first_week"], run["last_week"] + timedelta(days=7)
    with engine.connect() as conn:
        n = conn.execute(
            select(func.count()).select_from(spend).where(spend.c.date >= lo, spend.c.date < hi)
        ).scalar_one()
    assert inputs["spend"]["rows"] == n
    assert sum(f["rows"] for f in inputs["spend"]["files"]) == n
    assert inputs["answers"]["answers"] and inputs["definitions_version"]
    result = run["result"]
    channels = {c["channel"] for c in result["channels"]}
    assert channels == set(run["posterior"]["channels"]) and "paid_ads" in channels
    for c in result["channels"]:
        assert c["contribution_low"] <= c["contribution"] <= c["contribution_high"]
        assert c["roi"] == pytest.approx(c["contribution"] / c["spend"], rel=1e-3)
    # the figures add up to the outcome of the weeks
    paid = sum(c["contribution"] for c in result["channels"])
    assert paid + result["baseline"] == pytest.approx(result["outcome_total"], rel=1e-6)
    data, _ = measurement_data(engine, run["as_of"], "pipeline")
    assert result["outcome_total"] == pytest.approx(float(np.sum(data.outcome)), rel=1e-9)
    assert run["status"] in ("ok", "not_converged")
    assert set(run["diagnostics"]) >= {"r_hat_max", "divergences", "fit_mape", "converged"}


def test_as_of_ignores_what_came_later(store: tuple[Engine, Settings, Path]) -> None:
    engine, _, _ = store
    early, _ = measurement_data(engine, END - timedelta(weeks=6), "pipeline")
    late, _ = measurement_data(engine, END, "pipeline")
    assert len(late.weeks) - len(early.weeks) == 6
    assert early.weeks == late.weeks[: len(early.weeks)]
    np.testing.assert_allclose(early.outcome, late.outcome[: len(early.weeks)])


def test_cli_measure_json_and_exit_codes(store: tuple[Engine, Settings, Path]) -> None:
    _, settings, folder = store
    env = {"UNDERTOW_DATABASE_URL": settings.database_url, "UNDERTOW_DATA_DIR": str(settings.data_dir)}
    runner = CliRunner()
    res = runner.invoke(cli, ["measure", "--draws", "20", "--tune", "200", "--chains", "3", "--seed", "3",
                              "--json"], env=env)  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["diagnostics"]["draws"], out["diagnostics"]["chains"]) == (20, 3)
    assert {"as_of", "outcome", "weeks", "model_version", "channels", "baseline", "diagnostics"} <= set(out)
    assert {"channel", "dark", "spend", "contribution", "roi", "marginal_roi", "self_reported_share",
            "tracked_share", "experiment_lift"} <= set(out["channels"][0])  # fmt: skip
    many = runner.invoke(cli, ["measure", "--chains", "9"], env=env)
    assert many.exit_code == 2 and "--chains" in many.output
    bad = runner.invoke(cli, ["measure", "--as-of", "2026-02-30"], env=env)
    assert bad.exit_code == 2 and "--as-of" in bad.output
    future = runner.invoke(cli, ["measure", "--as-of", "2199-01-01"], env=env)
    assert future.exit_code == 2 and "future" in future.output
    empty = Settings(database_url=f"sqlite:///{folder / 'empty.db'}")
    none = runner.invoke(cli, ["measure"], env={**env, "UNDERTOW_DATABASE_URL": empty.database_url})
    assert none.exit_code == 2 and "ingest" in none.output


def test_too_few_weeks_is_an_input_error(store: tuple[Engine, Settings, Path]) -> None:
    _, settings, _ = store
    env = {"UNDERTOW_DATABASE_URL": settings.database_url, "UNDERTOW_DATA_DIR": str(settings.data_dir)}
    res = CliRunner().invoke(cli, ["measure", "--as-of", (END - timedelta(weeks=28)).isoformat()], env=env)
    assert res.exit_code == 2
    assert "at least 26 weeks" in res.output


def test_channel_impact_route_roles_periods_and_409(
    store: tuple[Engine, Settings, Path], run: dict[str, Any], tmp_path: Path
) -> None:
    engine, settings, _ = store
    keys = {r: create_key(engine, r)["key"] for r in ("sales", "marketing", "finance", "admin")}
    with TestClient(create_app(settings)) as client:
        def get(role: str | None, **params: str) -> Any:
            headers = {"Authorization": f"Bearer {keys[role]}"} if role else {}
            return client.get("/v1/channel-impact", params=params, headers=headers)

        assert get(None).status_code == 401
        assert get("sales").status_code == 403
        whole = get("marketing")
        assert whole.status_code == 200 and get("finance").status_code == 200
        body = whole.json()
        assert body["weeks"] >= 26 and body["diagnostics"]["r_hat_max"] is not None
        first = date.fromisoformat(body["from"])
        part = get("finance", **{"from": (first + timedelta(weeks=4)).isoformat(),
                                 "to": (first + timedelta(weeks=13)).isoformat()}).json()  # fmt: skip
        assert part["weeks"] == 10
        assert part["outcome_total"] < body["outcome_total"]
        assert get("marketing", **{"from": "2026-05-01", "to": "2026-01-01"}).status_code == 422
        assert get("marketing", **{"from": "1990-01-01", "to": "1990-02-01"}).status_code == 422
    fresh = Settings(database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    fresh_engine = open_store(fresh)
    key = create_key(fresh_engine, "marketing")["key"]
    with pytest.raises(NoMeasurementError):
        get_measurement(fresh_engine)
    with TestClient(create_app(fresh)) as client:
        res = client.get("/v1/channel-impact", headers={"Authorization": f"Bearer {key}"})
        assert res.status_code == 409 and res.json()["error"] == "no_measurement"
    fresh_engine.dispose()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(measurement_runs)).scalar_one() >= 1


def test_forecast_cli_assumptions_and_errors(store: tuple[Engine, Settings, Path], run: dict[str, Any]) -> None:
    _, settings, _ = store
    env = {"UNDERTOW_DATABASE_URL": settings.database_url, "UNDERTOW_DATA_DIR": str(settings.data_dir)}
    runner = CliRunner()
    base = runner.invoke(cli, ["forecast", "--weeks", "8", "--json"], env=env)
    assert base.exit_code == 0, base.output
    out = json.loads(base.stdout)
    assert {"as_of", "weeks", "total", "assumptions"} <= set(out)
    assert len(out["weeks"]) == 8 and out["assumptions"] == []
    for w in out["weeks"]:
        assert w["p10"] <= w["p50"] <= w["p90"]
    first = date.fromisoformat(out["weeks"][0]["week"])
    assert first == run["last_week"] + timedelta(days=7)
    # the total's band is narrower relative to its size than a week's (noise averages out)
    t = out["total"]
    assert t["p10"] < t["p50"] < t["p90"]
    cut = runner.invoke(cli, ["forecast", "--weeks", "8", "--assumption", "channel=paid_ads:spend*=0",
                              "--name", "no ads", "--json"], env=env)  # fmt: skip
    assert cut.exit_code == 0, cut.output
    scen = json.loads(cut.stdout)
    assert scen["assumptions"][0]["channel"] == "paid_ads"
    assert scen["base"]["total"]["p50"] == pytest.approx(t["p50"], rel=1e-9)
    assert scen["change"]["p50"] < 0 and scen["spend_plan"]["paid_ads"] == 0
    listed = runner.invoke(cli, ["forecast", "list", "--json"], env=env)
    assert listed.exit_code == 0
    names = [r["name"] for r in json.loads(listed.stdout)["forecasts"]]
    assert "no ads" in names
    for bad, message in [
        (["--assumption", "channel=tv:spend*=2"], "unknown channel"),
        (["--assumption", "channel=paid_ads:spend*=-1"], "factor"),
        (["--assumption", "channel=paid_ads:clicks*=2"], "target 'spend'"),
        (["--assumption", "channel=podcast:spend*=2"], "no spend in the measured weeks"),
        (["--weeks", "200"], "--weeks must be 1 to"),
    ]:
        res = runner.invoke(cli, ["forecast", *bad], env=env)
        assert res.exit_code == 2, (bad, res.output)
        assert message in res.output


def test_forecast_route_and_the_ledger_judges_passed_weeks(store: tuple[Engine, Settings, Path]) -> None:
    from marketing.forecast_ledger import ledger, run_forecast

    engine, settings, _ = store
    early = measure_and_store(engine, as_of=END - timedelta(weeks=6), config=SMALL)
    out = run_forecast(engine, weeks=4, as_of=early["as_of"])
    assert out["measurement_run_id"] == early["run_id"]
    again = run_forecast(engine, weeks=4, as_of=early["as_of"])
    assert again["forecast_id"] == out["forecast_id"]  # recorded once
    entry = next(r for r in ledger(engine) if r["forecast_id"] == out["forecast_id"])
    assert entry["weeks_judged"] == 4 and entry["total_actual"] is not None
    data, _ = measurement_data(engine, END, "pipeline")
    idx = data.weeks.index(date.fromisoformat(out["weeks"][0]["week"]))
    assert entry["total_actual"] == pytest.approx(float(np.sum(data.outcome[idx : idx + 4])), rel=1e-6)
    keys = {r: create_key(engine, r)["key"] for r in ("sales", "finance", "marketing")}
    with TestClient(create_app(settings)) as client:
        def get(path: str, role: str, **params: Any) -> Any:
            return client.get(path, params=params, headers={"Authorization": f"Bearer {keys[role]}"})

        assert get("/v1/forecast", "sales").status_code == 403
        res = get("/v1/forecast", "finance", weeks=6, assumption=["channel=paid_ads:spend+=10%"])
        assert res.status_code == 200 and len(res.json()["weeks"]) == 6
        assert res.json()["assumptions"][0]["percent"] is True
        # paid_ads is stated; the channels the assumption leaves on their run-rate stray
        stray = res.json()["plan_uncertainty"]
        assert "paid_ads" not in stray["channels"] and stray["windows"] > 0, stray
        assert get("/v1/forecast", "marketing", assumption=["channel=tv:spend*=2"]).status_code == 422
        assert get("/v1/forecast", "marketing", weeks=0).status_code == 422
        assert get("/v1/forecasts", "finance").json()["forecasts"]


def test_provenance_of_channel_impact_figures(store: tuple[Engine, Settings, Path], run: dict[str, Any]) -> None:
    engine, settings, _ = store
    keys = {r: create_key(engine, r)["key"] for r in ("sales", "marketing")}
    with TestClient(create_app(settings)) as client:
        def get(path: str, role: str) -> Any:
            return client.get(path, headers={"Authorization": f"Bearer {keys[role]}"})

        assert get("/v1/provenance/contribution/paid_ads", "sales").status_code == 403
        res = get("/v1/provenance/contribution/paid_ads", "marketing")
        assert res.status_code == 200, res.text
        body = res.json()
        latest = get_measurement(engine)
        assert body["inputs"]["measurement_run"]["run_id"] == latest["run_id"]
        assert body["inputs"]["spend_rows"]["rows"] > 0 and body["source_texts_total"] > 0
        assert all(t["source_file"] and t["source_line"] for t in body["source_texts"])
        row = next(c for c in latest["result"]["channels"] if c["channel"] == "paid_ads")
        assert body["value"] == row["contribution"]
        dark = get("/v1/provenance/dark_pipeline/total", "marketing").json()
        assert dark["value"] == latest["result"]["dark_pipeline"]
        assert get("/v1/provenance/roi/podcast", "marketing").status_code == 404


def test_a_second_attempt_samples_the_model_compiled_for_the_first(
    store: tuple[Engine, Settings, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    nutpie = pytest.importorskip("nutpie")
    import marketing.mmm as mmm_module
    from marketing.mmm import MediaMixModel

    engine, _, _ = store
    data, _ = measurement_data(engine, END, "pipeline")
    compiles: list[Any] = []
    compile_model = nutpie.compile_pymc_model

    def counted(model: Any, **kwargs: Any) -> Any:
        compiles.append(model)
        return compile_model(model, **kwargs)

    judged = mmm_module._diagnostics
    verdicts: list[dict[str, Any]] = []

    def both_split(idata: Any, cfg: Any) -> dict[str, Any]:
        # as if the chains had split, the second attempt's further than the first's
        r_hat = 1.9 if verdicts else 1.4
        verdict = {**judged(idata, cfg), "converged": False, "r_hat_max": r_hat,
                   "problems": [f"R-hat {r_hat} > 1.05"]}  # fmt: skip
        verdicts.append(verdict)
        return verdict

    sample = nutpie.sample
    samplings: list[dict[str, Any]] = []

    def recorded(compiled: Any, **kwargs: Any) -> Any:
        idata = sample(compiled, **kwargs)
        samplings.append({"compiled": compiled, "idata": idata, **kwargs})
        return idata

    monkeypatch.setattr(nutpie, "compile_pymc_model", counted)
    monkeypatch.setattr(nutpie, "sample", recorded)
    monkeypatch.setattr(mmm_module, "_diagnostics", both_split)
    model = MediaMixModel(SMALL).fit(data)
    assert len(compiles) == 1 and len(verdicts) == 2
    first, second = samplings
    assert second["compiled"] is first["compiled"]
    # the retry tunes twice as long, more carefully, from another seed
    assert (first["tune"], second["tune"]) == (SMALL.tune, 2 * SMALL.tune)
    assert second["seed"] != first["seed"] and second["target_accept"] >= 0.95
    # neither converged: the first attempt's chains agreed better, its draws are served
    d = model.diagnostics_
    assert d["attempts"] == 2 and d["served_attempt"] == 1 and d["r_hat_max"] == 1.4
    assert d["earlier_attempts"][0]["problems"] == ["R-hat 1.9 > 1.05"]
    assert any("attempt 2 (tuned longer) did worse (R-hat 1.9)" in p for p in d["problems"])
    assert model.idata_ is first["idata"]
    for attempt, same in ((first, True), (second, False)):
        draws = mmm_module._thin(mmm_module._flat(attempt["idata"].posterior["saturation_beta"]), SMALL.keep_draws)
        assert np.array_equal(model.posterior_.params["beta"], draws) is same


def test_forecast_backtest_cli_judges_the_weeks_after_an_origin(store: tuple[Engine, Settings, Path]) -> None:
    engine, settings, _ = store
    env = {"UNDERTOW_DATABASE_URL": settings.database_url, "UNDERTOW_DATA_DIR": str(settings.data_dir)}
    runner = CliRunner()
    res = runner.invoke(cli, ["forecast", "backtest", "--origins", "2", "--weeks", "8", "--draws", "20",
                              "--tune", "200", "--chains", "2", "--json"], env=env)  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    full, _ = measurement_data(engine, END, "pipeline")
    y = np.asarray(full.outcome, dtype=float)
    n = len(y)
    # the earlier origin would leave the model fewer than 27 weeks: left out, and said so
    assert n - 16 < 27 <= n - 8
    assert len(out["origins"]) == 1 and "1 of the 2 origins left out" in out["note"]
    row = out["origins"][0]
    assert row["weeks_known"] == n - 8
    assert date.fromisoformat(row["origin"]) == full.weeks[n - 9] + timedelta(days=6)
    assert row["actual"] == pytest.approx(y[n - 8 :].sum(), abs=0.01)
    assert row["naive"]["p50"] == pytest.approx(y[n - 16 : n - 8].sum(), abs=0.01)
    assert row["seasonal_naive"] is None  # the store does not reach a year back
    assert row["model"]["p10"] < row["model"]["p50"] < row["model"]["p90"]
    model = out["summary"]["model"]
    assert model["origins"] == 1
    inside = row["model"]["p10"] <= row["actual"] <= row["model"]["p90"]
    assert model["coverage_p10_p90"] == (1.0 if inside else 0.0)
    error = abs(row["model"]["p50"] - row["actual"]) / row["actual"]
    assert model["median_abs_p50_error"] == pytest.approx(error, abs=1e-4)
    assert "back-test of the 8-week total" in res.stderr

    short = runner.invoke(cli, ["forecast", "backtest", "--weeks", "13"], env=env)
    assert short.exit_code == 2
    assert f"the store has {n}" in short.output


@pytest.mark.parametrize("lift_tests", [True, False])
def test_a_fit_that_did_not_converge_without_a_lift_test_says_what_would_help(
    store: tuple[Engine, Settings, Path], monkeypatch: pytest.MonkeyPatch, lift_tests: bool
) -> None:
    import dataclasses

    import marketing.mmm as mmm_module
    from marketing.lift_tests import LiftTests
    from marketing.mmm import NO_LIFT_TEST_HINT, MediaMixModel

    engine, _, _ = store
    data, _ = measurement_data(engine, END, "pipeline")
    assert data.lifts.used  # the demo world has its lift test
    if not lift_tests:
        data = dataclasses.replace(data, lifts=LiftTests())
    judged = mmm_module._diagnostics

    def split(idata: Any, cfg: Any) -> dict[str, Any]:
        return {**judged(idata, cfg), "converged": False, "problems": ["R-hat 1.4 > 1.05"]}

    monkeypatch.setattr(mmm_module, "_diagnostics", split)
    model = MediaMixModel(dataclasses.replace(SMALL, retries=0)).fit(data)
    problems = model.diagnostics_["problems"]
    assert (NO_LIFT_TEST_HINT in problems) is not lift_tests
    assert problems[0] == "R-hat 1.4 > 1.05"
