"""The demo world's calendar: month indices <-> dates, and random moments in a month.

Month 0 is the first data month; the last data month (``months - 1``) is the one that
holds ``end``, the data's last day; later indices are the unexported future.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from ingest.errors import InputError

# The days a demo world may end on (its first month must still be a real date).
FIRST_END, LAST_END = date(1900, 1, 1), date(2199, 12, 31)


def parse_end(end: date | str | None) -> date:
    """``end`` as a date: None -> today (UTC); 'YYYY-MM' -> that month's last day."""
    if end is None:
        return datetime.now(UTC).date()
    if isinstance(end, datetime):
        return end.date()
    if isinstance(end, date):
        return end
    text = str(end).strip()
    try:
        if len(text) == 7:
            y, m = int(text[:4]), int(text[5:7])
            return date(y, m, calendar.monthrange(y, m)[1])
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise InputError(f"end must be YYYY-MM or YYYY-MM-DD, got {text!r}") from exc


@dataclass(frozen=True)
class Timeline:
    end: date  # the data's last day
    months: int

    def month_start(self, t: int) -> date:
        k = self.end.year * 12 + (self.end.month - 1) - (self.months - 1) + t
        return date(k // 12, k % 12 + 1, 1)

    def days_in(self, t: int) -> int:
        s = self.month_start(t)
        return calendar.monthrange(s.year, s.month)[1]

    def day(self, t: int, day: int) -> date:
        return self.month_start(t) + timedelta(days=min(day, self.days_in(t)) - 1)

    def moment(self, rng: np.random.Generator, t: int) -> datetime:
        """A random working-hours moment in month ``t`` (UTC)."""
        d = self.day(t, int(rng.integers(1, self.days_in(t) + 1)))
        minutes = int(rng.integers(7 * 60, 20 * 60))
        return datetime(
            d.year, d.month, d.day, minutes // 60, minutes % 60, int(rng.integers(0, 60))
        )

    def in_data(self, moment: datetime | date) -> bool:
        d = moment.date() if isinstance(moment, datetime) else moment
        return d <= self.end

    @property
    def start(self) -> date:
        return self.month_start(0)
