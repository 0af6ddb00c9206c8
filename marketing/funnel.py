"""The revenue funnel: stage counts, cohort conversion rates with 90% intervals, stage
durations, win rate, average deal and pipeline velocity, by channel or segment.

``funnel(engine, date_from=None, date_to=None, by="channel")`` returns the keys of
``GET /v1/funnel`` (CONTRACT.md section 5); ``funnel_from_frames`` does the same from
the frames of ``marketing.frames`` (DataFrame in, dict out). What each figure means is
the definitions file's (``marketing/definitions/kpi.yaml``), whose version every result
carries as ``definitions_version``; in short:

- counts of the period's events: leads by ``created_at``, MQLs by ``mql_at``, SQLs by
  ``sql_at``, opportunities by ``created_at``, won and lost by ``closed_at``;
- conversion rates of cohorts (the leads created in the period; for the last step the
  opportunities created in it), a stage counted as reached within the conversion window,
  a later stage implying the earlier ones, so no rate exceeds 1; 90% Wilson intervals;
- ``win_rate`` = won / (won + lost); ``average_deal`` = mean amount won;
  ``pipeline_velocity`` = opportunities x win_rate x average_deal / median days from
  creation to close (at least one day), per day.

Counts add up exactly: every stored record of the period is in one group, prospects'
opportunities (unresolved) included. No figure is NaN: a figure without data is None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from ingest.errors import NotFoundError
from ingest.taxonomy import CHANNELS
from marketing.definitions import KpiDefinitions, load_definitions
from marketing.errors import MarketingInputError
from marketing.frames import leads_frame, opportunities_frame
from marketing.grouping import GROUPINGS, UNKNOWN_SEGMENT, lead_groups, opportunity_groups
from marketing.intervals import Z90, wilson
from marketing.periods import bounds, check_period

COUNTS = ("leads", "mqls", "sqls", "opportunities", "won", "lost")
# rate -> (numerator, denominator) among the cohort flags below
RATES: dict[str, tuple[str, str]] = {
    "lead_to_mql_rate": ("reached_mql", "cohort_lead"),
    "mql_to_sql_rate": ("reached_sql", "reached_mql"),
    "sql_to_opportunity_rate": ("reached_opportunity", "reached_sql"),
    "opportunity_to_won_rate": ("cohort_won", "cohort_opportunity"),
}
MEDIANS = (
    "median_days_lead_to_mql",
    "median_days_mql_to_sql",
    "median_days_sql_to_opportunity",
    "median_days_opportunity_to_close",
)
METHOD = (
    "stage counts of the period's events; cohort conversion rates with 90% Wilson "
    "intervals; definitions in marketing/definitions/kpi.yaml"
)
_DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class _Marked:
    """The period's leads and opportunities, each row with its group and flags."""

    leads: pd.DataFrame
    opps: pd.DataFrame


def _between(values: pd.Series, lo: Any, hi: Any) -> pd.Series:
    inside = values.notna()
    if lo is not None:
        inside &= values >= lo
    if hi is not None:
        inside &= values < hi
    return inside


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier) / _DAY


def default_period(
    leads: pd.DataFrame, opps: pd.DataFrame, date_from: date | None, date_to: date | None
) -> tuple[date | None, date | None]:
    """The period asked for; an open end is the store's first (last) stage date."""
    stamps = pd.concat(
        [leads[c] for c in ("created_at", "mql_at", "sql_at")]
        + [opps[c] for c in ("created_at", "closed_at")]
    ).dropna()
    if stamps.empty:
        return date_from, date_to
    return (date_from or stamps.min().date(), date_to or stamps.max().date())


