"""Row checks of the marketing kinds (spend, leads, experiments) that span columns or
need the channel taxonomy; ``ingest.validate`` runs them after the per-column checks.

Each check returns (problem mask, reason) pairs over the chunk's typed columns, and may
replace a column with its canonical form. What is an error and what is allowed:

spend
  error: a channel that is not in the taxonomy, or is ambiguous (``ingest.taxonomy``);
  a currency that is not ISO 4217 (default USD). Allowed: spend of 0 (a paused week is
  data), clicks above impressions (platforms count them apart), several rows of one day
  and channel with different campaigns or segments.
leads
  error: ``mql_at`` or ``sql_at`` before ``created_at``; ``sql_at`` before ``mql_at``.
  Allowed: an SQL without an MQL date (sales accepted it directly), an ``opportunity_id``
  without stage dates, a lead with neither ``account_id`` nor ``email`` (it counts in
  the funnel, unresolved), stage dates on the day of creation.
experiments
  error: a channel as for spend; ``end`` before ``start``; an ``outcome`` other than
  pipeline, opportunities or leads; a ``design`` other than geo, holdout or pulse (empty
  is allowed); ``spend_delta`` of 0 (a test that moved no spend measures nothing);
  ``lift_low`` above ``lift`` or ``lift_high`` below it; only one end of the interval.
  Allowed: a lift whose sign differs from the spend change (a measurement, as given),
  an interval that does not contain 0.

The per-column checks are declared in ``ingest.records`` and run before these: money and
counts within their ranges (spend, impressions and clicks 0 to 10^12; spend_delta and the
lifts -10^12 to 10^12) and event dates that are not in the future (spend's date, a lead's
stage dates, a test's start and end: ``KindSpec.past_only``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ingest.records import EXPERIMENT_DESIGNS, EXPERIMENT_OUTCOMES, ISO_4217, KindSpec
from ingest.series import object_series
from ingest.taxonomy import channel_problem, spend_channel

CHANNEL_GIVEN = "_channel_given"  # the channel as written, kept beside the canonical one
Problems = list[tuple[np.ndarray, str]]


def _mask(mask: Any) -> np.ndarray:
    if isinstance(mask, pd.Series):
        mask = mask.fillna(False)
    return np.asarray(mask, dtype=bool)


def channels(typed: dict[str, Any], col: str = "channel") -> Problems:
    """Canonical taxonomy channels of ``col`` (one reason per refused value)."""
    given = typed[col]
    values = given.tolist()
    canon = {v: spend_channel(v) for v in set(values)}
    problems: Problems = []
    for value, channel in canon.items():
        if channel is None and value:  # an empty cell is the required-column check's
            problems.append((_mask(given == value), channel_problem(value)))
    typed[CHANNEL_GIVEN] = given
    typed[col] = object_series([canon[v] or "" for v in values], given.index)
    return problems


def currency(typed: dict[str, Any]) -> Problems:
    """Upper-case ISO 4217 codes, USD where empty."""
    cur = typed["currency"].str.upper().where(typed["currency"] != "", "USD")
    typed["currency"] = cur
    return [(_mask(~cur.isin(ISO_4217)), "'currency' is not an ISO 4217 code")]


def _before(typed: dict[str, Any], later: str, earlier: str) -> tuple[np.ndarray, str]:
    a, b = typed[later], typed[earlier]
    return _mask(a.notna() & b.notna() & (a < b)), f"'{later}' is before '{earlier}'"


def _choice(typed: dict[str, Any], col: str, allowed: tuple[str, ...], optional: bool) -> Problems:
    low = typed[col].str.lower()
    typed[col] = low
    bad = ~low.isin(allowed)
    if optional:
        bad &= low != ""
    return [(_mask(bad), f"'{col}' must be {', '.join(allowed[:-1])} or {allowed[-1]}")]


def _spend(typed: dict[str, Any]) -> Problems:
    return channels(typed) + currency(typed)


def _leads(typed: dict[str, Any]) -> Problems:
    return [
        _before(typed, "mql_at", "created_at"),
        _before(typed, "sql_at", "created_at"),
        _before(typed, "sql_at", "mql_at"),
    ]


def _experiments(typed: dict[str, Any]) -> Problems:
    problems = channels(typed)
    problems.append(_before(typed, "end", "start"))
    problems += _choice(typed, "outcome", EXPERIMENT_OUTCOMES, optional=False)
    problems += _choice(typed, "design", EXPERIMENT_DESIGNS, optional=True)
    lift, low, high = typed["lift"], typed["lift_low"], typed["lift_high"]
    problems += [
        (_mask(typed["spend_delta"] == 0), "'spend_delta' is 0: a lift test changes spend"),
        (_mask(low.notna() & lift.notna() & (low > lift)), "'lift_low' is above 'lift'"),
        (_mask(high.notna() & lift.notna() & (high < lift)), "'lift_high' is below 'lift'"),
        (_mask(low.isna() != high.isna()), "give both 'lift_low' and 'lift_high', or neither"),
    ]
    return problems


RULES: dict[str, Callable[[dict[str, Any]], Problems]] = {
    "spend": _spend,
    "leads": _leads,
    "experiments": _experiments,
}


def kind_problems(spec: KindSpec, typed: dict[str, Any]) -> Problems:
    """The cross-column checks of ``spec``'s kind (none for the other kinds)."""
    rule = RULES.get(spec.kind)
    return rule(typed) if rule is not None else []
