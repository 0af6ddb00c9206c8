"""Read the store as it stood at a date into plain frames (the input of every risk step).

"As it stood" means: accounts whose contract started on or before ``as_of``; churn dates
after ``as_of`` are unknown (the account is active); texts, surveys, aspect tags and
opportunities created after ``as_of`` (after the end of that day, UTC) are left out. Every later step
works on these frames only, so ``fit --as-of`` cannot see the future.

The default ``as_of`` is the latest event date in the store (the latest of document
dates, survey dates, contract starts and churn dates), never later than today (UTC): a
record dated in the future (ingest quarantines them, but an older store may hold some)
cannot move a fit past today; ``RiskInputs.note`` then names the records beyond today.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals
from sqlalchemy import Engine, and_, func, select

from ingest.db.schema import (
    accounts,
    aspect_scores,
    documents,
    opportunities,
    sentiment_scores,
    surveys,
)
from nlp.versions import sentiment_version
from risk.errors import NotEnoughDataError, RiskInputError

log = logging.getLogger(__name__)

# Texts that say how a customer feels about the product; attribution answers do not.
EXPERIENCE_KINDS = ("review", "ticket", "survey")
# Dates the models accept: well inside pandas' nanosecond range (1677-2262), so a history
# of months before and horizons of a year after a date stay representable.
FIRST_DATE, LAST_DATE = pd.Timestamp("1900-01-01"), pd.Timestamp("2199-12-31")

ACCOUNT_COLUMNS = ["account_id", "name", "segment", "arr", "contract_start", "churned_at"]
TEXT_COLUMNS = [
    "account_id",
    "created_at",
    "kind",
    "rating",
    "text_hash",
    "sentiment",
    "p_negative",
]
SURVEY_COLUMNS = ["account_id", "submitted_at", "survey_type", "score"]
ASPECT_COLUMNS = ["account_id", "created_at", "aspect", "sentiment"]
OPPORTUNITY_COLUMNS = ["account_id", "created_at", "amount", "closed_at", "is_won"]


def _no_opportunities() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": pd.Series(dtype=str),
            "created_at": pd.Series(dtype="datetime64[ns]"),
            "amount": pd.Series(dtype=float),
            "closed_at": pd.Series(dtype="datetime64[ns]"),
            "is_won": pd.Series(dtype=bool),
        }
    )


def _opportunities_at(opp: pd.DataFrame, cut: pd.Timestamp) -> pd.DataFrame:
    """Opportunities created before ``cut``, with closings at or after it not yet known."""
    out = opp[opp["created_at"] < cut].copy()
    later = ~(out["closed_at"] < cut)
    out.loc[later, "closed_at"] = pd.NaT
    out.loc[later, "is_won"] = False
    return out


@dataclass(frozen=True)
class RiskInputs:
    """The store as known at ``as_of``: one frame per source, timestamps as pandas Timestamps."""

    as_of: pd.Timestamp
    accounts: pd.DataFrame
    texts: pd.DataFrame
    surveys: pd.DataFrame
    aspects: pd.DataFrame
    sentiment_model_version: str | None = None
    note: str | None = None  # why the default as_of is not the latest event, if it is not
    # the opportunities of stored accounts (initial deals too: ``risk.expansion`` tells
    # expansions apart); prospects' opportunities (unresolved) are left out
    opportunities: pd.DataFrame = field(default_factory=_no_opportunities)

    @property
    def cutoff(self) -> pd.Timestamp:
        """The first instant not known at ``as_of`` (midnight after it)."""
        return self.as_of + pd.Timedelta(days=1)

    def restrict(self, as_of: Any) -> RiskInputs:
        """The same store as it stood at an earlier date (used by the back-test)."""
        as_of = to_timestamp(as_of)
        cut = as_of + pd.Timedelta(days=1)
        acc = self.accounts[self.accounts["contract_start"] <= as_of].copy()
        acc.loc[acc["churned_at"] > as_of, "churned_at"] = pd.NaT
        return replace(
            self,
            as_of=as_of,
            accounts=acc,
            texts=self.texts[self.texts["created_at"] < cut],
            surveys=self.surveys[self.surveys["submitted_at"] < cut],
            aspects=self.aspects[self.aspects["created_at"] < cut],
            opportunities=_opportunities_at(self.opportunities, cut),
        )


# What a panel reads of each frame (``risk.trajectories.build_panel``, ``origins``).
PANEL_COLUMNS = {
    "texts": ["account_id", "created_at", "kind", "rating", "sentiment", "p_negative"],
    "surveys": SURVEY_COLUMNS,
    "aspects": ASPECT_COLUMNS,
}
REPEATED_STRINGS = ["account_id", "kind", "survey_type", "aspect"]


def compact(inputs: RiskInputs) -> RiskInputs:
    """The same store, as cheap to ship to other processes as it gets: only the columns a
    panel reads, repeated strings (account ids, kinds) as categoricals. Panels built from
    it are the panels of ``inputs`` (numpy columns travel without pickling each value).
    Inputs that are compact already (``load_inputs`` reads them so) come back as they are,
    not copied: each of a fit's task maps asks for them."""
    if all(_is_compact(getattr(inputs, name), cols) for name, cols in PANEL_COLUMNS.items()):
        return inputs
    frames = {}
    for name, columns in PANEL_COLUMNS.items():
        frame = getattr(inputs, name)
        frame = frame[[c for c in columns if c in frame]].copy()
        for column in frame.columns.intersection(REPEATED_STRINGS):
            frame[column] = frame[column].astype("category")
        frames[name] = frame
    return replace(inputs, **frames)


