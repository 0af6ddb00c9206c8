"""Periods of the marketing figures (CONTRACT.md section 5): ``from`` and ``to`` are days,
both included; a week belongs to the period of its first day (a Monday).

Timestamps are stored as naive UTC, so a day is [midnight, next midnight) in UTC.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from marketing.errors import MarketingInputError


def check_period(date_from: date | None, date_to: date | None) -> None:
    """A MarketingInputError when ``from`` is after ``to``."""
    if date_from and date_to and date_from > date_to:
        raise MarketingInputError(f"'from' ({date_from}) must not be after 'to' ({date_to})")


def bounds(date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """[lo, hi) timestamps of the days ``date_from`` .. ``date_to`` (None: open)."""
    lo = datetime.combine(date_from, time.min) if date_from else None
    # the last representable day has no day after it: no upper bound then
    hi = (
        datetime.combine(date_to + timedelta(days=1), time.min)
        if date_to and date_to < date.max
        else None
    )
    return lo, hi


def week_start(day: date) -> date:
    """The Monday of ``day``'s week (ISO weeks)."""
    return day - timedelta(days=day.weekday())


def weeks(date_from: date, date_to: date) -> list[date]:
    """The Mondays in [date_from, date_to]: the weeks that belong to the period."""
    first = week_start(date_from)
    if first < date_from:
        first += timedelta(days=7)
    out = []
    while first <= date_to:
        out.append(first)
        first += timedelta(days=7)
    return out
