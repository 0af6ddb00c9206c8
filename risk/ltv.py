"""Expected lifetime value and revenue at risk.

``expected_ltv`` of an account: its ARR, spread evenly over months, earned while the
account survives, over ``horizon_months`` from ``as_of`` (default 36), discounted at
``annual_discount_rate`` (default 10 % a year, monthly compounding from ``as_of``):

    LTV = sum_{m=1..H} ARR/12 * S(m - 1/2) * (1 + r)^(-(m - 1/2)/12)

with S the predicted survival curve conditional on being alive at ``as_of`` (revenue of a
month is counted at its middle). ``revenue_at_risk`` at a horizon = ARR x p_churn.
Both defaults are stored with every run (``risk_runs.params``), so a figure can be
re-derived.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from risk.errors import RiskInputError
from risk.trajectories import DAYS_PER_MONTH


@dataclass(frozen=True)
class LtvConfig:
    horizon_months: int = 36
    annual_discount_rate: float = 0.10

    def __post_init__(self) -> None:
        if self.horizon_months < 1:
            raise RiskInputError(f"horizon_months must be >= 1, got {self.horizon_months}")
        if not 0 <= self.annual_discount_rate < 1:
            raise RiskInputError(
                f"annual_discount_rate must be in [0, 1), got {self.annual_discount_rate}"
            )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def grid_days(self) -> list[float]:
        """The mid-month points (in days from as_of) where survival is evaluated."""
        return [(m - 0.5) * DAYS_PER_MONTH for m in range(1, self.horizon_months + 1)]


def expected_ltv(arr: np.ndarray, survival: np.ndarray, config: LtvConfig) -> np.ndarray:
    """LTV per account from ARR (n,) and survival at ``config.grid_days()`` (n x H)."""
    months = np.arange(1, config.horizon_months + 1) - 0.5
    discount = (1.0 + config.annual_discount_rate) ** (-months / 12.0)
    return np.asarray(arr, dtype=float) / 12.0 * (survival @ discount)


def revenue_at_risk(arr: np.ndarray, p_churn: np.ndarray) -> np.ndarray:
    return np.asarray(arr, dtype=float) * np.asarray(p_churn, dtype=float)