def _is_compact(frame: pd.DataFrame, columns: list[str]) -> bool:
    return list(frame.columns) == [c for c in columns if c in frame] and all(
        isinstance(frame[c].dtype, pd.CategoricalDtype)
        for c in frame.columns.intersection(REPEATED_STRINGS)
    )


def to_timestamp(value: Any) -> pd.Timestamp:
    """A date-like value as a midnight Timestamp; a clear error for anything else."""
    if isinstance(value, pd.Timestamp | datetime | date | str):
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError) as exc:
            raise RiskInputError(f"expected a date like 2025-03-31, got {value!r}") from exc
        if pd.isna(ts):
            raise RiskInputError(f"expected a date like 2025-03-31, got {value!r}")
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        if not FIRST_DATE <= ts <= LAST_DATE:
            raise RiskInputError(
                f"expected a date between {FIRST_DATE.date()} and {LAST_DATE.date()}, got {value!r}"
            )
        return ts.normalize()
    raise RiskInputError(f"expected a date like 2025-03-31, got {value!r}")


def _event_queries() -> list[tuple[str, Any, Any]]:
    """(what, date column, the columns that name the record) of every dated event."""
    return [
        ("document", documents.c.created_at, (documents.c.kind, documents.c.source_id,
                                              documents.c.source_file, documents.c.source_line)),
        ("survey", surveys.c.submitted_at, (surveys.c.response_id, surveys.c.source_file,
                                            surveys.c.source_line)),
        ("contract start", accounts.c.contract_start, (accounts.c.account_id,
                                                       accounts.c.source_file,
                                                       accounts.c.source_line)),
        ("churn", accounts.c.churned_at, (accounts.c.account_id, accounts.c.source_file,
                                          accounts.c.source_line)),
    ]  # fmt: skip


def today() -> pd.Timestamp:
    return pd.Timestamp(datetime.now(UTC).date())


def latest_event_date(engine: Engine, until: pd.Timestamp | None = None) -> pd.Timestamp | None:
    """The latest date of any event in the store (the default ``as_of``), never later than
    ``until`` (default today, UTC); None if the store is empty."""
    until = today() if until is None else until
    found: list[pd.Timestamp] = []
    with engine.connect() as conn:
        for _, col, _ in _event_queries():
            v = conn.execute(select(func.max(col))).scalar()
            if v is not None:
                found.append(pd.Timestamp(v).normalize())
    return min(max(found), until) if found else None


def events_after(engine: Engine, when: pd.Timestamp, limit: int = 3) -> list[str]:
    """Up to ``limit`` records of each kind dated after ``when`` (the end of that day),
    each named with its id, date, file and line: for messages."""
    cutoff = (when + pd.Timedelta(days=1)).to_pydatetime()
    out = []
    with engine.connect() as conn:
        for what, col, names in _event_queries():
            bound = cutoff.date() if what in ("contract start", "churn") else cutoff
            stmt = select(col, *names).where(col >= bound).order_by(col.desc()).limit(limit)
            for row in conn.execute(stmt):
                *ids, file, line = row[1:]
                label = " ".join(str(i) for i in ids)
                out.append(f"{what} {label} dated {row[0]} ({file} line {line})")
    return out


