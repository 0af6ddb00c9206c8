"""Rebuild a persisted survival model from its dict (``risk_runs.params["model"]``)."""

from __future__ import annotations

from typing import Any

from risk.errors import RiskInputError
from risk.survival.base import SurvivalModel
from risk.survival.cox_tv import CoxTimeVaryingModel
from risk.survival.pem import PiecewiseExponentialModel

MODEL_KINDS: dict[str, type[SurvivalModel]] = {
    PiecewiseExponentialModel.kind: PiecewiseExponentialModel,
    CoxTimeVaryingModel.kind: CoxTimeVaryingModel,
}


def model_from_dict(state: dict[str, Any]) -> SurvivalModel:
    """The fitted model a run stored; a clear error for an unknown kind."""
    kind = state.get("kind") if isinstance(state, dict) else None
    if kind not in MODEL_KINDS:
        raise RiskInputError(f"expected a stored model of kind {sorted(MODEL_KINDS)}, got {kind!r}")
    return MODEL_KINDS[kind].from_dict(state)
