"""What every survival model of the risk layer offers.

Conventions (scikit-learn's): ``__init__`` only stores arguments; ``fit`` returns self and
sets attributes ending in ``_``; predicting before fitting raises ``NotFittedError``.
Models persist as a plain dict (``to_dict`` / ``from_dict``) with their version and
metadata, never with training rows.

Time runs in months of tenure. A model's linear predictor ``x·beta`` (features
standardised on the training rows) scales a baseline hazard; the forecast holds an
account's features at their ``as_of`` values while its tenure advances.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from risk.errors import NotEnoughDataError, NotFittedError, RiskInputError
from risk.trajectories import DAYS_PER_MONTH

TENURE = "log_tenure"


def log_tenure(tenure_months: np.ndarray) -> np.ndarray:
    """The tenure covariate (same transform as the panel's ``log_tenure``)."""
    return np.log1p(np.asarray(tenure_months, dtype=float) / 12.0)


class SurvivalModel(ABC):
    """A proportional-hazards model over the monthly panel."""

    kind: ClassVar[str] = "base"
    version: ClassVar[str] = "1"
    # set by fit (declared, not assigned: hasattr() is the "is fitted" test)
    coef_: np.ndarray
    cov_: np.ndarray
    mean_: np.ndarray
    scale_: np.ndarray
    # log of the out-of-time calibration-in-the-large factor (``risk.backtest.calibration_factor``)
    # that scales the baseline hazard; 0 until the fit sets it from the back-test
    calibration_: float = 0.0

    def __init__(self, features: list[str], penalty: float = 1.0) -> None:
        self.features = list(features)
        self.penalty = penalty

    # ------------------------------------------------------------ fitting
    def _check_rows(self, rows: pd.DataFrame) -> None:
        missing = [c for c in [*self.features, "event", "exposure", "tenure"] if c not in rows]
        if missing:
            raise RiskInputError(
                f"panel rows lack column '{missing[0]}' (expected {self.features})"
            )
        if int(rows["event"].sum()) < 5:
            raise NotEnoughDataError(
                f"need at least 5 churn events in the history to fit, got {int(rows['event'].sum())}"
            )

    def _design(self, rows: pd.DataFrame) -> np.ndarray:
        """The design matrix [1, standardised features] (rows x 1 + features), filled and
        standardised column by column: at 1.2M panel rows it is 200 MB, and this way no
        second copy of it (nor of the features) exists while it is built."""
        x = np.empty((len(rows), len(self.features) + 1))
        x[:, 0] = 1.0
        self.mean_ = np.empty(len(self.features))
        self.scale_ = np.empty(len(self.features))
        for k, name in enumerate(self.features):
            v = rows[name].to_numpy(dtype=float)  # the column itself (contiguous), no copy
            self.mean_[k] = v.mean()
            sd = float(v.std())
            self.scale_[k] = sd if sd > 1e-9 else 1.0
            col = x[:, k + 1]
            np.subtract(v, self.mean_[k], out=col)
            col /= self.scale_[k]
        return x

    def _z(self, frame: pd.DataFrame) -> np.ndarray:
        self._check_fitted()
        missing = [c for c in self.features if c not in frame]
        if missing:
            raise RiskInputError(f"frame lacks feature column '{missing[0]}'")
        return (frame[self.features].to_numpy(dtype=float) - self.mean_) / self.scale_

    @abstractmethod
    def fit(self, rows: pd.DataFrame) -> SurvivalModel: ...

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit(rows) first")

    # ------------------------------------------------------------ prediction
    @abstractmethod
    def _baseline_log_hazard(self, tenure_months: np.ndarray) -> np.ndarray:
        """log of the baseline monthly hazard at each tenure (same shape)."""

    def cumulative_hazard(
        self,
        frame: pd.DataFrame,
        days: Sequence[float],
        coef: np.ndarray | None = None,
        shift: np.ndarray | None = None,
    ) -> np.ndarray:
        """Cumulative hazard from ``as_of`` to each horizon (n x len(days)), or per draw
        (B x n x len(days)) when ``coef`` is a (B x p) matrix of coefficient draws and
        ``shift`` (B,) their log-baseline shifts."""
        z = self._z(frame)
        beta = self.coef_ if coef is None else np.atleast_2d(coef)
        t0 = frame["tenure"].to_numpy(dtype=float)
        horizons = np.asarray(days, dtype=float) / DAYS_PER_MONTH
        n_steps = int(np.ceil(horizons.max()))
        t_idx = self.features.index(TENURE) if TENURE in self.features else None
        lp0 = z @ np.atleast_2d(beta).T + self.calibration_  # n x B
        if shift is not None:
            lp0 = lp0 + np.asarray(shift, dtype=float)[None, :]
        out = np.zeros((lp0.shape[1], len(t0), len(horizons)))
        for k in range(n_steps):
            lp = lp0
            tk = t0 + k + 0.5
            if t_idx is not None:
                zk = (log_tenure(tk) - self.mean_[t_idx]) / self.scale_[t_idx]
                lp = lp0 + (zk - z[:, t_idx])[:, None] * np.atleast_2d(beta)[:, t_idx][None, :]
            haz = np.exp(lp + self._baseline_log_hazard(tk)[:, None])  # n x B, per month
            overlap = np.clip(horizons - k, 0.0, 1.0)  # share of month k inside each horizon
            out += haz.T[:, :, None] * overlap[None, None, :]
        return out[0] if coef is None or np.ndim(coef) == 1 else out

    def p_churn(self, frame: pd.DataFrame, days: Sequence[float]) -> np.ndarray:
        """P(churn within each horizon | alive at as_of), n x len(days)."""
        return 1.0 - np.exp(-self.cumulative_hazard(frame, days))

    def draw_parameters(
        self, n_draws: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients (B x p) and log-baseline shifts (B,) drawn from the fit's normal
        approximation; this base version keeps the baseline fixed."""
        self._check_fitted()
        cov = (self.cov_ + self.cov_.T) / 2
        coef = rng.multivariate_normal(self.coef_, cov, size=n_draws, method="eigh")
        return coef, np.zeros(n_draws)

    def contributions(self, frame: pd.DataFrame) -> np.ndarray:
        """Each feature's contribution to the log-hazard relative to the average row (n x p)."""
        return self._z(frame) * self.coef_[None, :]

    # ------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        self._check_fitted()
        return {
            "kind": self.kind,
            "version": self.version,
            "features": self.features,
            "penalty": self.penalty,
            "coef": self.coef_.tolist(),
            "cov": self.cov_.tolist(),
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "calibration": float(self.calibration_),
            **self._extra_state(),
        }

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra(self, state: dict[str, Any]) -> None:
        return None

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> SurvivalModel:
        if state.get("kind") != cls.kind:
            raise RiskInputError(f"expected a '{cls.kind}' model, got {state.get('kind')!r}")
        model = cls(state["features"], state["penalty"])
        model.coef_ = np.asarray(state["coef"], dtype=float)
        model.cov_ = np.asarray(state["cov"], dtype=float)
        model.mean_ = np.asarray(state["mean"], dtype=float)
        model.scale_ = np.asarray(state["scale"], dtype=float)
        model.calibration_ = float(state.get("calibration") or 0.0)
        model._load_extra(state)
        return model
