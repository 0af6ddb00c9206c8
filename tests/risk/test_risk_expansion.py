"""The expansion model: what counts as an expansion, features from before each period,
an out-of-time back-test that beats its baselines, and a forecast stored with the fit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, select
from synthetic_world import SyntheticWorld

from api.commands.fitting import fit_summary
from ingest.db.schema import risk_predictions
from ingest.settings import Settings
from risk.expansion import ExpansionConfig, expansion_frames, fit_expansion, openings
from risk.fit import fit_and_store
from risk.trajectories import TrajectoryConfig, build_panel


def _opp(account: str, created: str, amount: float = 1_000.0, closed: str | None = None,
         won: bool = False) -> dict:  # fmt: skip
    return {"account_id": account, "created_at": pd.Timestamp(created), "amount": amount,
            "closed_at": pd.Timestamp(closed) if closed else pd.NaT, "is_won": won}  # fmt: skip


def test_an_expansion_is_an_opportunity_after_the_contract_start_day() -> None:
    acc = pd.DataFrame({"account_id": ["A", "B"],
                        "contract_start": pd.to_datetime(["2025-01-10", "2025-03-01"])})  # fmt: skip
    opp = pd.DataFrame([
        _opp("A", "2024-11-02"),  # the initial deal, before the start
        _opp("A", "2025-01-10 16:00"),  # on the start day: still the initial deal
        _opp("A", "2025-01-11 09:00"),  # the day after: an expansion
        _opp("B", "2025-06-01"),
        _opp("Z", "2025-06-01"),  # a prospect, not an existing account
    ])  # fmt: skip
    got = openings(acc, opp)
    assert list(zip(got["account_id"], got["created_at"].dt.date.astype(str), strict=True)) == [
        ("A", "2025-01-11"),
        ("B", "2025-06-01"),
    ]


def test_expansion_features_come_from_before_each_period(world: SyntheticWorld) -> None:
    panel = build_panel(world.inputs)
    rows, current = expansion_frames(panel, world.inputs)
    ops = openings(world.inputs.accounts, world.inputs.opportunities)
    assert int(rows["event"].sum()) > 20
    sample = rows.sample(200, random_state=1)
    for r in sample.itertuples():
        mine = ops[ops["account_id"] == r.account_id]
        start = r.period_start
        end = panel.boundaries[r.period + 1]
        assert r.event == ((mine["created_at"] >= start) & (mine["created_at"] < end)).sum()
        assert r.expansions_before == pytest.approx(np.log1p((mine["created_at"] < start).sum()))
        recent = (mine["created_at"] < start) & (
            mine["created_at"] >= start - pd.DateOffset(months=3)
        )
        assert r.expanded_recently == float(recent.any())
        year = (mine["created_at"] < start) & (
            mine["created_at"] >= start - pd.DateOffset(months=12)
        )
        assert r.expanded_last_year == float(year.any())
        months_to_anniversary = (12 - r.tenure % 12) % 12
        assert r.renewal_near == float(0 < months_to_anniversary <= 3)
        # ARR as it stood: today's, less the won expansions that closed since
        later = mine[mine["is_won"] & (mine["closed_at"] >= start)]["amount"].sum()
        arr = world.inputs.accounts.set_index("account_id").at[r.account_id, "arr"]
        assert r.log_arr == pytest.approx(np.log1p(max(arr - later, 0.1 * arr)))
    cur = current.set_index("account_id")
    arr_now = world.inputs.accounts.set_index("account_id")["arr"]
    assert np.allclose(cur["log_arr"], np.log1p(arr_now.reindex(cur.index)))


def test_expansion_frames_leave_the_shared_panel_as_it_was(world: SyntheticWorld) -> None:
    # an origin's panel serves the expansion back-test and the risk list check in turn
    # (risk.expansion.OriginPanels): the expansion frames must not write into it
    panel = build_panel(world.inputs, monthly=False)
    before = panel.rows.copy(deep=True), panel.current.copy(deep=True)
    rows, current = expansion_frames(panel, world.inputs)
    assert not rows["event"].equals(rows["churn"])  # the event column was replaced
    pd.testing.assert_frame_equal(panel.rows, before[0], check_exact=True)
    pd.testing.assert_frame_equal(panel.current, before[1], check_exact=True)
    assert "expansions_before" not in panel.rows


def test_the_back_test_beats_its_baselines_and_is_calibrated(world: SyntheticWorld) -> None:
    panel = build_panel(world.inputs)
    fit = fit_expansion(world.inputs, panel, TrajectoryConfig())
    bt = fit.metrics["backtest"]
    assert len(bt["origins"]) == 3 and bt["events"] > 50
    assert bt["auc"] > max(0.55, bt["auc_crm_history"], bt["auc_trend"])
    assert abs(bt["expected"] - bt["observed"]) / bt["observed"] < 0.3
    assert [d["decile"] for d in bt["calibration"]] == list(range(1, 11))
    assert {"origin", "top", "top_trend", "base_rate"} <= set(bt["lists"][0])
    # judged against the world's truth: expansions the data never saw
    p = fit.predictions.set_index("account_id")["p_expand_180d"]
    first = world.truth.set_index("account_id")["expanded_at_true"].reindex(p.index)
    y = (first <= world.inputs.as_of + pd.Timedelta(days=180)).to_numpy()
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, p.to_numpy()) > 0.55
    assert p.between(0, 1).all() and fit.metrics["model_version"].startswith("expansion_pem-v1-")
    reasons = fit.predictions["expansion_reason"]
    assert reasons.str.startswith(
        ("Expansion more likely", "Expansion less likely", "No driver")
    ).all()


def test_without_enough_expansions_the_fit_goes_on_without_the_model(world: SyntheticWorld) -> None:
    inputs = replace(world.inputs, opportunities=world.inputs.opportunities.iloc[:0])
    fit = fit_expansion(inputs, build_panel(inputs), TrajectoryConfig(), ExpansionConfig())
    assert fit.model is None and fit.predictions.empty
    assert fit.metrics["status"] == "skipped" and "expansion opportunities" in fit.metrics["reason"]


def test_the_fit_stores_p_expand_and_its_back_test(
    engine: Engine, settings: Settings, stored_world: SyntheticWorld
) -> None:
    out = fit_summary(fit_and_store(engine, settings))
    assert out["expansion"]["status"] == "ok" and out["expansion"]["backtest_auc"] > 0.5
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                risk_predictions.c.p_expand_180d,
                risk_predictions.c.expansion_reason,
                risk_predictions.c.revenue_at_risk_90d,
                risk_predictions.c.arr,
                risk_predictions.c.p_churn_90d,
                risk_predictions.c.texts_90d,
            ).where(risk_predictions.c.run_id == out["run_id"])
        ).all()
    assert len(rows) == out["accounts"]
    assert all(0 < r.p_expand_180d < 1 and r.expansion_reason for r in rows)
    assert all(r.revenue_at_risk_90d == pytest.approx(r.arr * r.p_churn_90d) for r in rows)
    assert all(r.texts_90d is not None and r.texts_90d >= 0 for r in rows)
    # the out-of-time list check behind the calibration line: quarterly origins, the
    # last one 90 days before as_of, each with its top-N churn rates and base rate
    from risk.feeds import get_run, list_calibration

    run = get_run(engine)
    risk = run["metrics"]["lists"]["risk"]
    dates = [o["origin"] for o in risk["origins"]]
    as_of = pd.Timestamp(out["as_of"])
    assert (
        dates == sorted(dates) and dates[-1] == (as_of - pd.Timedelta(days=90)).date().isoformat()
    )
    assert all(
        0 <= o["base_rate"] <= 1 and set(o["top"]) == {"25", "50", "100"} for o in risk["origins"]
    )
    line = list_calibration(run, "risk", None, 25)
    assert line is not None and line["origin"] == dates[-1] and "last quarter" in line["text"]


def test_prospects_opportunities_are_never_an_accounts_expansion(
    engine: Engine, settings: Settings, stored_world: SyntheticWorld
) -> None:
    """The store also holds prospects' opportunities (an account id no stored account has:
    unresolved; the demo world writes thousands) and the deals of accounts that start after
    as_of: neither reaches the expansion model's inputs, features or outcomes."""
    from datetime import date, datetime

    from sqlalchemy import insert

    from ingest.db.schema import accounts, opportunities
    from risk.inputs import load_inputs

    as_of = "2026-06-30"
    before = load_inputs(engine, as_of, settings=settings)
    prov = {"source": "test", "source_file": "t", "source_line": 1, "row_hash": "0" * 64}
    with engine.begin() as conn:
        conn.execute(insert(accounts).values(
            account_id="LATE-1", name="Late Co", name_norm="late co", segment="smb",
            arr=5_000.0, currency="USD", contract_start=date(2026, 8, 1),
            updated_at=datetime(2026, 8, 1), **prov,
        ))  # fmt: skip
        conn.execute(insert(opportunities), [
            {"opportunity_id": f"P-OPP-{k}", "account_id": f"P-{k}", "resolved_by": None,
             "created_at": datetime(2025, 1 + k % 12, 1 + k % 28, 10), "amount": 9_000.0,
             "closed_at": datetime(2026, 2, 1), "is_won": k % 2 == 0, **prov}
            for k in range(200)
        ] + [
            {"opportunity_id": "LATE-OPP", "account_id": "LATE-1", "resolved_by": "account_id",
             "created_at": datetime(2026, 5, 2, 10), "amount": 5_000.0, "closed_at": None,
             "is_won": None, **prov},
        ])  # fmt: skip
    after = load_inputs(engine, as_of, settings=settings)
    pd.testing.assert_frame_equal(after.opportunities, before.opportunities)
    assert set(after.opportunities["account_id"]) <= set(after.accounts["account_id"])
    rows_b, cur_b = expansion_frames(build_panel(before), before)
    rows_a, cur_a = expansion_frames(build_panel(after), after)
    pd.testing.assert_frame_equal(rows_a, rows_b)
    pd.testing.assert_frame_equal(cur_a, cur_b)
    assert int(rows_a["event"].sum()) > 20


