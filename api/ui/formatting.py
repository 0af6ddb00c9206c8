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


def signed_money(value: Any) -> str:
    """A change of money: +$12.3k, -$800."""
    if _missing(value):
        return DASH
    return ("+" if float(value) >= 0 else "") + money(value)


def sig(value: Any, digits: int = 3) -> str:
    """A ratio to ``digits`` significant digits, trailing zeros kept: 1.20, 0.0457, 1,234."""
    if _missing(value):
        return DASH
    v = float(value)
    return f"{v:,.0f}" if abs(v) >= 10 ** (digits - 1) else f"{v:#.{digits}g}".rstrip(".")


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


def assumption(a: dict[str, Any]) -> str:
    """A parsed spend assumption (``marketing.forecast.SpendAssumption.as_dict``) in words:
    "event spend x 0.5", "every channel's spend -10%", "search spend +$5,000 a week"."""
    who = "every channel's" if a.get("channel") in (None, "all") else channel(a["channel"])
    value = float(a.get("value") or 0.0)
    if a.get("op") == "*=":
        change = f"x {value:g}"
    elif a.get("percent"):
        change = f"{a['op'][0]}{value:g}%"
    else:
        change = f"{a.get('op', '+=')[0]}${value:,.0f} a week"
    return f"{who} spend {change}"


def tone(value: Any) -> str:
    """A CSS class for a sentiment or trend: neg / pos / flat."""
    if _missing(value):
        return "flat"
    v = float(value)
    return "neg" if v < -0.05 else "pos" if v > 0.05 else "flat"


FILTERS = {
    "money": money,
    "signed_money": signed_money,
    "sig": sig,
    "assumption": assumption,
    "pct": pct,
    "points": points,
    "signed": signed,
    "number": number,
    "day": day,
    "channel": channel,
    "tone": tone,
}
