"""Lift tests as observations of the media-mix model.

A stored experiment (CONTRACT.md section 5) says: over the days ``start`` .. ``end``
(inclusive), ``spend_delta`` more (or, negative, less) was spent on ``channel``, and the
outcome moved by ``lift`` (90% interval ``lift_low`` .. ``lift_high``) within those days.
The model reproduces exactly that: the same spend change, spread evenly over the test's
days, goes through the channel's carry-over and saturation, and the model's lift is the
change of the channel's contribution within the test's days (a week partly inside the
test counts by its share of days). So a short test of a channel with a long carry-over is
not mistaken for its whole effect.

The measurement's standard error is the 90% interval's half width / 1.645; a test given
without an interval is taken at ``DEFAULT_RELATIVE_SE`` of its lift (stated in the run).
Tests that cannot inform the model are kept, with the reason, in ``unused``: another
outcome, a channel without spend in the model, or days outside the modelled weeks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

Z90 = 1.6448536269514722
DEFAULT_RELATIVE_SE = 0.5


@dataclass(frozen=True)
class LiftObservation:
    experiment_id: str
    channel: str
    delta: np.ndarray  # (weeks,) spend added per week, original units
    window: np.ndarray  # (weeks,) share of each week's days inside the test
    lift: float
    se: float
    lift_low: float | None
    lift_high: float | None
    spend_delta: float
    start: date
    end: date


@dataclass
class LiftTests:
    used: list[LiftObservation] = field(default_factory=list)
    unused: list[dict[str, str]] = field(default_factory=list)


def _float(value: object) -> float | None:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _day(value: object) -> date:
    return pd.Timestamp(value).date()  # type: ignore[arg-type]


def lift_observations(
    experiments: pd.DataFrame, weeks: list[date], channels: list[str], outcome: str
) -> LiftTests:
    """The experiments that speak to a model of ``outcome`` over ``weeks`` (Mondays) and
    ``channels``, as observations; the others with why not."""
    out = LiftTests()
    if experiments is None or experiments.empty or not weeks:
        return out
    first, after = weeks[0], weeks[-1] + timedelta(days=7)
    index = {w: k for k, w in enumerate(weeks)}
    for row in experiments.to_dict("records"):
        exp_id = str(row.get("experiment_id"))
        channel, row_outcome = str(row.get("channel")), str(row.get("outcome"))
        start, end = _day(row["start"]), _day(row["end"])
        why = None
        if row_outcome != outcome:
            why = f"measures {row_outcome}, the model {outcome}"
        elif channel not in channels:
            why = f"no spend on {channel} in the modelled weeks"
        elif start < first or end >= after:
            why = f"its days {start}..{end} are not all inside the modelled weeks {first}..{after - timedelta(days=1)}"
        if why:
            out.unused.append({"experiment_id": exp_id, "channel": channel, "reason": why})
            continue
        days = [start + timedelta(days=k) for k in range((end - start).days + 1)]
        delta, window = np.zeros(len(weeks)), np.zeros(len(weeks))
        per_day = float(row["spend_delta"]) / len(days)
        for d in days:
            k = index[d - timedelta(days=d.weekday())]
            delta[k] += per_day
            window[k] += 1 / 7
        lift = float(row["lift"])
        low, high = _float(row.get("lift_low")), _float(row.get("lift_high"))
        se = (high - low) / (2 * Z90) if low is not None and high is not None and high > low else None
        out.used.append(LiftObservation(
            experiment_id=exp_id, channel=channel, delta=delta, window=window, lift=lift,
            se=se if se else max(abs(lift) * DEFAULT_RELATIVE_SE, 1e-9), lift_low=low,
            lift_high=high, spend_delta=float(row["spend_delta"]), start=start, end=end,
        ))  # fmt: skip
    return out
