"""The fit's engine seam without Ray: what tasks receive, and a fit whose tasks are shipped."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pandas as pd
import pytest
from synthetic_world import SyntheticWorld

from nlp.engines import LocalEngine
from risk.backtest import BacktestConfig, origins
from risk.fit import FitConfig, compute_fit
from risk.inputs import RiskInputs, compact
from risk.trajectories import TrajectoryConfig, build_panel, panel_size


class ShippingEngine(LocalEngine):
    """The local engine, but every task's arguments make the trip a cluster's would
    (cloudpickle out and back), and ``distributed`` asks callers to ship compactly."""

    distributed = True

    def __init__(self) -> None:
        self.shipped: list[int] = []

    def start_map(self, fn: Any, items: Any, shared: Any = None) -> Any:
        cloudpickle = pytest.importorskip("cloudpickle", reason="comes with the 'ray' extra")

        blob = cloudpickle.dumps(shared)
        self.shipped.append(len(blob))
        todo = [cloudpickle.loads(cloudpickle.dumps(item)) for item in items]
        return super().start_map(fn, todo, cloudpickle.loads(blob))


def _with_aspects(inp: RiskInputs) -> RiskInputs:
    texts = inp.texts.sort_values("created_at").head(400)
    aspects = pd.DataFrame(
        {
            "account_id": texts["account_id"].to_numpy(),
            "created_at": texts["created_at"].to_numpy(),
            "aspect": ["billing", "reliability"] * (len(texts) // 2),
            "sentiment": -0.8,
        }
    )
    return dataclasses.replace(inp, aspects=aspects)


def test_panel_size_is_the_panel_built(world: SyntheticWorld) -> None:
    inp = world.inputs
    for t in [*origins(inp, 180, BacktestConfig(), TrajectoryConfig()), None]:
        known = inp if t is None else inp.restrict(t)
        assert panel_size(known) == len(build_panel(known).rows) > 0


def test_an_origin_panel_without_the_display_trajectory_is_the_same_panel(
    world: SyntheticWorld,
) -> None:
    t = origins(world.inputs, 180, BacktestConfig(), TrajectoryConfig())[0]
    known = world.inputs.restrict(t)
    full, lean = build_panel(known), build_panel(known, monthly=False)
    assert len(full.monthly) > 0 and lean.monthly.empty
    assert list(lean.monthly.columns) == list(full.monthly.columns)
    assert lean.groups == full.groups and lean.boundaries.equals(full.boundaries)
    for part in ("rows", "current"):
        pd.testing.assert_frame_equal(getattr(lean, part), getattr(full, part), check_exact=True)


def test_compact_inputs_build_the_same_panels_and_travel_lighter(world: SyntheticWorld) -> None:
    inp = _with_aspects(world.inputs)
    small = compact(inp)
    assert len(pickle.dumps(small)) < len(pickle.dumps(inp))
    assert compact(small) is small  # compact already: not copied again
    known = small.restrict(small.as_of - pd.Timedelta(days=90))  # what an origin sees
    assert compact(known) is known
    for frame in (small.texts, small.surveys):  # no column pickled value by value
        assert not any(dtype == "object" for dtype in frame.dtypes), frame.dtypes
    traj = TrajectoryConfig(min_aspect_mentions=5)
    for t in [*origins(inp, 180, BacktestConfig(), traj), None]:
        a = build_panel(inp if t is None else inp.restrict(t), traj)
        b = build_panel(small if t is None else small.restrict(t), traj)
        assert a.groups == b.groups and any(c.startswith("aspect_") for c in a.rows)
        for part in ("rows", "current", "monthly"):
            pd.testing.assert_frame_equal(getattr(a, part), getattr(b, part), check_exact=True)


@pytest.mark.slow
def test_a_fit_whose_tasks_are_shipped_is_the_local_fit(world: SyntheticWorld) -> None:
    local = compute_fit(world.inputs, FitConfig())
    engine = ShippingEngine()
    shipped = compute_fit(world.inputs, FitConfig(), compute=engine)
    # origins, expansion origins, the risk list check's origins, judgements, forecast chunks
    assert len(engine.shipped) == 5
    assert shipped.model.to_dict() == local.model.to_dict()
    assert shipped.backtest == local.backtest and shipped.candidates == local.candidates
    assert shipped.model_version == local.model_version
    pd.testing.assert_frame_equal(
        shipped.forecast.predictions, local.forecast.predictions, check_exact=True
    )
    assert shipped.forecast.revenue_risk == local.forecast.revenue_risk
    assert shipped.signals is not None and local.signals is not None
    assert shipped.signals.metrics() == local.signals.metrics()
    pd.testing.assert_frame_equal(
        shipped.signals.expansion.predictions,
        local.signals.expansion.predictions,
        check_exact=True,
    )


def test_the_fit_holds_the_drivers_blas_to_one_thread_and_gives_it_back(
    world: SyntheticWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import risk.fit as fit_module

    def blas_threads() -> list[int]:
        return [
            p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"
        ]

    seen: list[list[int]] = []
    build = fit_module.build_panel

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(blas_threads())
        return build(*args, **kwargs)

    monkeypatch.setattr(fit_module, "build_panel", recording)
    with threadpoolctl.threadpool_limits(2):
        before = blas_threads()
        compute_fit(world.inputs, FitConfig())
        assert blas_threads() == before  # the caller's setting is back
    assert seen and all(threads == [1] * len(threads) for threads in seen)
    assert before and any(n > 1 for n in before)
