"""Weekly series from the store, the input of the media-mix model and the forecast.

``weekly_outcome(engine, outcome, start, end)``: per week (Monday), the outcome of the
records created in it: ``pipeline`` (sum of opportunity amounts by ``created_at`` week,
CONTRACT.md section 5), ``opportunities`` (how many were created) or ``leads``
(how many were created). Opportunities of prospects count like any other.

``weekly_spend(engine, start, end, currency=None)``: per week and channel, spend,
impressions and clicks summed over the week's rows (a weekly total dated on any day of
its week lands in that week).

A week belongs to the period of its first day: the weeks returned are those whose
Monday lies in [start, end]; their records may fall after ``end`` within the last week.
Every week of the span is listed, with 0 where nothing happened (a model must see the
quiet weeks too). ``start``/``end`` default to the first and last week with records;
an empty store gives an empty frame.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import pandas as pd
from sqlalchemy import Engine

from ingest.taxonomy import CHANNELS
from marketing.errors import MarketingInputError
from marketing.frames import leads_frame, opportunities_frame, spend_frame
from marketing.periods import check_period, week_start, weeks

Outcome = Literal["pipeline", "opportunities", "leads"]
OUTCOMES: tuple[str, ...] = ("pipeline", "opportunities", "leads")
MAX_WEEKS = 5_218  # a hundred years


def _span(days: pd.Series, start: date | None, end: date | None) -> list[date]:
    """The Mondays of the weeks of [start, end] (defaults: the records' first and last)."""
    check_period(start, end)
    if days.empty and (start is None or end is None):
        return []
    first = start or week_start(days.min().date())
    last = end or days.max().date()
    if (last - first).days > 7 * MAX_WEEKS:
        raise MarketingInputError(
            f"a weekly series of {first} .. {last} is too long: at most {MAX_WEEKS} weeks"
        )
    return weeks(first, last)


def weekly_totals(
    days: pd.Series, values: pd.Series, start: date | None = None, end: date | None = None
) -> pd.DataFrame:
    """Sums of ``values`` per week of ``days`` (Timestamps), every week of the span
    listed: columns ``week`` (date of its Monday) and ``value``. DataFrame out."""
    span = _span(days, start, end)
    monday = (days.dt.normalize() - pd.to_timedelta(days.dt.weekday, unit="D")).dt.date
    sums = values.groupby(monday.to_numpy()).sum()
    return pd.DataFrame(
        {"week": span, "value": [float(sums.get(w, 0.0)) for w in span]},
        columns=["week", "value"],
    )


def weekly_outcome(
    engine: Engine,
    outcome: Outcome = "pipeline",
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """Columns ``week`` (Monday) and ``value`` (module docstring)."""
    if outcome not in OUTCOMES:
        raise MarketingInputError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    if outcome == "leads":
        frame = leads_frame(engine)
        return weekly_totals(frame["created_at"], pd.Series(1.0, index=frame.index), start, end)
    opps = opportunities_frame(engine)
    values = opps["amount"] if outcome == "pipeline" else pd.Series(1.0, index=opps.index)
    return weekly_totals(opps["created_at"], values, start, end)


def weekly_spend(
    engine: Engine,
    start: date | None = None,
    end: date | None = None,
    currency: str | None = None,
) -> pd.DataFrame:
    """Columns ``week``, ``channel`` (taxonomy order), ``spend``, ``impressions``,
    ``clicks``: one row per week of the span and channel with any spend stored. Spend
    in several currencies is not added up: pass ``currency``."""
    rows = spend_frame(engine)
    found = sorted(set(rows["currency"]))
    if currency is None and len(found) > 1:
        raise MarketingInputError(
            f"spend is stored in several currencies ({', '.join(found)}): choose one"
        )
    if currency is not None:
        rows = rows[rows["currency"] == currency.upper()]
    span = _span(rows["date"], start, end)
    columns = ["week", "channel", "spend", "impressions", "clicks"]
    if not span or rows.empty:
        return pd.DataFrame(columns=columns)
    rows = rows.assign(week=[week_start(d.date()) for d in rows["date"]])
    sums = rows.groupby(["week", "channel"])[["spend", "impressions", "clicks"]].sum(min_count=1)
    present = [c for c in CHANNELS if c in set(rows["channel"])]
    index = pd.MultiIndex.from_product([span, present], names=["week", "channel"])
    out = sums.reindex(index).reset_index()
    out["spend"] = out["spend"].fillna(0.0)
    return out[columns]
