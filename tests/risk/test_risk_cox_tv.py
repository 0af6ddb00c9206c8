"""The lifelines Cox time-varying model and the back-test's choice between candidates."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import Engine, select
from synthetic_world import SyntheticWorld

from api.commands.fitting import fit_summary
from ingest.db.schema import risk_runs
from ingest.settings import Settings
from risk.backtest import usable_features
from risk.errors import NotFittedError, RiskInputError
from risk.fit import FitConfig, choose_model, fit_and_store
from risk.forecast import forecast
from risk.survival.cox_tv import CoxTimeVaryingModel
from risk.survival.pem import PiecewiseExponentialModel
from risk.survival.registry import model_from_dict
from risk.trajectories import build_panel


@pytest.fixture(scope="module")
def fitted(world: SyntheticWorld):  # type: ignore[no-untyped-def]
    panel = build_panel(world.inputs)
    feats = usable_features(panel.rows, panel.features("text", "activity", "crm"))
    model = CoxTimeVaryingModel(CoxTimeVaryingModel.covariates(feats)).fit(panel.rows)
    return panel, feats, model


def test_predict_before_fit_raises_and_tenure_is_not_a_covariate(world: SyntheticWorld) -> None:
    panel = build_panel(world.inputs)
    model = CoxTimeVaryingModel(["sentiment_level"])
    with pytest.raises(NotFittedError, match="fit"):
        model.p_churn(panel.current, [90])
    with pytest.raises(RiskInputError, match="time scale"):
        CoxTimeVaryingModel(["sentiment_level", "log_tenure"]).fit(panel.rows)


def test_recovers_the_signal_and_agrees_with_the_hazard_model(fitted) -> None:  # type: ignore[no-untyped-def]
    panel, feats, model = fitted
    coef = dict(zip(model.features, model.coef_, strict=True))
    assert coef["sentiment_level"] < 0 and coef["ticket_volume"] > 0
    assert "log_tenure" not in model.features
    assert all(hasattr(model, a) for a in ("coef_", "cov_", "baseline_", "n_events_"))
    pem = PiecewiseExponentialModel(feats).fit(panel.rows)
    a = model.p_churn(panel.current, [90, 180, 365])
    b = pem.p_churn(panel.current, [90, 180, 365])
    assert (np.diff(a, axis=1) > 0).all()
    assert np.corrcoef(a[:, 1], b[:, 1])[0, 1] > 0.8
    # both calibrated to the same history: expected churn counts within 30 % of each other
    assert a[:, 1].sum() == pytest.approx(b[:, 1].sum(), rel=0.3)


def test_survival_is_conditional_on_the_as_of_tenure(fitted) -> None:  # type: ignore[no-untyped-def]
    panel, _, model = fitted
    one = panel.current.iloc[[0, 0]].copy()
    one["tenure"] = [2.0, 200.0]  # far beyond the longest tenure seen: the tail hazard holds
    p = model.p_churn(one, [180])[:, 0]
    assert (p > 0).all() and (p < 1).all()
    assert p[0] != pytest.approx(p[1])


def test_intervals_round_trip_and_no_training_rows(fitted) -> None:  # type: ignore[no-untyped-def]
    panel, _, model = fitted
    fc = forecast(model, panel.current)
    p = fc.predictions
    assert (p["p_churn_180d_low"] <= p["p_churn_180d"]).all()
    assert (p["p_churn_180d"] <= p["p_churn_180d_high"]).all()
    assert (p["p_churn_180d_high"] > p["p_churn_180d_low"]).mean() > 0.9
    state = json.loads(json.dumps(model.to_dict()))
    again = model_from_dict(state)
    assert isinstance(again, CoxTimeVaryingModel)
    np.testing.assert_allclose(
        again.p_churn(panel.current, [90]), model.p_churn(panel.current, [90])
    )
    assert len(json.dumps(state)) < 20_000
    with pytest.raises(RiskInputError):
        model_from_dict({"kind": "nope"})


def test_choice_rule_brier_first_then_c_index() -> None:
    bt = {
        "pem": {"models": {"full": {"integrated_brier": 0.050, "c_index": 0.70}}},
        "cox_tv": {"models": {"full": {"integrated_brier": 0.060, "c_index": 0.90}}},
    }
    assert choose_model(["pem", "cox_tv"], bt)[0] == "pem"
    bt["cox_tv"]["models"]["full"]["integrated_brier"] = 0.0502  # within 1 %: C-index decides
    assert choose_model(["pem", "cox_tv"], bt)[0] == "cox_tv"
    bt["cox_tv"] = {"status": "failed", "reason": "x"}
    assert choose_model(["pem", "cox_tv"], bt)[0] == "pem"


def test_fit_backtests_every_candidate_and_stores_their_figures(
    engine: Engine, settings: Settings, stored_world: SyntheticWorld
) -> None:
    out = fit_summary(fit_and_store(engine, settings, as_of="2026-06-30"))
    with engine.connect() as conn:
        metrics, params = conn.execute(
            select(risk_runs.c.metrics, risk_runs.c.params).where(
                risk_runs.c.run_id == out["run_id"]
            )
        ).one()
    cands = metrics["candidates"]
    assert set(cands) == {"pem", "cox_tv"}
    assert [k for k, c in cands.items() if c["chosen"]] == [metrics["model_choice"]["chosen"]]
    assert out["model_version"].startswith(metrics["model_choice"]["chosen"] + "-")
    for c in cands.values():
        assert c["status"] == "ok"
        assert {"c_index", "integrated_brier", "auc_180d"} <= set(c["full"])
        assert set(c) >= {"full", "no_text", "crm_only"}
    chosen = cands[metrics["model_choice"]["chosen"]]
    assert metrics["integrated_brier"] == chosen["full"]["integrated_brier"]
    assert (
        chosen["full"]["integrated_brier"]
        <= min(c["full"]["integrated_brier"] for c in cands.values()) * 1.01
    )


def test_cox_tv_is_skipped_above_the_size_threshold(
    engine: Engine, settings: Settings, stored_world: SyntheticWorld
) -> None:
    out = fit_summary(
        fit_and_store(engine, settings, as_of="2026-06-30", config=FitConfig(cox_tv_max_rows=100))
    )
    assert out["candidates"]["cox_tv"]["status"] == "skipped"
    assert out["model_choice"]["chosen"] == "pem"