def _mark(
    leads: pd.DataFrame,
    opps: pd.DataFrame,
    date_from: date | None,
    date_to: date | None,
    by: str,
    window: pd.Timedelta,
) -> _Marked:
    lo, hi = bounds(date_from, date_to)
    # ends beyond pandas' timestamps (years 1677-2262) hold every record: open ends
    lo = lo if lo is not None and lo >= pd.Timestamp.min else None
    hi = hi if hi is not None and hi <= pd.Timestamp.max else None
    opened = opps.groupby("opportunity_id")["created_at"].min()
    lead = pd.DataFrame(index=leads.index)
    lead["group"] = lead_groups(leads, by)
    lead["leads"] = _between(leads["created_at"], lo, hi)
    lead["mqls"] = _between(leads["mql_at"], lo, hi)
    lead["sqls"] = _between(leads["sql_at"], lo, hi)
    created = leads["created_at"]
    has_opp = leads["opportunity_id"].fillna("").astype(str) != ""
    opp_at = leads["opportunity_id"].map(opened)
    in_window = lambda at: at.notna() & (at - created <= window)  # noqa: E731
    lead["cohort_lead"] = lead["leads"]
    lead["reached_opportunity"] = lead["leads"] & has_opp & (opp_at.isna() | in_window(opp_at))
    lead["reached_sql"] = lead["leads"] & (in_window(leads["sql_at"]) | lead["reached_opportunity"])
    lead["reached_mql"] = lead["leads"] & (in_window(leads["mql_at"]) | lead["reached_sql"])
    cohort = lead["leads"]
    lead["median_days_lead_to_mql"] = _days(leads["mql_at"], created).where(
        cohort & in_window(leads["mql_at"])
    )
    lead["median_days_mql_to_sql"] = _days(leads["sql_at"], leads["mql_at"]).where(cohort)
    lead["median_days_sql_to_opportunity"] = _days(opp_at, leads["sql_at"]).where(cohort)

    opp = pd.DataFrame(index=opps.index)
    opp["group"] = opportunity_groups(opps, leads, by)
    closed = _between(opps["closed_at"], lo, hi)
    won = opps["is_won"].map(lambda v: v is True or v == 1)
    lost = opps["is_won"].map(lambda v: v is False or v == 0) & opps["is_won"].notna()
    opp["opportunities"] = _between(opps["created_at"], lo, hi)
    opp["won"] = closed & won
    opp["lost"] = closed & lost
    opp["cohort_opportunity"] = opp["opportunities"]
    opp["cohort_won"] = (
        opp["opportunities"]
        & won
        & opps["closed_at"].notna()
        & (opps["closed_at"] - opps["created_at"] <= window)
    )
    opp["amount"] = opps["amount"].astype(float)
    opp["unresolved"] = ~opps["resolved"].astype(bool)
    opp["median_days_opportunity_to_close"] = _days(opps["closed_at"], opps["created_at"]).where(
        opp["won"] | opp["lost"]
    )
    return _Marked(lead, opp)


