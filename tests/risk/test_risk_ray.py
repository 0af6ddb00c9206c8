"""The fit on the Ray engine (the session's local Ray instance): the same snapshot as the
local engine, from the library and from `undertow fit --engine ray`."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select
from synthetic_world import SyntheticWorld

from api.cli import cli
from ingest.db.schema import risk_predictions, risk_runs
from risk.fit import FitConfig, compute_fit

pytest.importorskip("ray", reason="the 'ray' extra is not installed")


def test_a_fit_on_ray_is_the_local_fit(world: SyntheticWorld, ray_engine: object) -> None:
    local = compute_fit(world.inputs, FitConfig())
    on_ray = compute_fit(world.inputs, FitConfig(), compute=ray_engine)  # type: ignore[arg-type]
    assert set(local.candidates) == {"pem", "cox_tv"}  # both candidates back-tested
    assert on_ray.model.to_dict() == local.model.to_dict()
    assert on_ray.backtest == local.backtest and on_ray.candidates == local.candidates
    assert on_ray.choice == local.choice and on_ray.model_version == local.model_version
    pd.testing.assert_frame_equal(
        on_ray.forecast.predictions, local.forecast.predictions, check_exact=True
    )
    assert on_ray.forecast.revenue_risk == local.forecast.revenue_risk
    assert local.signals is not None and on_ray.signals is not None
    assert local.signals.expansion.metrics["status"] == "ok"  # the expansion model was fitted
    assert on_ray.signals.metrics() == local.signals.metrics()
    pd.testing.assert_frame_equal(
        on_ray.signals.expansion.predictions, local.signals.expansion.predictions, check_exact=True
    )


def test_with_one_candidate_a_cluster_builds_the_shared_origin_once(
    world: SyntheticWorld, ray_engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The churn model's kind is known at the start: the expansion back-test and the risk
    list check share their as_of - 180 origin in one task, and the fit is the local one."""
    from nlp.engines.ray_backend import RayEngine

    mapped: list[tuple[str, int]] = []
    real = RayEngine.start_map

    def counted(self, fn, items, shared=None):  # type: ignore[no-untyped-def]
        mapped.append((fn.__name__, len(items)))
        return real(self, fn, items, shared)

    monkeypatch.setattr(RayEngine, "start_map", counted)
    cfg = FitConfig(candidates=("pem",))
    local = compute_fit(world.inputs, cfg)
    on_ray = compute_fit(world.inputs, cfg, compute=ray_engine)  # type: ignore[arg-type]
    names = dict(mapped)
    assert names["both_checks_origin"] == 1 and names["list_check_origin"] == 1
    assert names["backtest_origin"] == 2  # the expansion back-test's other origins
    assert on_ray.model_version == local.model_version
    assert local.signals is not None and on_ray.signals is not None
    assert len(local.signals.risk_lists["origins"]) == 2
    assert on_ray.signals.metrics() == local.signals.metrics()
    pd.testing.assert_frame_equal(
        on_ray.signals.expansion.predictions, local.signals.expansion.predictions, check_exact=True
    )


def _snapshot(engine: Engine, run_id: str) -> tuple[dict, pd.DataFrame]:  # type: ignore[type-arg]
    with engine.connect() as conn:
        run = conn.execute(select(risk_runs).where(risk_runs.c.run_id == run_id)).one()._asdict()
        rows = conn.execute(
            select(risk_predictions).where(risk_predictions.c.run_id == run_id)
        ).all()
    frame = pd.DataFrame(rows).drop(columns="run_id").sort_values("account_id")
    return run, frame.reset_index(drop=True)


def test_fit_command_on_ray_stores_the_local_snapshot(
    engine: Engine,
    cli_env: dict[str, str],
    stored_world: SyntheticWorld,
    ray_engine: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from nlp.engines.ray_backend import RayEngine

    mapped: list[str] = []
    real = RayEngine.start_map

    def counted(self, fn, items, shared=None):  # type: ignore[no-untyped-def]
        mapped.append(fn.__name__)
        return real(self, fn, items, shared)

    monkeypatch.setattr(RayEngine, "start_map", counted)
    runs = []
    for extra in ([], ["--engine", "ray"]):
        res = CliRunner().invoke(
            cli, ["fit", "--as-of", "2026-06-30", "--json", *extra], env=cli_env
        )
        assert res.exit_code == 0, res.output
        runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
    # the second fit ran on Ray, the expansion model's back-test origins and the risk
    # list check's origins too (two candidates here: the list check waits for the choice)
    assert mapped == [
        "fit_origin", "backtest_origin", "_judge", "list_check_origin", "forecast_chunk"
    ]  # fmt: skip
    assert len(runs[1]["backtest_origins"]) == 3
    local, on_ray = (_snapshot(engine, r["run_id"]) for r in runs)
    assert on_ray[0]["model_version"] == local[0]["model_version"]
    for key in ("params", "metrics", "n_accounts", "as_of"):
        assert on_ray[0][key] == local[0][key], key
    assert local[1]["p_expand_180d"].notna().all()  # the expansion model's forecast is stored
    pd.testing.assert_frame_equal(on_ray[1], local[1], check_exact=True)
