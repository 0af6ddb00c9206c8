"""Which funnel group a lead or an opportunity falls in (``by=channel`` or ``segment``).

The rules are the definitions file's ``grouping`` (``marketing/definitions/kpi.yaml``):

- channel: the sourced channel, the tracked source mapped onto the taxonomy. A lead's
  own tracked source, else its resolved account's; an opportunity's own, else that of
  the lead that became it, else its resolved account's; none of them: ``other``.
- segment: a lead's own segment, else its resolved account's; an opportunity's resolved
  account's, else that of the lead that became it; none of them: ``unknown``.

Every record gets exactly one group, so group counts add up to the total.
"""

from __future__ import annotations

import pandas as pd

from ingest.taxonomy import map_tracked_source

GROUPINGS: tuple[str, ...] = ("channel", "segment")
UNKNOWN_SEGMENT = "unknown"


def _filled(values: pd.Series) -> pd.Series:
    """``values`` with empty strings as missing (ingest stores stripped values)."""
    return values.where(values.notna() & (values != ""))


def _channels(sources: pd.Series) -> pd.Series:
    """Tracked sources mapped onto the taxonomy, each distinct value once."""
    channel_of = {v: map_tracked_source(v) for v in sources.dropna().unique()}
    return sources.map(channel_of).fillna("other")


def _first_lead(leads: pd.DataFrame, column: pd.Series) -> pd.Series:
    """Per opportunity_id, ``column``'s value of the first lead that became it."""
    linked = leads.assign(value=column)
    linked = linked[linked["opportunity_id"].notna() & linked["value"].notna()]
    return linked.drop_duplicates("opportunity_id").set_index("opportunity_id")["value"]


def lead_sources(leads: pd.DataFrame) -> pd.Series:
    return _filled(leads["tracked_source"]).fillna(_filled(leads["account_tracked_source"]))


def lead_segments(leads: pd.DataFrame) -> pd.Series:
    return (
        _filled(leads["segment"]).fillna(_filled(leads["account_segment"])).fillna(UNKNOWN_SEGMENT)
    )


def sourced_sources(opps: pd.DataFrame, leads: pd.DataFrame) -> pd.Series:
    """Each opportunity's tracked source: its own, else that of the first lead that
    became it, else its account's (None when none is known); index of ``opps``."""
    from_lead = opps["opportunity_id"].map(_first_lead(leads, _filled(leads["tracked_source"])))
    return (
        _filled(opps["tracked_source"])
        .fillna(from_lead)
        .fillna(_filled(opps["account_tracked_source"]))
    )


def opportunity_segments(opps: pd.DataFrame, leads: pd.DataFrame) -> pd.Series:
    from_lead = opps["opportunity_id"].map(_first_lead(leads, lead_segments(leads)))
    return _filled(opps["account_segment"]).fillna(from_lead).fillna(UNKNOWN_SEGMENT)


def lead_groups(leads: pd.DataFrame, by: str) -> pd.Series:
    if by == "channel":
        return _channels(lead_sources(leads))
    return lead_segments(leads).astype(str)


def opportunity_groups(opps: pd.DataFrame, leads: pd.DataFrame, by: str) -> pd.Series:
    if by == "channel":
        return _channels(sourced_sources(opps, leads))
    return opportunity_segments(opps, leads).astype(str)
