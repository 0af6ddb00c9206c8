"""Survival model: fitted attributes, NotFittedError, persistence without training rows."""

from __future__ import annotations

import json

import numpy as np
import pytest
from synthetic_world import SyntheticWorld

from risk.errors import NotEnoughDataError, NotFittedError
from risk.forecast import forecast
from risk.survival.pem import GRAM_ROWS, PiecewiseExponentialModel, weighted_gram
from risk.trajectories import build_panel


@pytest.fixture(scope="module")
def fitted(world: SyntheticWorld):  # type: ignore[no-untyped-def]
    panel = build_panel(world.inputs)
    model = PiecewiseExponentialModel(panel.features("text", "activity", "crm")).fit(panel.rows)
    return panel, model


def test_predict_before_fit_raises(world: SyntheticWorld) -> None:
    panel = build_panel(world.inputs)
    model = PiecewiseExponentialModel(panel.features("crm"))
    with pytest.raises(NotFittedError, match="fit"):
        model.p_churn(panel.current, [90])


def test_too_few_events_is_an_input_error(world: SyntheticWorld) -> None:
    panel = build_panel(world.inputs)
    rows = panel.rows[panel.rows["event"] == 0]
    with pytest.raises(NotEnoughDataError):
        PiecewiseExponentialModel(panel.features("crm")).fit(rows)


def test_recovers_the_direction_of_the_signal(fitted) -> None:  # type: ignore[no-untyped-def]
    _, model = fitted
    coef = dict(zip(model.features, model.coef_, strict=True))
    assert coef["sentiment_level"] < 0  # worse sentiment, higher hazard
    assert coef["ticket_volume"] > 0
    assert all(name.endswith("_") for name in ("coef_", "cov_", "mean_", "scale_"))


def test_probabilities_grow_with_horizon_and_intervals_contain_them(fitted) -> None:  # type: ignore[no-untyped-def]
    panel, model = fitted
    fc = forecast(model, panel.current)
    p = fc.predictions
    assert (p["p_churn_90d"] <= p["p_churn_180d"]).all() and (
        p["p_churn_180d"] <= p["p_churn_365d"]
    ).all()
    for h in (90, 180, 365):
        assert (p[f"p_churn_{h}d_low"] <= p[f"p_churn_{h}d"]).all()
        assert (p[f"p_churn_{h}d"] <= p[f"p_churn_{h}d_high"]).all()
        assert (p[f"p_churn_{h}d_high"] > p[f"p_churn_{h}d_low"]).mean() > 0.9
    total = fc.revenue_risk["180"]["total"]
    assert total["low"] <= total["expected_churned_arr"] <= total["high"]
    segs = fc.revenue_risk["180"]["segments"]
    assert sum(s["accounts"] for s in segs) == total["accounts"] == len(p)
    assert sum(s["expected_churned_arr"] for s in segs) == pytest.approx(
        total["expected_churned_arr"], rel=1e-6
    )
    assert p["reason"].str.len().min() > 10
    assert {"feature", "value", "effect", "text"} <= set(p["drivers"].iloc[0][0])


def test_round_trip_keeps_predictions_and_holds_no_rows(fitted) -> None:  # type: ignore[no-untyped-def]
    panel, model = fitted
    state = json.loads(json.dumps(model.to_dict()))
    again = PiecewiseExponentialModel.from_dict(state)
    np.testing.assert_allclose(
        again.p_churn(panel.current, [90, 365]), model.p_churn(panel.current, [90, 365])
    )
    assert len(json.dumps(state)) < 20_000  # parameters only, whatever the number of rows
    assert not any(isinstance(v, list) and len(v) >= len(panel.rows) for v in state.values())


def test_accounts_without_a_segment_are_grouped_as_unknown(fitted) -> None:  # type: ignore[no-untyped-def]
    panel, model = fitted
    current = panel.current.copy()
    current["segment"] = current["segment"].astype(object)
    current.loc[current.index[:3], "segment"] = None
    segs = forecast(model, current).revenue_risk["90"]["segments"]
    names = {s["segment"] for s in segs}
    assert "unknown" in names and not names & {"None", "nan"}
    assert next(s for s in segs if s["segment"] == "unknown")["accounts"] == 3


def test_the_design_and_gram_matrices_built_in_pieces_are_the_whole_ones() -> None:
    import pandas as pd

    rng = np.random.default_rng(5)
    n = 2 * GRAM_ROWS + 77  # three blocks, the last one short
    rows = pd.DataFrame({"a": rng.normal(3, 2, n), "b": rng.exponential(1, n), "c": 1.0})
    model = PiecewiseExponentialModel(["a", "b", "c"])
    x = model._design(rows)
    raw = rows[["a", "b", "c"]].to_numpy()
    sd = raw.std(axis=0)
    z = (raw - raw.mean(axis=0)) / np.where(sd > 1e-9, sd, 1.0)  # a constant stays 0
    assert np.allclose(x, np.column_stack([np.ones(n), z]), rtol=1e-12, atol=1e-12)
    assert np.allclose(model.scale_, [2, 1, 1], rtol=0.02)
    w = rng.random(n)
    assert np.allclose(weighted_gram(x, w), (x * w[:, None]).T @ x, rtol=1e-10)
