"""Rolling-origin back-test of the pipeline forecast, beside two naive forecasts.

For each origin (the last complete week, then every ``step`` weeks back, ``origins`` of
them, each with ``horizon`` weeks of known outcome after it) the media-mix model is
fitted on what the store knew at the origin (``marketing.measure.measurement_data``),
and the ``horizon``-week total is forecast with the default spend plan (what finance
would have been shown: trailing spend goes on). Beside it, in the same run:

- **naive**: the total of the ``horizon`` weeks before the origin;
- **seasonal naive**: the total of the same weeks a year (52 weeks) earlier, when the
  store reaches that far back (else none).

The naive forecasts' P10-P90 come from their own history: the 10th and 90th percentiles
of the ratio (actual / naive forecast) over every earlier window of the series, applied to
the forecast. Reported: per origin the actual and each method's P10/P50/P90, and per
method the share of origins inside P10-P90 and the median absolute P50 error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine

from marketing.errors import MarketingInputError, NotEnoughWeeksError
from marketing.forecast import forecast
from marketing.measure import default_as_of, measurement_data
from marketing.mmm import MediaMixConfig, MediaMixModel

YEAR = 52


def _naive_band(series: np.ndarray, horizon: int, lag: int) -> tuple[float, float] | None:
    """P10/P90 of actual / naive over the history's windows (lag: weeks between the naive
    window's start and the forecast window's start)."""
    ratios = []
    for start in range(lag, len(series) - horizon + 1):
        naive = series[start - lag : start - lag + horizon].sum()
        if naive > 0:
            ratios.append(series[start : start + horizon].sum() / naive)
    if len(ratios) < 4:
        return None
    lo, hi = np.percentile(ratios, [10, 90])
    return float(lo), float(hi)


def _naive(history: np.ndarray, horizon: int, lag: int) -> dict[str, float] | None:
    if len(history) < lag:
        return None
    window = history[len(history) - lag : len(history) - lag + horizon]
    if len(window) < horizon:
        return None
    p50 = float(window.sum())
    band = _naive_band(history, horizon, lag)
    if band is None:
        return {"p10": None, "p50": p50, "p90": None}  # type: ignore[dict-item]
    return {"p10": p50 * band[0], "p50": p50, "p90": p50 * band[1]}


def backtest(
    engine: Engine,
    origins: int = 4,
    horizon: int = 13,
    step: int = 13,
    config: MediaMixConfig | None = None,
    outcome: str = "pipeline",
    on_origin: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The back-test table (module docstring). ``on_origin(date)`` is called before each
    origin's fit (a fit takes about a minute here)."""
    config = config or MediaMixConfig()
    if origins < 1 or horizon < 1 or step < 1:
        raise MarketingInputError(
            f"origins, horizon and step must be at least 1, got {origins}, {horizon}, {step}"
        )
    last_day = default_as_of(engine)
    full, _ = measurement_data(engine, last_day, outcome)
    weeks, y = full.weeks, np.asarray(full.outcome, dtype=float)
    rows = []
    for k in range(origins, 0, -1):
        cut = len(weeks) - horizon - (k - 1) * step  # weeks known at the origin
        if cut < config.min_weeks + 1:
            continue
        origin = weeks[cut - 1] + timedelta(days=6)  # the Sunday ending the last known week
        if on_origin is not None:
            on_origin(origin.isoformat())
        data, _ = measurement_data(engine, origin, outcome)
        model = MediaMixModel(replace(config, seed=config.seed + k)).fit(data)
        fc = forecast(model.posterior_, horizon, [], seed=k)
        actual = float(y[cut : cut + horizon].sum())
        history = y[:cut]
        rows.append({
            "origin": origin.isoformat(),
            "weeks_known": cut,
            "actual": round(actual, 2),
            "model": {k2: round(float(v), 2) for k2, v in fc["total"].items()},
            "naive": _rounded(_naive(history, horizon, horizon)),
            "seasonal_naive": _rounded(_naive(history, horizon, YEAR)),
            "converged": model.diagnostics_["converged"],
        })  # fmt: skip
    if not rows:
        raise NotEnoughWeeksError(
            f"a back-test of {origins} origins of {horizon} weeks needs at least "
            f"{config.min_weeks + horizon + 1} weeks of history, the store has {len(weeks)}"
        )
    out: dict[str, Any] = {"horizon_weeks": horizon, "origins": rows, "summary": {
        m: _summary(rows, m) for m in ("model", "naive", "seasonal_naive")}}  # fmt: skip
    if len(rows) < origins:
        out["note"] = (
            f"{origins - len(rows)} of the {origins} origins left out: the model needs "
            f"{config.min_weeks + 1} weeks before an origin and the store has {len(weeks)}"
        )
    return out


def _rounded(q: dict[str, float] | None) -> dict[str, float | None] | None:
    if q is None:
        return None
    return {k: (None if v is None else round(float(v), 2)) for k, v in q.items()}


def _summary(rows: list[dict[str, Any]], method: str) -> dict[str, Any]:
    have = [r for r in rows if r.get(method)]
    banded = [r for r in have if r[method]["p10"] is not None]
    inside = sum(1 for r in banded if r[method]["p10"] <= r["actual"] <= r[method]["p90"])
    errors = [abs(r[method]["p50"] - r["actual"]) / r["actual"] for r in have if r["actual"] > 0]
    return {
        "origins": len(have),
        "coverage_p10_p90": round(inside / len(banded), 3) if banded else None,
        "median_abs_p50_error": round(float(np.median(errors)), 4) if errors else None,
    }

