"""The top drivers of an account's risk, as data (``drivers``) and as one sentence (``reason``).

A driver's ``effect`` is the feature's contribution to the account's log-hazard relative
to the average account-month the model was trained on (coefficient x standardised
value): positive effects raise risk. The sentence names the (at most three) largest
positive effects in words a salesperson can act on.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from risk.trajectories import ASPECT_PREFIX

N_DRIVERS = 5
N_REASON = 3


def describe(feature: str, value: float, row: pd.Series) -> str:
    """A short phrase for one feature's value."""
    if feature == "sentiment_level":
        s = row.get("sentiment")
        shown = f"{s:+.2f}" if s is not None and not pd.isna(s) else f"{value:+.2f} vs. peers"
        return f"{'negative' if value < 0 else 'positive'} tone in recent texts (sentiment {shown})"
    if feature == "sentiment_change":
        return f"sentiment {'falling' if value < 0 else 'rising'} ({value:+.2f} over 90 days)"
    if feature == "sentiment_volatility":
        return f"volatile sentiment (spread {value:.2f})"
    if feature == "negative_share":
        return f"{value:.0%} of recent texts negative"
    if feature.startswith(ASPECT_PREFIX):
        return f"complaints about {feature.removeprefix(ASPECT_PREFIX).replace('_', ' ')}"
    if feature == "ticket_volume":
        return f"{math.expm1(value):.0f} support tickets in 90 days"
    if feature == "ticket_trend":
        return f"ticket volume {'rising' if value > 0 else 'falling'}"
    if feature == "nps_level":
        return f"NPS score {value:.1f}/10"
    if feature == "nps_trend":
        return f"NPS {'falling' if value < 0 else 'rising'} ({value:+.1f} over 90 days)"
    if feature == "csat_level":
        return f"CSAT {value:.1f}/5"
    if feature == "review_rating":
        return f"review rating {value:.1f}/5"
    if feature == "log_tenure":
        return f"tenure {12 * math.expm1(value):.0f} months"
    if feature == "log_arr":
        return f"ARR {math.expm1(value):,.0f}"
    if feature == "segment":
        return f"segment {row.get('segment', 'unknown')}"
    return f"{feature} {value:.2f}"


def explain(
    features: list[str], contributions: np.ndarray, frame: pd.DataFrame
) -> tuple[list[str], list[list[dict[str, Any]]]]:
    """(reason, drivers) for every row of ``frame`` given its contributions (n x p)."""
    seg_cols = [k for k, f in enumerate(features) if f.startswith("segment_")]
    if seg_cols:  # segment indicators read as one driver: the account's own segment
        keep = [k for k in range(len(features)) if k not in seg_cols]
        seg_effect = contributions[:, seg_cols].sum(axis=1, keepdims=True)
        contributions = np.hstack([contributions[:, keep], seg_effect])
        features = [features[k] for k in keep] + ["segment"]
        values = np.hstack([frame[features[:-1]].to_numpy(dtype=float), np.zeros((len(frame), 1))])
    else:
        values = frame[features].to_numpy(dtype=float)
    reasons: list[str] = []
    drivers: list[list[dict[str, Any]]] = []
    order = np.argsort(-np.abs(contributions), axis=1)[:, :N_DRIVERS]
    for i in range(len(frame)):
        row = frame.iloc[i]
        items = []
        for k in order[i]:
            eff = float(contributions[i, k])
            items.append(
                {
                    "feature": features[k],
                    "value": row.get("segment")
                    if features[k] == "segment"
                    else round(float(values[i, k]), 4),
                    "effect": round(eff, 4),
                    "text": describe(features[k], float(values[i, k]), row),
                }
            )
        items.sort(key=lambda d: -d["effect"])
        drivers.append(items)
        up = [d["text"] for d in items if d["effect"] > 0.05][:N_REASON]
        if up:
            reasons.append("Risk raised by " + _join(up) + ".")
        else:
            down = [d["text"] for d in sorted(items, key=lambda d: d["effect"])][:2]
            reasons.append(
                "No driver raises risk above the average account; lowered by " + _join(down) + "."
            )
    return reasons, drivers


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
