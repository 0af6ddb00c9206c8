"""Ranking metrics shared by the back-tests, the ledger and the truth checks.

``auc`` is the area under the ROC curve by the Mann-Whitney rank sum (ties count half,
as ``sklearn.metrics.roc_auc_score``), in numpy: a fit's process and each Ray worker
no longer import scikit-learn's metrics package for it (0.7-0.8 s a process here)."""

from __future__ import annotations

import numpy as np


def auc(y: np.ndarray, score: np.ndarray, digits: int | None = 4) -> float | None:
    """AUC of ``score`` for the binary outcome ``y`` (1 = event); pairs with a score that
    is not finite are left out. None without both an event and a non-event."""
    y = np.asarray(y, dtype=float)
    s = np.asarray(score, dtype=float)
    ok = np.isfinite(s) & np.isfinite(y)
    y, s = y[ok], s[ok]
    events = y > 0.5
    n1 = int(events.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return None
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    mid_rank = ends - (counts - 1) / 2.0  # 1-based rank of a value, ties sharing their mean
    u = float(mid_rank[inverse][events].sum()) - n1 * (n1 + 1) / 2.0
    value = u / (n1 * n0)
    return value if digits is None else round(value, digits)