def _aspect_version(engine: Engine) -> str | None:
    with engine.connect() as conn:
        rows = conn.execute(
            select(aspect_scores.c.model_version, func.count()).group_by(
                aspect_scores.c.model_version
            )
        ).all()
    if not rows:
        return None
    return str(max(sorted(rows), key=lambda r: r[1])[0])


READ_CHUNK = 100_000  # rows of a query's result turned into a frame at a time
Column = Literal["category", "datetime", "number", "sort_key"]
# how the long frames' columns are typed as they are read (``_typed``)
TEXT_TYPES: dict[str, Column] = {
    "account_id": "category", "created_at": "datetime", "kind": "category", "rating": "number",
    "text_hash": "sort_key", "sentiment": "number", "p_negative": "number",
}  # fmt: skip
SURVEY_TYPES: dict[str, Column] = {
    "account_id": "category", "submitted_at": "datetime", "survey_type": "category",
    "score": "number",
}  # fmt: skip
ASPECT_TYPES: dict[str, Column] = {
    "account_id": "category", "created_at": "datetime", "aspect": "category", "sentiment": "number",
}  # fmt: skip


def _frame(
    engine: Engine, query: Any, columns: list[str], types: dict[str, Column] | None = None
) -> pd.DataFrame:
    """The query's rows as a frame, ``READ_CHUNK`` rows at a time, each chunk's columns
    typed as they arrive (``types``, see ``_typed``). Read whole, 3.1M text rows were
    Python objects (rows, datetimes, strings, floats: 2 GB at 100k accounts), and the
    fragments they left, 1.6 GB, stayed in the process for the whole fit; chunk by chunk
    the objects of one chunk at a time exist, and the next chunk reuses their memory."""
    types = types or {}
    parts = []
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=READ_CHUNK).execute(query)
        for rows in result.partitions():
            parts.append(_typed(pd.DataFrame([tuple(r) for r in rows], columns=columns), types))
    if len(parts) <= 1:
        return parts[0] if parts else _typed(pd.DataFrame(columns=columns), types)
    return pd.DataFrame(
        {
            c: union_categoricals([p[c] for p in parts], sort_categories=True)
            if types.get(c) == "category"
            else pd.concat([p[c] for p in parts], ignore_index=True)
            for c in columns
        }
    )


def _typed(frame: pd.DataFrame, types: dict[str, Column]) -> pd.DataFrame:
    """``category``: repeated strings (categories sorted, so their order is the strings'
    order); ``datetime``; ``number`` (float, anything else NaN); ``sort_key``: a hex
    digest as the unsigned integer of its first 16 digits (it only orders rows: the
    order of the digests but for a tie in 64 bits)."""
    for c, kind in types.items():
        if kind == "category":
            frame[c] = frame[c].astype("category")  # categories sorted, as pandas does
        elif kind == "datetime":
            frame[c] = pd.to_datetime(frame[c])
        elif kind == "number":
            frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
        else:
            frame[c] = np.fromiter(
                (int(str(h)[:16], 16) for h in frame[c]), dtype=np.uint64, count=len(frame)
            )
    return frame


