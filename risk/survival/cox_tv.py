"""Cox model with time-varying covariates: lifelines' ``CoxTimeVaryingFitter`` on start/stop rows.

Each panel row becomes a start/stop interval on the tenure time scale (months since the
contract began): ``start`` = tenure at the period's start, ``stop`` = start + exposure,
``event`` = churned in the period. Accounts that began before the data enter late
(left truncation is the start/stop form itself). Because tenure is the time scale, the
baseline hazard carries it and ``log_tenure`` is not a covariate (pass features without it).

Speed: lifelines visits every distinct event time and scans all rows at each, so times are
rounded to a grid of ``time_grid_months`` (a week, by default); ties are handled by Efron's
method. That bounds the distinct event times by the longest tenure / grid, whatever the
number of accounts.

Prediction: the Breslow baseline cumulative hazard is turned into a monthly baseline
hazard by tenure month, smoothed with a Gaussian kernel (``smooth_months``) and held at
the mean of the last 12 observed months beyond the longest tenure seen; an account's
hazard is that baseline times exp(z·beta) with its covariates held at their as-of values,
integrated from its tenure at as-of (so probabilities are conditional on being alive then).

Intervals: coefficients from their covariance (inverse penalised information); the
baseline's level is uncertain too, with a log-scale standard error of 1/sqrt(events)
(Poisson count of the events behind the Breslow estimate).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from risk.errors import RiskError, RiskInputError
from risk.survival.base import TENURE, SurvivalModel

TAIL_MONTHS = 12


class CoxTimeVaryingModel(SurvivalModel):
    kind = "cox_tv"
    version = "1"

    def __init__(
        self,
        features: list[str],
        penalty: float = 2.0,
        time_grid_months: float = 0.25,
        smooth_months: float = 2.0,
    ) -> None:
        super().__init__(features, penalty)
        self.time_grid_months = time_grid_months
        self.smooth_months = smooth_months

    @staticmethod
    def covariates(features: list[str]) -> list[str]:
        """The covariates this model takes from a feature list: all but the time scale."""
        return [f for f in features if f != TENURE]

    def _intervals(self, rows: pd.DataFrame) -> pd.DataFrame:
        g = self.time_grid_months
        t0 = rows["tenure"].to_numpy(dtype=float)
        start = np.round(t0 / g) * g
        stop = np.round((t0 + rows["exposure"].to_numpy(dtype=float)) / g) * g
        event = rows["event"].to_numpy(dtype=int)
        short = stop <= start
        stop = np.where(short & (event == 1), start + g, stop)
        keep = ~short | (event == 1)
        return pd.DataFrame({"start": start, "stop": stop, "event": event}).loc[keep]

    def fit(self, rows: pd.DataFrame) -> CoxTimeVaryingModel:
        if TENURE in self.features:
            raise RiskInputError(
                f"'{TENURE}' is the time scale of {type(self).__name__}: "
                "pass CoxTimeVaryingModel.covariates(features) instead"
            )
        self._check_rows(rows)
        from lifelines import CoxTimeVaryingFitter
        from lifelines.exceptions import ConvergenceError

        z = self._design(rows)[:, 1:]  # standardised features, without the intercept
        iv = self._intervals(rows)
        cols = list(self.features)
        data = pd.DataFrame(z[iv.index.to_numpy()], columns=cols)
        data[["start", "stop", "event"]] = iv.to_numpy()
        fitter = CoxTimeVaryingFitter(penalizer=self.penalty / max(len(data), 1))
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fitter.fit(data, event_col="event", start_col="start", stop_col="stop")
        except (ConvergenceError, np.linalg.LinAlgError) as exc:
            raise RiskError(f"the Cox time-varying fit did not converge: {exc}") from exc
        beta = fitter.params_.to_numpy(dtype=float)
        self.coef_ = beta
        self.cov_ = fitter.variance_matrix_.to_numpy(dtype=float)
        # lifelines' baseline is relative to exp((z - mean_z)·beta); ours to exp(z·beta)
        offset = float(np.dot(fitter._norm_mean.to_numpy(dtype=float), beta))
        cum = fitter.baseline_cumulative_hazard_.iloc[:, 0]
        self.baseline_ = self._monthly_baseline(
            cum.index.to_numpy(dtype=float), cum.to_numpy(dtype=float) * np.exp(-offset)
        )
        self.n_events_ = int(iv["event"].sum())
        self.n_rows_ = len(iv)
        self.log_likelihood_ = float(fitter.log_likelihood_)
        # lifelines warns of near-separation; the ridge penalty keeps the fit finite, so
        # the warnings are kept on the model (first line each) rather than raised
        self.fit_warnings_ = sorted({str(w.message).strip().splitlines()[0] for w in caught})
        return self

    def _monthly_baseline(self, times: np.ndarray, cumhaz: np.ndarray) -> np.ndarray:
        """Smoothed baseline hazard per tenure month 0..M-1 (M = the longest tenure seen)."""
        months = int(np.ceil(times.max())) + 1 if len(times) else 1
        edges = np.arange(months + 1, dtype=float)
        at = np.interp(edges, np.concatenate([[0.0], times]), np.concatenate([[0.0], cumhaz]))
        raw = np.diff(at)
        centre = np.arange(months) + 0.5
        w = np.exp(-0.5 * ((centre[:, None] - centre[None, :]) / self.smooth_months) ** 2)
        return np.maximum((w @ raw) / w.sum(axis=1), 1e-12)

    def draw_parameters(
        self, n_draws: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients from their covariance; baseline level with sd 1/sqrt(events)."""
        coef, _ = super().draw_parameters(n_draws, rng)
        shift = rng.normal(0.0, 1.0 / np.sqrt(max(self.n_events_, 1)), n_draws)
        return coef, shift

    def _baseline_log_hazard(self, tenure_months: np.ndarray) -> np.ndarray:
        self._check_fitted()
        base = self.baseline_
        tail = float(np.mean(base[-TAIL_MONTHS:]))
        idx = np.floor(np.asarray(tenure_months, dtype=float)).astype(int)
        inside = (idx >= 0) & (idx < len(base))
        value = np.where(inside, base[np.clip(idx, 0, len(base) - 1)], tail)
        return np.log(value)

    def _extra_state(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline_.tolist(),
            "time_grid_months": self.time_grid_months,
            "smooth_months": self.smooth_months,
            "n_events": self.n_events_,
            "n_rows": self.n_rows_,
        }

    def _load_extra(self, state: dict[str, Any]) -> None:
        self.baseline_ = np.asarray(state["baseline"], dtype=float)
        self.time_grid_months = float(state.get("time_grid_months", 0.25))
        self.smooth_months = float(state.get("smooth_months", 2.0))
        self.n_events_ = int(state.get("n_events", 0))
        self.n_rows_ = int(state.get("n_rows", 0))
