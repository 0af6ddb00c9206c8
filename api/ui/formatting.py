"""Jinja filters of the role views: money, percentages, signed numbers, dates, labels.

Missing values render as an en dash, never as ``None`` or ``nan``.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

DASH = "\u2013"
CHANNEL_LABELS = {
    "peer_referral": "peer referral",
    "community": "community",
    "podcast": "podcast",
    "ai_assistant": "AI assistant",
    "social": "social",
    "search": "search",
    "review_site": "review site",
    "event": "event",
    "content": "content",
    "paid_ads": "paid ads",
    "partner": "partner",
    "other": "other",
}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: Any) -> str:
    """$1.2M, $45.3k, $800."""
    if _missing(value):
        return DASH
    v = float(value)
    sign = "-" if v < 0 else ""
    v = abs(v)
    if v >= 1e6:
        return f"{sign}${v / 1e6:.2f}M"
    if v >= 1e4:
        return f"{sign}${v / 1e3:.1f}k"
    return f"{sign}${v:,.0f}"


def pct(value: Any, digits: int = 1) -> str:
    """0.123 -> 12.3%."""
    return DASH if _missing(value) else f"{float(value) * 100:.{digits}f}%"


def points(value: Any) -> str:
    """A difference of shares as signed percentage points: 0.21 -> +21.0 pts."""
    return DASH if _missing(value) else f"{float(value) * 100:+.1f} pts"


def signed(value: Any, digits: int = 2) -> str:
    return DASH if _missing(value) else f"{float(value):+.{digits}f}"


def number(value: Any, digits: int = 3) -> str:
    return DASH if _missing(value) else f"{float(value):.{digits}f}"


def day(value: Any) -> str:
    if _missing(value):
        return DASH
    if isinstance(value, datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M")
            if value.time() != datetime.min.time()
            else value.date().isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def channel(value: Any) -> str:
    return CHANNEL_LABELS.get(str(value), str(value))


def tone(value: Any) -> str:
    """A CSS class for a sentiment or trend: neg / pos / flat."""
    if _missing(value):
        return "flat"
    v = float(value)
    return "neg" if v < -0.05 else "pos" if v > 0.05 else "flat"


FILTERS = {
    "money": money,
    "pct": pct,
    "points": points,
    "signed": signed,
    "number": number,
    "day": day,
    "channel": channel,
    "tone": tone,
}
