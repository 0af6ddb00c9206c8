"""Piecewise-exponential hazard model: a Poisson GLM over account-period rows.

Each panel row says an account was at risk for ``exposure`` months with the covariates
of that period, and whether it churned in it. With a constant hazard inside a period,
the likelihood is Poisson in the event with mean ``exposure * exp(b0 + x·beta)``: the
discrete-time hazard model that handles partial months and left truncation exactly.
Fitted by Newton (IRLS) with a ridge penalty on the standardised coefficients; the
inverse penalised information is the coefficient covariance behind the intervals.
Tenure enters as a covariate (``log_tenure``), so the baseline is ``exp(b0)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from risk.survival.base import SurvivalModel

GRAM_ROWS = 65_536


def weighted_gram(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``(x * w[:, None]).T @ x``, summed over blocks of ``GRAM_ROWS`` rows: the weighted
    copy of the design matrix is one block at a time, not the whole panel again."""
    out = np.zeros((x.shape[1], x.shape[1]))
    for lo in range(0, len(x), GRAM_ROWS):
        xs = x[lo : lo + GRAM_ROWS]
        out += (xs * w[lo : lo + GRAM_ROWS, None]).T @ xs
    return out


class PiecewiseExponentialModel(SurvivalModel):
    kind = "pem"
    version = "1"

    def __init__(self, features: list[str], penalty: float = 2.0, max_iter: int = 50) -> None:
        super().__init__(features, penalty)
        self.max_iter = max_iter

    def fit(self, rows: pd.DataFrame) -> PiecewiseExponentialModel:
        self._check_rows(rows)
        x = self._design(rows)
        y = rows["event"].to_numpy(dtype=float)
        off = np.log(rows["exposure"].to_numpy(dtype=float))
        pen = np.full(x.shape[1], self.penalty)
        pen[0] = 0.0
        beta = np.zeros(x.shape[1])
        beta[0] = np.log(y.sum() / np.exp(off).sum())

        def objective(bb: np.ndarray) -> float:
            eta = x @ bb + off
            return float(np.sum(y * eta - np.exp(eta)) - 0.5 * np.sum(pen * bb**2))

        current = objective(beta)
        n_iter = 0
        for _ in range(self.max_iter):
            n_iter += 1
            mu = np.exp(x @ beta + off)
            grad = x.T @ (y - mu) - pen * beta
            hess = weighted_gram(x, mu) + np.diag(pen)
            step = np.linalg.solve(hess, grad)
            t = 1.0
            while t > 1e-4:
                cand = beta + t * step
                value = objective(cand)
                if value >= current - 1e-12:
                    break
                t /= 2
            beta, current = cand, value
            if np.max(np.abs(t * step)) < 1e-8:
                break
        mu = np.exp(x @ beta + off)
        hess = weighted_gram(x, mu) + np.diag(pen)
        full_cov = np.linalg.inv(hess)
        self.intercept_ = float(beta[0])
        self.coef_ = beta[1:]
        self.cov_ = full_cov[1:, 1:]
        self.full_cov_ = full_cov
        self.n_iter_ = n_iter
        self.log_likelihood_ = current
        self.n_events_ = int(y.sum())
        self.n_rows_ = len(y)
        return self

    def draw_parameters(
        self, n_draws: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Intercept and coefficients drawn jointly: the baseline is uncertain too."""
        self._check_fitted()
        mean = np.concatenate([[self.intercept_], self.coef_])
        cov = (self.full_cov_ + self.full_cov_.T) / 2
        draws = rng.multivariate_normal(mean, cov, size=n_draws, method="eigh")
        return draws[:, 1:], draws[:, 0] - self.intercept_

    def _baseline_log_hazard(self, tenure_months: np.ndarray) -> np.ndarray:
        return np.full(np.shape(tenure_months), self.intercept_)

    def _extra_state(self) -> dict[str, Any]:
        return {
            "intercept": self.intercept_,
            "full_cov": self.full_cov_.tolist(),
            "n_events": self.n_events_,
            "n_rows": self.n_rows_,
        }

    def _load_extra(self, state: dict[str, Any]) -> None:
        self.intercept_ = float(state["intercept"])
        self.full_cov_ = np.asarray(state["full_cov"], dtype=float)
        self.n_events_ = int(state.get("n_events", 0))
        self.n_rows_ = int(state.get("n_rows", 0))
