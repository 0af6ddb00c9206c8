"""LTV: ARR over the survival curve, discounted."""

from __future__ import annotations

import numpy as np
import pytest

from risk.errors import RiskInputError
from risk.ltv import LtvConfig, expected_ltv, revenue_at_risk


def test_a_certain_survivor_without_discount_is_worth_its_arr_per_year() -> None:
    cfg = LtvConfig(horizon_months=36, annual_discount_rate=0.0)
    ltv = expected_ltv(np.array([12_000.0]), np.ones((1, 36)), cfg)
    assert ltv[0] == pytest.approx(36_000.0)


def test_discounting_and_churn_lower_the_value() -> None:
    cfg = LtvConfig()
    surv = np.vstack([np.ones(36), np.exp(-0.05 * np.arange(36))])
    ltv = expected_ltv(np.array([12_000.0, 12_000.0]), surv, cfg)
    assert ltv[1] < ltv[0] < 36_000.0


def test_revenue_at_risk_and_bad_config() -> None:
    assert revenue_at_risk(np.array([100.0]), np.array([0.25]))[0] == 25.0
    with pytest.raises(RiskInputError):
        LtvConfig(annual_discount_rate=1.5)
