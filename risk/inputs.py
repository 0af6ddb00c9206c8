"""Read the store as it stood at a date into plain frames (the input of every risk step).

"As it stood" means: accounts whose contract started on or before ``as_of``; churn dates
after ``as_of`` are unknown (the account is active); texts, surveys and aspect tags
created after ``as_of`` (after the end of that day, UTC) are left out. Every later step
works on these frames only, so ``fit --as-of`` cannot see the future.

The default ``as_of`` is the latest event date in the store: the latest of document
dates, survey dates, contract starts and churn dates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, and_, func, select

from ingest.db.schema import accounts, aspect_scores, documents, sentiment_scores, surveys
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


@dataclass(frozen=True)
class RiskInputs:
    """The store as known at ``as_of``: one frame per source, timestamps as pandas Timestamps."""

    as_of: pd.Timestamp
    accounts: pd.DataFrame
    texts: pd.DataFrame
    surveys: pd.DataFrame
    aspects: pd.DataFrame
    sentiment_model_version: str | None = None

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
    it are the panels of ``inputs`` (numpy columns travel without pickling each value)."""
    frames = {}
    for name, columns in PANEL_COLUMNS.items():
        frame = getattr(inputs, name)
        frame = frame[[c for c in columns if c in frame]].copy()
        for column in frame.columns.intersection(REPEATED_STRINGS):
            frame[column] = frame[column].astype("category")
        frames[name] = frame
    return replace(inputs, **frames)


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


def latest_event_date(engine: Engine) -> pd.Timestamp | None:
    """The latest date of any event in the store (the default ``as_of``), or None if empty."""
    queries = [
        select(func.max(documents.c.created_at)),
        select(func.max(surveys.c.submitted_at)),
        select(func.max(accounts.c.contract_start)),
        select(func.max(accounts.c.churned_at)),
    ]
    found: list[pd.Timestamp] = []
    with engine.connect() as conn:
        for q in queries:
            v = conn.execute(q).scalar()
            if v is not None:
                found.append(to_timestamp(v))
    return max(found) if found else None


def choose_sentiment_version(
    engine: Engine, settings: Any = None, requested: str | None = None
) -> str | None:
    """The sentiment model whose scores the risk model reads.

    ``requested`` if given; else the scorer's current version (``nlp.sentiment``) when the
    store holds its scores; else the version with the most rows; None if nothing is scored.
    """
    if requested:
        return requested
    with engine.connect() as conn:
        counts: dict[str, int] = dict(
            conn.execute(
                select(sentiment_scores.c.model_version, func.count()).group_by(
                    sentiment_scores.c.model_version
                )
            ).all()
        )
    if not counts:
        return None
    if settings is not None:
        try:  # the scorer lands later in the nlp layer; fall back gracefully without it
            from nlp.sentiment import current_model_version  # type: ignore[import-not-found]

            current = current_model_version(settings)
            if counts.get(current):
                return str(current)
        except Exception as exc:  # noqa: BLE001 - any failure means "use the most rows"
            log.debug("current sentiment model unknown (%s); using the most-scored one", exc)
    return str(max(sorted(counts), key=lambda v: counts[v]))


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


def _frame(engine: Engine, query: Any, columns: list[str]) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def load_inputs(
    engine: Engine,
    as_of: Any = None,
    *,
    settings: Any = None,
    sentiment_model_version: str | None = None,
) -> RiskInputs:
    """Read accounts, experience texts (with their sentiment), surveys and aspect tags as of a date."""
    if as_of is None:
        as_of = latest_event_date(engine)
        if as_of is None:
            raise NotEnoughDataError("the store is empty: ingest accounts and texts first")
    as_of = to_timestamp(as_of)
    cutoff = (as_of + pd.Timedelta(days=1)).to_pydatetime()
    mv = choose_sentiment_version(engine, settings, sentiment_model_version)

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
    )
    texts["created_at"] = pd.to_datetime(texts["created_at"])
    for col in ("rating", "sentiment", "p_negative"):
        texts[col] = pd.to_numeric(texts[col], errors="coerce")

    srv = _frame(
        engine,
        select(
            surveys.c.account_id, surveys.c.submitted_at, surveys.c.survey_type, surveys.c.score
        ).where(surveys.c.account_id.is_not(None), surveys.c.submitted_at < cutoff),
        SURVEY_COLUMNS,
    )
    srv["submitted_at"] = pd.to_datetime(srv["submitted_at"])
    srv["score"] = srv["score"].astype(float)

    av = _aspect_version(engine)
    if av is None:
        asp = pd.DataFrame(columns=ASPECT_COLUMNS)
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
        )
    asp["created_at"] = pd.to_datetime(asp["created_at"])
    asp["sentiment"] = pd.to_numeric(asp["sentiment"], errors="coerce")
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
        )
    )