def test_the_forecast_advances_what_the_calendar_decides() -> None:
    """A recent expansion only grows older over the horizon, and a renewal comes when the
    contract's anniversary does: the forecast steps them month by month."""
    from risk.expansion import ExpansionHazardModel, p_expand, renewal_near

    model = ExpansionHazardModel(["expanded_recently", "renewal_near"])
    model.coef_ = np.array([-2.0, 1.0])
    model.intercept_ = float(np.log(0.05))
    model.mean_, model.scale_ = np.zeros(2), np.ones(2)
    model.cov_ = model.full_cov_ = np.eye(3) * 1e-6
    current = pd.DataFrame(
        {
            "tenure": [6.0, 6.0, 6.0, 11.5],
            "months_since_expansion": [0.5, 2.5, np.inf, np.inf],
            "expanded_recently": [1.0, 1.0, 0.0, 0.0],
            "renewal_near": renewal_near(np.array([6.0, 6.0, 6.0, 11.5])),
        }
    )
    p = p_expand(model, current, 180)
    assert p[0] < p[1] < p[2]  # a cool-down that ends sooner weighs less
    one_month = 0.05 * np.exp(-2.0)
    assert p[1] > 1 - np.exp(-6 * one_month) + 0.05  # not held at "recent" for six months
    # tenure 6: the anniversary is 3-6 months out (renewal_near for 3 of the 6 months);
    # tenure 11.5: within 3 months for the first months, then not again within the horizon
    assert renewal_near(np.array([9.0, 9.5, 11.9, 12.0, 12.5])).tolist() == [1, 1, 1, 0, 0]
    assert p[2] > 1 - np.exp(-6 * 0.05)
