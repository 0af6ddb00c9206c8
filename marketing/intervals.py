"""Intervals of proportions.

``wilson(successes, n, z)``: the Wilson score interval. It stays inside [0, 1], is
defined at 0 and n successes (where the normal approximation collapses to a point), and
its coverage is close to nominal down to a handful of trials (Brown, Cai & DasGupta
2001), which is what small funnel groups need. Fractional counts are allowed (the dark
funnel's answers share weights between channels).
"""

from __future__ import annotations

import math

Z90 = 1.644854  # two-sided 90%: the contract's default interval
Z95 = 1.959964  # two-sided 95%: the dark funnel's shares


def wilson(successes: float, n: float, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion; (None, None) without trials."""
    if n <= 0:
        return None, None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(max(p * (1 - p), 0.0) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)
