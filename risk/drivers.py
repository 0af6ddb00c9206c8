"""Why a model ranks an account where it does: its drivers (data) and one sentence (reason).

A driver is one feature's contribution to the account's log-hazard relative to the
average account-month the model was trained on (coefficient x standardised value):
``effect`` > 0 pushes toward the model's outcome (churn for the risk model, an expansion
opportunity for the expansion model). Each driver also says where the account stands:
``value`` and ``typical`` (the training mean), and ``text``, a phrase whose words follow
the number it shows: "below", "fewer", "more negative" only for a value under the
typical one; for a change ("falling", "rising"), the sign of the change itself.

The sentence (``reason``) cites up to ``N_REASON`` drivers, largest effect first, and
only those a salesperson reads the way the model means them. Each feature may have a
side per outcome (``Feature.risk`` / ``Feature.expand``: +1 when a higher value is the
bad, respectively good, sign, -1 when a lower one is, 0 when neither: tenure, ARR,
segment). A driver is cited as raising the outcome only when its effect is positive
*and* its value sits on that side (NPS below typical raises risk), or the feature has
no side; as lowering it, the mirror image. A driver the model weighs against that
reading (e.g. NPS rising in a model where a recent rise follows a low) stays in
``drivers`` with ``cited: false`` and is never worded as a reason. A change is cited
only when its own sign and its deviation from typical agree, and (sentiment) when the
shown ``sentiment_trend`` does not point the other way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from risk.trajectories import ASPECT_PREFIX

Outcome = Literal["risk", "expansion"]
N_DRIVERS = 5
N_REASON = 3
MIN_EFFECT = 0.05  # a driver moving the log-hazard by less than this is not a reason


def _num(v: float) -> str:
    return f"{v:,.0f}"


def _expm1(v: float) -> float:
    return math.expm1(v)


@dataclass(frozen=True)
class Feature:
    """How one feature reads: its words for a higher, a lower and an unchanged value, how
    its value shows, and its side for each outcome (module docstring)."""

    higher: str
    lower: str
    same: str  # the numbers as shown do not differ (or a change shows as zero)
    show: Callable[[float], str]
    risk: int = 0
    expand: int = 0
    change: bool = False  # a change: the words follow the value's own sign
    show_typical: Callable[[float], str] | None = None

    def direction(self, value: float, typical: float) -> int:
        """+1 / -1 when the value shows above / below the typical one (a change: above /
        below zero); 0 when the numbers as shown do not differ."""
        ref = 0.0 if self.change else typical
        shown_ref = (self.show if self.change else self.show_typical or self.show)(ref)
        if value == ref or self.show(value) == shown_ref:
            return 0
        return 1 if value > ref else -1

    def phrase(self, value: float, typical: float) -> str:
        d = self.direction(value, typical)
        word = self.same if d == 0 else self.higher if d > 0 else self.lower
        if self.change:
            return f"{word} ({self.show(value)})"
        shown = (self.show_typical or self.show)(typical)
        return f"{word} ({self.show(value)} vs. {shown} typical)"


def _pct(v: float) -> str:
    return f"{v:.0%}"


def _signed(v: float) -> str:
    return f"{v:+.2f}"


def _level(what: str, show: Callable[[float], str], risk: int, expand: int) -> Feature:
    return Feature(f"{what} above typical", f"{what} below typical", f"{what} typical", show,
                   risk, expand)  # fmt: skip


def _trend(what: str, show: Callable[[float], str], risk: int, expand: int) -> Feature:
    return Feature(f"{what} rising", f"{what} falling", f"{what} flat", show, risk, expand,
                   change=True)  # fmt: skip


def _amount(more: str, fewer: str, same: str, show: Callable[[float], str], risk: int,
            expand: int) -> Feature:  # fmt: skip
    return Feature(more, fewer, same, show, risk, expand)


FEATURES: dict[str, Feature] = {
    "sentiment_level": _amount("tone more positive than typical",
                               "tone more negative than typical", "tone as typical", _signed,
                               -1, 1),
    "sentiment_change": _trend("sentiment", lambda v: f"{v:+.2f} over 3 months", -1, 1),
    "sentiment_volatility": _amount("sentiment more volatile than typical",
                                    "sentiment steadier than typical",
                                    "sentiment as volatile as typical",
                                    lambda v: f"spread {v:.2f}", 1, 0),
    "negative_share": _amount("more negative texts than typical",
                              "fewer negative texts than typical",
                              "as many negative texts as typical", _pct, 1, -1),
    "ticket_volume": _amount("more support tickets than typical",
                             "fewer support tickets than typical",
                             "as many support tickets as typical",
                             lambda v: f"{_expm1(v):.0f} in 3 months", 1, 0),
    "ticket_trend": _trend("ticket volume", lambda v: f"x{math.exp(v):.1f} over 3 months", 1, 0),
    "nps_level": _level("NPS", lambda v: f"{v:.1f}/10", -1, 1),
    "nps_trend": _trend("NPS", lambda v: f"{v:+.1f} over 3 months", -1, 1),
    "csat_level": _level("CSAT", lambda v: f"{v:.1f}/5", -1, 1),
    "review_rating": _level("review rating", lambda v: f"{v:.1f}/5", -1, 1),
    "log_tenure": _amount("longer tenure than typical", "shorter tenure than typical",
                          "tenure as typical", lambda v: f"{12 * _expm1(v):.0f} months", 0, 0),
    "log_arr": _amount("larger ARR than typical", "smaller ARR than typical", "ARR as typical",
                       lambda v: f"{_num(_expm1(v))}", 0, 0),
    "expansions_before": _amount("more earlier expansions than typical",
                                 "fewer earlier expansions than typical",
                                 "as many earlier expansions as typical",
                                 lambda v: f"{_expm1(v):.1f}", 0, 0),
    "renewal_near": Feature("a contract anniversary within 3 months",
                            "no contract anniversary within 3 months",
                            "a contract anniversary within 3 months as often as typical",
                            lambda v: "yes" if v >= 0.5 else "no",
                            show_typical=lambda v: f"{v:.0%} of accounts yes"),
    "expanded_last_year": Feature("an expansion opened in the last 12 months",
                                  "no expansion opened in the last 12 months",
                                  "an expansion in the last 12 months as often as typical",
                                  lambda v: "yes" if v >= 0.5 else "no",
                                  show_typical=lambda v: f"{v:.0%} of accounts yes"),
    "expanded_recently": Feature("an expansion opened in the last 3 months",
                                 "no expansion opened in the last 3 months",
                                 "an expansion in the last 3 months as often as typical",
                                 lambda v: "yes" if v >= 0.5 else "no",
                                 show_typical=lambda v: f"{v:.0%} of accounts yes"),
}  # fmt: skip


def _aspect(name: str) -> Feature:
    topic = name.removeprefix(ASPECT_PREFIX).replace("_", " ")
    return _amount(f"more complaints about {topic} than typical",
                   f"fewer complaints about {topic} than typical",
                   f"complaints about {topic} as typical", lambda v: f"{v:.0%} of texts", 1, -1)  # fmt: skip


def feature_spec(name: str) -> Feature | None:
    """How ``name`` reads (None for a feature without words: it is never cited)."""
    if name.startswith(ASPECT_PREFIX):
        return _aspect(name)
    return FEATURES.get(name)


def describe(feature: str, value: float, typical: float, row: Any = None) -> str:
    """The phrase of one driver (module docstring); ``row`` gives the segment."""
    if feature == "segment":
        seg = None if row is None else row.get("segment")
        return f"the {seg if seg is not None and not pd.isna(seg) else 'unknown'} segment"
    spec = feature_spec(feature)
    if spec is None:
        return f"{feature} {value:.2f} ({typical:.2f} typical)"
    return spec.phrase(value, typical)


def citable(
    feature: str, value: float, typical: float, effect: float, outcome: Outcome, row: Any = None
) -> bool:
    """Whether a driver may be worded as a reason (module docstring)."""
    if abs(effect) < MIN_EFFECT:
        return False
    if feature == "segment":
        return True
    spec = feature_spec(feature)
    if spec is None:
        return False
    direction = spec.direction(value, typical)
    if direction == 0:
        return False
    if spec.change and np.sign(value - typical) != direction:
        return False  # the change's sign and its deviation from typical disagree
    shown = None if row is None else row.get("sentiment_trend")
    if feature == "sentiment_change" and shown is not None and not pd.isna(shown):
        if shown != 0 and np.sign(shown) != direction:
            return False  # never "sentiment falling" beside a rising trend column
    side = spec.risk if outcome == "risk" else spec.expand
    if side == 0:
        return True
    return bool(direction * side * np.sign(effect) > 0)


def explain(
    features: list[str],
    contributions: np.ndarray,
    frame: pd.DataFrame,
    typical: np.ndarray,
    outcome: Outcome = "risk",
) -> tuple[list[str], list[list[dict[str, Any]]]]:
    """(reason, drivers) for every row of ``frame`` given its contributions (n x p) and
    the features' typical values (p,: the training means)."""
    typical = np.asarray(typical, dtype=float)
    seg_cols = [k for k, f in enumerate(features) if f.startswith("segment_")]
    if seg_cols:  # segment indicators read as one driver: the account's own segment
        keep = [k for k in range(len(features)) if k not in seg_cols]
        seg_effect = contributions[:, seg_cols].sum(axis=1, keepdims=True)
        contributions = np.hstack([contributions[:, keep], seg_effect])
        names = [features[k] for k in keep] + ["segment"]
        values = np.hstack([frame[names[:-1]].to_numpy(dtype=float), np.zeros((len(frame), 1))])
        typical = np.append(typical[keep], 0.0)
    else:
        names = list(features)
        values = frame[names].to_numpy(dtype=float)
    reasons: list[str] = []
    drivers: list[list[dict[str, Any]]] = []
    order = np.argsort(-np.abs(contributions), axis=1)[:, :N_DRIVERS]
    # what the words need of each row (a row taken out of the frame costs ~50 us)
    context = {c: frame[c].to_numpy() for c in ("segment", "sentiment_trend") if c in frame}
    for i in range(len(frame)):
        row = {c: v[i] for c, v in context.items()}
        items = []
        for k in order[i]:
            name, eff = names[k], float(contributions[i, k])
            value, typ = float(values[i, k]), float(typical[k])
            items.append(
                {
                    "feature": name,
                    "value": row.get("segment") if name == "segment" else round(value, 4),
                    "typical": None if name == "segment" else round(typ, 4),
                    "effect": round(eff, 4),
                    "text": describe(name, value, typ, row),
                    "cited": citable(name, value, typ, eff, outcome, row),
                }
            )
        items.sort(key=lambda d: -d["effect"])
        drivers.append(items)
        reasons.append(reason(items, outcome))
    return reasons, drivers


def reason(items: list[dict[str, Any]], outcome: Outcome = "risk") -> str:
    """One sentence from an account's drivers (only cited ones are named)."""
    up = [d["text"] for d in items if d["cited"] and d["effect"] > 0][:N_REASON]
    low = sorted(items, key=lambda d: d["effect"])
    down = [d["text"] for d in low if d["cited"] and d["effect"] < 0][:2]
    if outcome == "risk":
        if up:
            return "Risk raised by " + _join(up) + "."
        if down:
            return "Risk lower than the typical account's: " + _join(down) + "."
        return "No driver stands out: risk close to the typical account's."
    if up:
        return "Expansion more likely: " + _join(up) + "."
    if down:
        return "Expansion less likely than typical: " + _join(down) + "."
    return "No driver stands out: expansion as likely as for the typical account."


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
