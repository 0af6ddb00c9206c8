"""Rebuild what a stored risk run saw: its inputs, panel and fitted model, from the store.

A run stores its model's parameters and every setting (``risk_runs.params``) but never
training rows. Reading the store again as of the run's ``as_of`` with the run's
sentiment model reproduces its panel exactly (``fit --as-of`` is immune to later data),
so scenarios and truth checks can re-predict the run's own model on it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Engine

from risk.feeds import get_run
from risk.forecast import ForecastConfig
from risk.inputs import RiskInputs, load_inputs
from risk.ltv import LtvConfig
from risk.survival.base import SurvivalModel
from risk.survival.registry import model_from_dict
from risk.trajectories import Panel, TrajectoryConfig, build_panel


@dataclass
class Replay:
    run: dict[str, Any]
    inputs: RiskInputs
    panel: Panel
    model: SurvivalModel
    forecast_config: ForecastConfig
    ltv_config: LtvConfig


def _config(cls: Any, stored: dict[str, Any] | None) -> Any:
    """A frozen config dataclass from its stored dict (unknown keys ignored, lists -> tuples)."""
    names = {f.name for f in fields(cls)}
    kept = {
        k: tuple(v) if isinstance(v, list) else v for k, v in (stored or {}).items() if k in names
    }
    return cls(**kept)


def replay(engine: Engine, settings: Any = None, run_id: str | None = None) -> Replay:
    """The run (default: the latest; NoSnapshotError before any fit) rebuilt from the store."""
    run = get_run(engine, run_id)
    params = run["params"]
    inputs = load_inputs(
        engine,
        run["as_of"],
        settings=settings,
        sentiment_model_version=run.get("sentiment_model_version"),
    )
    panel = build_panel(inputs, _config(TrajectoryConfig, params.get("trajectories")))
    return Replay(
        run=run,
        inputs=inputs,
        panel=panel,
        model=model_from_dict(params.get("model") or {}),
        forecast_config=_config(ForecastConfig, params.get("forecast")),
        ltv_config=_config(LtvConfig, params.get("ltv")),
    )
