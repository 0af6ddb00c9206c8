"""``risk.metrics.auc``: the rank-sum AUC every back-test, ledger and truth check reports."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from risk.metrics import auc


@pytest.mark.parametrize("decimals", [None, 1, 0])  # None: no ties; 1, 0: more and more
def test_auc_equals_scikit_learns_with_and_without_ties(decimals: int | None) -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(2, 2_000))
        y = (rng.random(n) < rng.uniform(0.02, 0.9)).astype(int)
        if y.min() == y.max():
            continue
        score = rng.normal(size=n) + y * rng.uniform(0, 2)
        if decimals is not None:
            score = np.round(score, decimals)
        assert auc(y, score, digits=None) == pytest.approx(roc_auc_score(y, score), abs=1e-12)


def test_auc_edges_rounding_and_scores_that_are_not_finite() -> None:
    y = np.array([0, 0, 1, 1])
    assert auc(y, np.array([0.1, 0.2, 0.3, 0.4])) == 1.0
    assert auc(y, np.array([0.4, 0.3, 0.2, 0.1])) == 0.0
    assert auc(y, np.full(4, 0.5)) == 0.5  # all tied: half of every pair
    assert auc(np.zeros(4), np.arange(4.0)) is None  # no event
    assert auc(np.ones(3), np.arange(3.0)) is None  # no non-event
    assert auc(np.array([]), np.array([])) is None
    # a pair whose score is missing is left out, not ranked
    assert auc(np.array([0, 1, 1, 0]), np.array([0.1, 0.9, np.nan, np.inf])) == 1.0
    # the event at 0.3 ranks above two of the three others
    two_thirds = (np.array([0, 0, 0, 1]), np.array([0.1, 0.2, 0.5, 0.3]))
    assert auc(*two_thirds) == 0.6667 and auc(*two_thirds, digits=2) == 0.67
    assert auc(*two_thirds, digits=None) == pytest.approx(2 / 3, abs=1e-15)
    # 0.9 above all four non-events, 0.3 above two: 6 of 8 pairs
    assert auc(np.array([1, 0, 0, 1, 0, 0]), np.array([0.9, 0.1, 0.2, 0.3, 0.4, 0.5])) == 0.75