def _num(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def _median(values: pd.Series) -> float | None:
    values = values.dropna()
    return _num(float(values.median()), 1) if len(values) else None


def figures(lead: pd.DataFrame, opp: pd.DataFrame) -> dict[str, Any]:
    """The funnel figures of one group's marked rows (``_mark``)."""
    out: dict[str, Any] = {}
    for name in ("leads", "mqls", "sqls"):
        out[name] = int(lead[name].sum())
    for name in ("opportunities", "won", "lost"):
        out[name] = int(opp[name].sum())
    flags = {
        **{c: int(lead[c].sum()) for c in ("cohort_lead", "reached_mql", "reached_sql",
                                             "reached_opportunity")},
        **{c: int(opp[c].sum()) for c in ("cohort_opportunity", "cohort_won")},
    }  # fmt: skip
    for rate, (num, den) in RATES.items():
        n, k = flags[den], flags[num]
        low, high = wilson(k, n, Z90)
        out[rate] = _num(k / n, 4) if n else None
        out[f"{rate}_low"], out[f"{rate}_high"] = _num(low, 4), _num(high, 4)
    for name in MEDIANS[:3]:
        out[name] = _median(lead[name])
    out[MEDIANS[3]] = _median(opp[MEDIANS[3]])
    decided = out["won"] + out["lost"]
    win_rate = out["won"] / decided if decided else None
    low, high = wilson(out["won"], decided, Z90)
    won_amounts = opp.loc[opp["won"], "amount"]
    average = float(won_amounts.mean()) if len(won_amounts) else None
    days = out[MEDIANS[3]]
    velocity = (
        out["opportunities"] * win_rate * average / max(days, 1.0)
        if win_rate is not None and average is not None and days is not None
        else None
    )
    out.update(
        win_rate=_num(win_rate, 4),
        win_rate_low=_num(low, 4),
        win_rate_high=_num(high, 4),
        average_deal=_num(average, 2),
        pipeline_velocity=_num(velocity, 2),
        pipeline=round(float(opp.loc[opp["opportunities"], "amount"].sum()), 2),
        won_amount=round(float(won_amounts.sum()), 2),
        unresolved_opportunities=int((opp["opportunities"] & opp["unresolved"]).sum()),
        cohort={
            "leads": flags["cohort_lead"],
            "reached_mql": flags["reached_mql"],
            "reached_sql": flags["reached_sql"],
            "reached_opportunity": flags["reached_opportunity"],
            "opportunities": flags["cohort_opportunity"],
            "won": flags["cohort_won"],
        },
    )
    return out


def _order(groups: set[str], by: str) -> list[str]:
    if by == "channel":
        return [c for c in CHANNELS if c in groups] + sorted(groups - set(CHANNELS))
    named = sorted(g for g in groups if g != UNKNOWN_SEGMENT)
    return named + ([UNKNOWN_SEGMENT] if UNKNOWN_SEGMENT in groups else [])


def funnel_from_frames(
    leads: pd.DataFrame,
    opps: pd.DataFrame,
    date_from: date | None = None,
    date_to: date | None = None,
    by: str = "channel",
    definitions: KpiDefinitions | None = None,
) -> dict[str, Any]:
    """The funnel of the period from ``leads_frame`` and ``opportunities_frame`` frames."""
    if by not in GROUPINGS:
        raise MarketingInputError(f"by must be one of {', '.join(GROUPINGS)}, got {by!r}")
    check_period(date_from, date_to)
    defs = definitions or load_definitions()
    window = pd.Timedelta(days=defs.conversion_window_days)
    date_from, date_to = default_period(leads, opps, date_from, date_to)
    marked = _mark(leads, opps, date_from, date_to, by, window)
    lead, opp = marked.leads, marked.opps
    counted = lead[["leads", "mqls", "sqls"]].any(axis=1)
    counted_opp = opp[["opportunities", "won", "lost"]].any(axis=1)
    present = set(lead.loc[counted, "group"]) | set(opp.loc[counted_opp, "group"])
    groups = [
        {"group": g, **figures(lead[lead["group"] == g], opp[opp["group"] == g])}
        for g in _order(present, by)
    ]
    last = default_period(leads, opps, None, None)[1]
    mature = (
        None if last is None or date_to is None
        else last - date_to >= timedelta(days=defs.conversion_window_days)
    )  # fmt: skip
    return {
        "from": date_from,
        "to": date_to,
        "by": by,
        "definitions_version": defs.version,
        "groups": groups,
        "total": {"group": "total", **figures(lead, opp)},
        "conversion_window_days": defs.conversion_window_days,
        "cohort_mature": mature,
        "data_until": last,
        "method": METHOD,
    }


def funnel(
    engine: Engine,
    date_from: date | None = None,
    date_to: date | None = None,
    by: str = "channel",
) -> dict[str, Any]:
    """The funnel of the store's leads and opportunities (module docstring)."""
    if by not in GROUPINGS:
        raise MarketingInputError(f"by must be one of {', '.join(GROUPINGS)}, got {by!r}")
    check_period(date_from, date_to)
    return funnel_from_frames(
        leads_frame(engine), opportunities_frame(engine), date_from, date_to, by
    )


# ----------------------------------------------------------------- provenance
def funnel_records(
    engine: Engine,
    group: str,
    date_from: date | None = None,
    date_to: date | None = None,
    by: str = "channel",
) -> dict[str, Any]:
    """The figures of one group (or ``total``) and the stored records counted in it:
    every lead and opportunity with the stages it was counted at and its file and line
    (``GET /v1/provenance/funnel/{group}``). NotFoundError for a group with no record."""
    result = funnel(engine, date_from, date_to, by)
    figures_of = {g["group"]: g for g in [*result["groups"], result["total"]]}
    if group not in figures_of:
        known = ", ".join(figures_of)
        raise NotFoundError(f"no funnel group '{group}' by {by} in the period; groups: {known}")
    leads, opps = leads_frame(engine), opportunities_frame(engine)
    window = pd.Timedelta(days=load_definitions().conversion_window_days)
    marked = _mark(leads, opps, result["from"], result["to"], by, window)
    records: list[dict[str, Any]] = []
    for table, frame, flags, stages, id_col in (
        ("leads", leads, marked.leads, ("leads", "mqls", "sqls"), "lead_id"),
        ("opportunities", opps, marked.opps, ("opportunities", "won", "lost"), "opportunity_id"),
    ):
        counted = flags[list(stages)].any(axis=1)
        if group != "total":
            counted &= flags["group"] == group
        for i in np.flatnonzero(counted.to_numpy()):
            row = frame.iloc[i]
            records.append(
                {
                    "table": table,
                    "id": row[id_col],
                    "source": row["source"],
                    "counted_as": [s for s in stages if bool(flags[s].iloc[i])],
                    "source_file": row["source_file"],
                    "source_line": int(row["source_line"]),
                    "ingest_run_id": None
                    if pd.isna(row["ingest_run_id"])
                    else int(row["ingest_run_id"]),
                }
            )
    head = {k: result[k] for k in ("from", "to", "by", "definitions_version")}
    return {**head, "figures": figures_of[group], "records": records}


# ----------------------------------------------------------------- flat rows (downloads)
ROW_COLUMNS = [
    "from", "to", "by", "group", *COUNTS,
    *(f"{r}{s}" for r in RATES for s in ("", "_low", "_high")),
    *MEDIANS, "win_rate", "win_rate_low", "win_rate_high", "average_deal",
    "pipeline_velocity", "pipeline", "won_amount", "unresolved_opportunities",
    "definitions_version",
]  # fmt: skip


def funnel_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per group and one for the total (``ROW_COLUMNS``), for CSV/Parquet."""
    head = {k: result[k] for k in ("from", "to", "by", "definitions_version")}
    return [
        {**head, **{k: v for k, v in g.items() if k in ROW_COLUMNS}}
        for g in [*result["groups"], result["total"]]
    ]
