"""The out-of-time back-test and the forecast ledger."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from sqlalchemy import Engine, func, select
from synthetic_world import SyntheticWorld

from api.commands.fitting import fit_summary
from ingest.db.schema import forecast_ledger
from ingest.settings import Settings
from risk.backtest import ICI_BLOCK, _ici, run_backtest
from risk.fit import fit_and_store
from risk.survival.pem import PiecewiseExponentialModel


def test_backtest_is_out_of_time_and_text_helps(world: SyntheticWorld) -> None:
    res = run_backtest(world.inputs, PiecewiseExponentialModel)
    assert res["horizon_days"] == 180
    assert all(o <= "2026-01-01" for o in res["origins"])  # origin + 180 days <= as_of
    full, crm = res["models"]["full"], res["models"]["crm_only"]
    for m in res["models"].values():
        assert {
            "c_index",
            "auc_180d",
            "integrated_brier",
            "ici",
            "calibration",
            "lead_time_days",
        } <= set(m)
        assert len(m["calibration"]) == 10
    assert full["auc_180d"] > crm["auc_180d"] + 0.05
    assert abs(full["expected"] - full["observed"]) < 0.3 * full["observed"]


def test_a_later_fit_judges_the_earlier_forecasts(
    engine: Engine, settings: Settings, stored_world: SyntheticWorld
) -> None:
    first = fit_summary(fit_and_store(engine, settings, as_of=date(2025, 12, 31)))
    assert first["ledger"]["judged_now"] == 0
    second = fit_summary(fit_and_store(engine, settings, as_of=date(2026, 6, 30)))
    assert second["ledger"]["judged_now"] == 2 * first["accounts"]  # 90- and 180-day forecasts due
    with engine.connect() as conn:
        open_365 = conn.execute(
            select(func.count()).where(
                forecast_ledger.c.run_id == first["run_id"], forecast_ledger.c.outcome.is_(None)
            )
        ).scalar()
    assert open_365 == first["accounts"]
    judged = {(r["run_id"], r["horizon_days"]): r for r in second["ledger"]["runs"]}
    r180 = judged[(first["run_id"], 180)]
    churned = stored_world.inputs.accounts["churned_at"]
    expected_obs = int(((churned > "2025-12-31") & (churned <= "2026-06-29")).sum())
    assert r180["observed"] == expected_obs and r180["accounts"] == first["accounts"]


def test_calibration_in_the_large_is_shrunk_and_bounded() -> None:
    from risk.backtest import calibration_factor

    assert calibration_factor(50.0, 60.0) == pytest.approx(70.0 / 60.0)
    assert calibration_factor(2.0, 4.0) == pytest.approx(14.0 / 12.0)  # few events: near 1
    assert calibration_factor(None, 3.0) == 1.0
    assert calibration_factor(1.0, 1000.0) == 2.0 and calibration_factor(1000.0, 0.0) == 0.5


def test_lead_time_judges_the_first_model_on_its_own_aspect_columns(world: SyntheticWorld) -> None:
    # complaints about billing lead before the first origin; reliability overtakes them
    # later, so today's panel (top 1 aspect) has no billing column while the model fitted
    # at the first origin needs one (a quickstart world hit this and the fit failed)
    import dataclasses

    import pandas as pd

    from risk.backtest import run_candidates
    from risk.trajectories import TrajectoryConfig

    inp = world.inputs
    texts = inp.texts.sort_values("created_at")
    early = texts[texts["created_at"] < "2025-06-01"].head(60)
    late = texts[texts["created_at"] >= "2025-11-01"].head(200)
    aspects = pd.DataFrame(
        {
            "account_id": pd.concat([early["account_id"], late["account_id"]]),
            "created_at": pd.concat([early["created_at"], late["created_at"]]),
            "aspect": ["billing"] * len(early) + ["reliability"] * len(late),
            "sentiment": -0.8,
        }
    )
    with_aspects = dataclasses.replace(inp, aspects=aspects.reset_index(drop=True))
    traj = TrajectoryConfig(max_aspects=1)
    res = run_candidates(with_aspects, {"pem": PiecewiseExponentialModel}, traj)
    full = res["pem"]["models"]["full"]
    assert "lead_time_days" in full and full["flagged_share"] is not None


def test_the_calibration_index_summed_in_blocks_is_the_kernel_smoother() -> None:
    rng = np.random.default_rng(3)
    n = 2 * ICI_BLOCK + 123  # three blocks, the last one short
    p = rng.beta(1, 6, n)
    y = (rng.random(n) < np.clip(1.3 * p, 0, 1)).astype(int)  # miscalibrated: ICI > 0
    pc = np.clip(p, 1e-6, 1 - 1e-6)
    lp = np.log(pc / (1 - pc))
    grid = np.linspace(lp.min(), lp.max(), 200)
    w = np.exp(-0.5 * ((grid[:, None] - lp[None, :]) / 0.5) ** 2)  # all at once
    direct = float(np.mean(np.abs(np.interp(lp, grid, (w @ y) / w.sum(axis=1)) - p)))
    assert direct > 0.01
    assert _ici(p, y) == pytest.approx(direct, rel=1e-9)
