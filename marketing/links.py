"""Buyers' answers linked to the opportunities they speak for.

``answers_by_opportunity(engine, date_from=None, date_to=None)`` returns one row per
(answer, opportunity) link, answers submitted in the period (whole days, both included;
None = open), every stored opportunity eligible whatever its date (filter on
``created_at`` for a period's pipeline). Two ways link them:

- ``account``: the answer's account key (its resolved account, else the account id it
  was given: a prospect's) is the opportunity's ``account_id``;
- ``email``: the answer's respondent e-mail (``documents.email_hash``) is a lead's, and
  that lead's ``opportunity_id`` names the opportunity (any source).

A pair linked both ways is listed once, as ``account``. An answer linked to nothing is
listed once with empty opportunity columns (``link`` None), so the frame also says how
many answers reach no opportunity. ``tracked_channel`` is the opportunity's sourced
channel (its own tracked source, else its lead's, else its account's, mapped onto the
taxonomy): the stratifier of the self-reported shares.

Columns: ``ANSWER_LINK_COLUMNS``.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Engine

from ingest.taxonomy import map_tracked_source
from marketing.frames import answers_frame, leads_frame, opportunities_frame
from marketing.grouping import sourced_sources
from marketing.periods import bounds, check_period

ANSWER_LINK_COLUMNS = [
    "document_id", "response_id", "submitted_at", "answer_account_id", "party", "link",
    "opportunity_row", "opportunity_id", "opportunity_account_id", "opportunity_resolved",
    "created_at", "closed_at", "amount", "is_won", "stage", "tracked_source",
    "tracked_channel", "days_answer_to_opportunity",
]  # fmt: skip


def party_of(answers: pd.DataFrame) -> pd.Series:
    """Who an answer speaks for: its account key, else ``email:<hash>``, else its own
    ``answer:<document id>`` (nobody else can be linked to it)."""
    by_email = "email:" + answers["email_hash"].astype(str)
    own = "answer:" + answers["document_id"].astype(str)
    party = answers["account_key"].where(answers["account_key"].notna(), None)
    party = party.fillna(by_email.where(answers["email_hash"].notna(), None))
    return party.fillna(own)


def link_frame(answers: pd.DataFrame, opps: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
    """The links of ``answers`` to ``opps`` (module docstring); frames as ``marketing.frames``
    reads them. DataFrame in, DataFrame out."""
    opps = opps.assign(tracked_source=sourced_sources(opps, leads))
    opps = opps.assign(tracked_channel=opps["tracked_source"].map(map_tracked_source))
    keep = [
        "id", "opportunity_id", "account_id", "resolved", "created_at", "closed_at", "amount",
        "is_won", "stage", "tracked_source", "tracked_channel",
    ]  # fmt: skip
    o = opps[keep].rename(
        columns={
            "id": "opportunity_row",
            "account_id": "opportunity_account_id",
            "resolved": "opportunity_resolved",
        }
    )
    a = answers.assign(party=party_of(answers)).rename(columns={"account_id": "answer_account_id"})
    base = ["document_id", "response_id", "submitted_at", "answer_account_id", "party"]
    by_account = a[a["account_key"].notna()].merge(
        o, left_on="account_key", right_on="opportunity_account_id"
    )[base + list(o.columns)]
    by_account["link"] = "account"
    people = leads[leads["email_hash"].notna() & leads["opportunity_id"].notna()]
    people = people[["email_hash", "opportunity_id"]].drop_duplicates()
    by_email = (
        a[a["email_hash"].notna()]
        .merge(people, on="email_hash")
        .merge(o, on="opportunity_id")[base + list(o.columns)]
    )
    by_email["link"] = "email"
    links = pd.concat([by_account, by_email], ignore_index=True)
    links = links.drop_duplicates(["document_id", "opportunity_row"], keep="first")
    alone = a[~a["document_id"].isin(links["document_id"])][base]
    parts = [p for p in (links, alone.assign(link=None)) if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    out = out.reindex(columns=ANSWER_LINK_COLUMNS)
    for col in ("submitted_at", "created_at", "closed_at"):
        out[col] = pd.to_datetime(out[col])
    delta = out["created_at"] - out["submitted_at"]
    out["days_answer_to_opportunity"] = delta.dt.total_seconds() / 86_400
    for col in (
        "answer_account_id",
        "link",
        "opportunity_id",
        "opportunity_account_id",
        "opportunity_resolved",
        "is_won",
        "stage",
        "tracked_source",
        "tracked_channel",
    ):
        out[col] = out[col].astype(object).where(out[col].notna(), None)  # None, not NaN
    out = out.sort_values(["document_id", "created_at"], kind="stable", na_position="last")
    return out.reindex(columns=ANSWER_LINK_COLUMNS).reset_index(drop=True)


def answers_by_opportunity(
    engine: Engine, date_from: date | None = None, date_to: date | None = None
) -> pd.DataFrame:
    """The period's answers linked to the store's opportunities (module docstring)."""
    check_period(date_from, date_to)
    answers = answers_frame(engine)
    lo, hi = bounds(date_from, date_to)
    if lo is not None:
        answers = answers[answers["submitted_at"] >= lo]
    if hi is not None:
        answers = answers[answers["submitted_at"] < hi]
    return link_frame(answers, opportunities_frame(engine), leads_frame(engine))