def load_inputs(
    engine: Engine,
    as_of: Any = None,
    *,
    settings: Any = None,
    sentiment_model_version: str | None = None,
) -> RiskInputs:
    """Read accounts, experience texts (with their sentiment), surveys, aspect tags and
    the opportunities of stored accounts as of a date."""
    note = None
    if as_of is None:
        as_of = latest_event_date(engine)
        if as_of is None:
            raise NotEnoughDataError("the store is empty: ingest accounts and texts first")
        beyond = events_after(engine, as_of)
        if beyond:
            note = f"as_of is today ({as_of.date()}); the store holds later records: " + (
                "; ".join(beyond)
            )
            log.warning(note)
    as_of = to_timestamp(as_of)
    cutoff = (as_of + pd.Timedelta(days=1)).to_pydatetime()
    mv = sentiment_version(engine, settings, sentiment_model_version)

    acc = _frame(
        engine,
        select(
            accounts.c.account_id,
            accounts.c.name,
            accounts.c.segment,
            accounts.c.arr,
            accounts.c.contract_start,
            accounts.c.churned_at,
        ).where(accounts.c.contract_start <= as_of.date()),
        ACCOUNT_COLUMNS,
    )
    acc["contract_start"] = pd.to_datetime(acc["contract_start"])
    acc["churned_at"] = pd.to_datetime(acc["churned_at"])
    acc.loc[acc["churned_at"] > as_of, "churned_at"] = pd.NaT
    acc["segment"] = acc["segment"].fillna("unknown").astype(str)
    acc["arr"] = acc["arr"].astype(float)

    join = documents.outerjoin(
        sentiment_scores,
        and_(
            sentiment_scores.c.text_hash == documents.c.text_hash,
            sentiment_scores.c.model_version == (mv or ""),
        ),
    )
    texts = _frame(
        engine,
        select(
            documents.c.account_id,
            documents.c.created_at,
            documents.c.kind,
            documents.c.rating,
            documents.c.text_hash,
            sentiment_scores.c.sentiment,
            sentiment_scores.c.p_negative,
        )
        .select_from(join)
        .where(
            documents.c.account_id.is_not(None),
            documents.c.kind.in_(EXPERIENCE_KINDS),
            documents.c.created_at < cutoff,
        ),
        TEXT_COLUMNS,
        TEXT_TYPES,
    )

    srv = _frame(
        engine,
        select(
            surveys.c.account_id, surveys.c.submitted_at, surveys.c.survey_type, surveys.c.score
        ).where(surveys.c.account_id.is_not(None), surveys.c.submitted_at < cutoff),
        SURVEY_COLUMNS,
        SURVEY_TYPES,
    )

    av = _aspect_version(engine)
    if av is None:
        asp = _typed(pd.DataFrame(columns=ASPECT_COLUMNS), ASPECT_TYPES)
    else:
        asp = _frame(
            engine,
            select(
                documents.c.account_id,
                documents.c.created_at,
                aspect_scores.c.aspect,
                aspect_scores.c.sentiment,
            )
            .select_from(
                documents.join(aspect_scores, aspect_scores.c.text_hash == documents.c.text_hash)
            )
            .where(
                aspect_scores.c.model_version == av,
                documents.c.account_id.is_not(None),
                documents.c.kind.in_(EXPERIENCE_KINDS),
                documents.c.created_at < cutoff,
            ),
            ASPECT_COLUMNS,
            ASPECT_TYPES,
        )

    opp = _frame(
        engine,
        select(
            opportunities.c.account_id,
            opportunities.c.created_at,
            opportunities.c.amount,
            opportunities.c.closed_at,
            opportunities.c.is_won,
        )
        # inner join: prospects' opportunities (an account_id no stored account has yet,
        # resolved_by null) are the marketing side's pipeline, never an account's expansion
        .select_from(
            opportunities.join(accounts, accounts.c.account_id == opportunities.c.account_id)
        )
        .where(opportunities.c.created_at < cutoff, accounts.c.contract_start <= as_of.date())
        .order_by(opportunities.c.account_id, opportunities.c.created_at, opportunities.c.id),
        OPPORTUNITY_COLUMNS,
    )
    opp["created_at"] = pd.to_datetime(opp["created_at"])
    opp["closed_at"] = pd.to_datetime(opp["closed_at"])
    opp["amount"] = pd.to_numeric(opp["amount"], errors="coerce")
    opp["is_won"] = opp["is_won"].eq(True)
    opp = _opportunities_at(opp, pd.Timestamp(cutoff))
    # a fixed row order: the same store gives the same floating-point sums on every back end
    # (then kept compact: ids and kinds as categoricals, a third of the memory at 100k accounts)
    return compact(
        RiskInputs(
            as_of=as_of,
            accounts=acc.sort_values("account_id", kind="stable").reset_index(drop=True),
            texts=texts.sort_values(
                ["account_id", "created_at", "kind", "text_hash"], kind="stable"
            ).reset_index(drop=True),
            surveys=srv.sort_values(
                ["account_id", "submitted_at", "survey_type", "score"], kind="stable"
            ).reset_index(drop=True),
            aspects=asp.sort_values(
                ["account_id", "created_at", "aspect"], kind="stable"
            ).reset_index(drop=True),
            sentiment_model_version=mv,
            note=note,
            opportunities=opp.astype({"account_id": str}),
        )
    )
