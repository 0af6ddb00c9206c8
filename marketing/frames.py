"""The marketing records of the store as plain frames (DataFrame out; the input of the
funnel, the weekly series and the answer links).

Opportunities of prospects (``resolved_by`` null: an account_id no stored account has)
are read like any other and carry no account attributes; leads carry their resolved
account's attributes, or none. Timestamps are pandas Timestamps (naive UTC), missing
values NaT / None, amounts floats.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Engine, Select, String, select, type_coerce

from ingest.db.schema import accounts, documents, leads, opportunities, spend

OPPORTUNITY_COLUMNS = [
    "id", "source", "opportunity_id", "account_id", "resolved", "created_at", "closed_at",
    "amount", "is_won", "stage", "tracked_source", "source_file", "source_line",
    "ingest_run_id", "account_segment", "account_tracked_source", "account_found",
]  # fmt: skip
LEAD_COLUMNS = [
    "id", "source", "lead_id", "account_id", "email_hash", "created_at",
    "mql_at", "sql_at", "opportunity_id", "tracked_source", "segment", "source_file",
    "source_line", "ingest_run_id", "account_segment", "account_tracked_source",
]  # fmt: skip
ANSWER_COLUMNS = [
    "document_id", "response_id", "submitted_at", "account_id", "account_key", "email_hash",
    "source_file", "source_line",
]  # fmt: skip
SPEND_COLUMNS = [
    "date", "channel", "spend", "currency", "campaign", "segment", "impressions", "clicks",
    "source_file", "source_line", "ingest_run_id",
]  # fmt: skip
_TIMES = {"created_at", "closed_at", "mql_at", "sql_at", "submitted_at"}


def _frame(engine: Engine, query: Select[Any], columns: list[str]) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=columns)
    for col in _TIMES & set(columns):
        frame[col] = pd.to_datetime(frame[col], format="ISO8601")
    return frame


def _raw(column: Any) -> Any:
    """A timestamp column read as the driver gives it (SQLite: text, parsed by pandas in
    one pass instead of by SQLAlchemy row by row; PostgreSQL: datetimes)."""
    return type_coerce(column, String).label(column.name)


def _given_id(ref: Any) -> str | None:
    """The account id a record was given (its ``account_ref``), if any."""
    if isinstance(ref, dict) and ref.get("account_id"):
        return str(ref["account_id"])
    return None


def opportunities_frame(engine: Engine) -> pd.DataFrame:
    """Every stored opportunity (``OPPORTUNITY_COLUMNS`` but ``account_found``); ``resolved``
    is False for a prospect's, whose account columns are None."""
    o, a = opportunities.c, accounts.c
    q = (
        select(
            o.id, o.source, o.opportunity_id, o.account_id, o.resolved_by, _raw(o.created_at),
            _raw(o.closed_at), o.amount, o.is_won, o.stage, o.tracked_source, o.source_file,
            o.source_line, o.ingest_run_id, a.segment, a.tracked_source, a.account_id,
        )
        .select_from(opportunities.outerjoin(accounts, o.account_id == a.account_id))
        .order_by(o.id)
    )  # fmt: skip
    frame = _frame(engine, q, OPPORTUNITY_COLUMNS)
    # resolved: marked so at ingest (or after), or its account is stored by now
    frame["resolved"] = frame["resolved"].notna() | frame.pop("account_found").notna()
    frame["amount"] = frame["amount"].astype(float)
    frame["is_won"] = frame["is_won"].astype(object).where(frame["is_won"].notna(), None)
    return frame


def leads_frame(engine: Engine) -> pd.DataFrame:
    """Every stored lead (``LEAD_COLUMNS``); ``account_id`` is its resolved account's (None
    for a prospect's lead), with that account's segment and tracked source."""
    ld, a = leads.c, accounts.c
    q = (
        select(
            ld.id, ld.source, ld.lead_id, ld.account_id, ld.email_hash, _raw(ld.created_at),
            _raw(ld.mql_at), _raw(ld.sql_at), ld.opportunity_id, ld.tracked_source,
            ld.segment, ld.source_file, ld.source_line, ld.ingest_run_id, a.segment,
            a.tracked_source,
        )
        .select_from(leads.outerjoin(accounts, ld.account_id == a.account_id))
        .order_by(ld.id)
    )  # fmt: skip
    return _frame(engine, q, LEAD_COLUMNS)


def answers_frame(engine: Engine) -> pd.DataFrame:
    """Every stored attribution answer (``ANSWER_COLUMNS``); ``account_key`` is the resolved
    account's id, else the account id the answer gave (a prospect's), else None."""
    d = documents.c
    q = (
        select(
            d.id, d.source_id, _raw(d.created_at), d.account_id, d.account_ref, d.email_hash,
            d.source_file, d.source_line,
        )
        .where(d.kind == "attribution")
        .order_by(d.id)
    )  # fmt: skip
    frame = _frame(engine, q, ANSWER_COLUMNS)
    given = frame["account_key"].map(_given_id)
    frame["account_key"] = frame["account_id"].where(frame["account_id"].notna(), given)
    return frame


def spend_frame(engine: Engine) -> pd.DataFrame:
    """Every stored spend row (``SPEND_COLUMNS``), ``date`` as a Timestamp."""
    s = spend.c
    q = select(
        s.date, s.channel, s.spend, s.currency, s.campaign, s.segment, s.impressions, s.clicks,
        s.source_file, s.source_line, s.ingest_run_id,
    ).order_by(s.date, s.id)  # fmt: skip
    frame = _frame(engine, q, SPEND_COLUMNS)
    frame["date"] = pd.to_datetime(frame["date"])
    return frame
