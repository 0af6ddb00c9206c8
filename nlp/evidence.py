"""The texts behind an account's figures, each with its provenance.

Every evidence item is a stored document (review, ticket, survey comment or attribution
answer) with what a reader needs to check it at the source: ``document_id``, ``kind``,
``source``, ``created_at``, ``text`` (PII-masked, as stored), its ``sentiment`` under a
given model version, and the ``source_file`` / ``source_line`` it was ingested from.

Reads ``documents`` and ``sentiment_scores`` only; writes nothing. (The answers behind a
channel figure come from ``marketing.dark_funnel.channel_evidence``, consistent with its measure.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any, Literal

from sqlalchemy import Engine, func, select

from ingest.db.schema import documents, sentiment_scores

EvidenceOrder = Literal["negative", "positive", "recent"]
# A text whose sentiment lies within this distance of neutral moved nothing: it is not
# evidence of a falling (or rising) tone (a how-to ticket scores about 0).
EVIDENCE_MIN_SENTIMENT = 0.3
# Texts that carry account sentiment: every kind but attribution answers. Written as a
# NOT IN on purpose: SQLite would otherwise walk the (kind, content_hash) unique index
# over the whole table instead of the account_id index.
NON_SENTIMENT_KINDS = ("attribution",)


def _as_datetime(d: date | datetime | None, end_of_day: bool = False) -> datetime | None:
    if d is None or isinstance(d, datetime):
        return d
    return datetime.combine(d, time.max if end_of_day else time.min)


def _item(row: Any, max_chars: int | None) -> dict[str, Any]:
    text = row.text
    cut = max_chars is not None and len(text) > max_chars
    return {
        "document_id": row.id,
        "account_id": row.account_id,
        "kind": row.kind,
        "source": row.source,
        "source_id": row.source_id,
        "created_at": row.created_at,
        "title": row.title,
        "text": text[:max_chars] + "..." if cut else text,
        "text_cut": cut,
        "rating": row.rating,
        "sentiment": row.sentiment,
        "source_file": row.source_file,
        "source_line": row.source_line,
    }


def _document_columns() -> list[Any]:
    d = documents.c
    cols = ("id", "account_id", "kind", "source", "source_id", "created_at", "title", "text")
    return [d[c] for c in cols] + [d.rating, d.source_file, d.source_line]


def _base(model_version: str | None, *, scored_only: bool) -> Any:
    d = documents.c
    on = (sentiment_scores.c.text_hash == d.text_hash) & (
        sentiment_scores.c.model_version == (model_version or "")
    )
    joined = (
        documents.join(sentiment_scores, on)
        if scored_only
        else documents.outerjoin(sentiment_scores, on)
    )
    return select(*_document_columns(), sentiment_scores.c.sentiment).select_from(joined)


def evidence_for_accounts(
    engine: Engine,
    account_ids: Sequence[str],
    *,
    model_version: str | None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    order: EvidenceOrder = "negative",
    per_account: int = 3,
    max_chars: int | None = 600,
    min_sentiment: float = EVIDENCE_MIN_SENTIMENT,
) -> dict[str, list[dict[str, Any]]]:
    """Up to ``per_account`` texts per account in ``[since, until]``, in one query.

    ``negative`` / ``positive``: the scored texts with the lowest / highest sentiment
    (the ones that explain a falling / rising trend), and only those at least
    ``min_sentiment`` below / above neutral: a neutral text is no evidence, so an
    account may get fewer texts or none; ``recent``: the newest texts, scored or not.
    """
    if not account_ids:
        return {}
    d = documents.c
    s = sentiment_scores.c.sentiment
    rank_by = {
        "negative": (s.asc(), d.created_at.desc(), d.id.desc()),
        "positive": (s.desc(), d.created_at.desc(), d.id.desc()),
        "recent": (d.created_at.desc(), d.id.desc()),
    }[order]
    inner = _base(model_version, scored_only=order != "recent").add_columns(
        func.row_number().over(partition_by=d.account_id, order_by=rank_by).label("rank")
    )
    inner = inner.where(d.account_id.in_(list(account_ids)), d.kind.not_in(NON_SENTIMENT_KINDS))
    if order == "negative":
        inner = inner.where(s <= -min_sentiment)
    elif order == "positive":
        inner = inner.where(s >= min_sentiment)
    if since is not None:
        inner = inner.where(d.created_at >= _as_datetime(since))
    if until is not None:
        inner = inner.where(d.created_at <= _as_datetime(until, end_of_day=True))
    ranked = inner.subquery()
    stmt = (
        select(ranked)
        .where(ranked.c["rank"] <= per_account)
        .order_by(ranked.c.account_id, ranked.c["rank"])
    )
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with engine.connect() as conn:
        for row in conn.execute(stmt):
            out[row.account_id].append(_item(row, max_chars))
    return dict(out)


def account_texts(
    engine: Engine,
    account_id: str,
    *,
    model_version: str | None,
    until: date | datetime | None = None,
    limit: int = 20,
    offset: int = 0,
    max_chars: int | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """(total, newest-first page) of the account's sentiment-bearing texts up to ``until``:
    the inputs of its monthly trajectory."""
    d = documents.c
    where = [d.account_id == account_id, d.kind.not_in(NON_SENTIMENT_KINDS)]
    if until is not None:
        where.append(d.created_at <= _as_datetime(until, end_of_day=True))
    stmt = (
        _base(model_version, scored_only=False)
        .where(*where)
        .order_by(d.created_at.desc(), d.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(documents).where(*where)).scalar()
        rows = [_item(r, max_chars) for r in conn.execute(stmt)]
    return int(total or 0), rows


def monthly_sentiment(
    engine: Engine,
    account_id: str,
    *,
    model_version: str | None,
    until: date | datetime | None = None,
) -> list[dict[str, Any]]:
    """Mean text sentiment per calendar month (equal weight per text), oldest first.

    The account view's trajectory when no risk snapshot exists yet.
    """
    d = documents.c
    stmt = _base(model_version, scored_only=True).where(
        d.account_id == account_id, d.kind.not_in(NON_SENTIMENT_KINDS)
    )
    if until is not None:
        stmt = stmt.where(d.created_at <= _as_datetime(until, end_of_day=True))
    months: dict[date, list[float]] = defaultdict(list)
    with engine.connect() as conn:
        for row in conn.execute(stmt):
            months[row.created_at.date().replace(day=1)].append(row.sentiment)
    return [
        {"month": m, "sentiment": sum(v) / len(v), "n_texts": len(v)}
        for m, v in sorted(months.items())
    ]


def ingest_run_texts(
    engine: Engine, ingest_run_id: int, *, model_version: str | None
) -> dict[str, int]:
    """How many texts an ingest run stored and how many of them are scored.

    With ``model_version`` None, a text counts as scored under any model version.
    """
    d = documents.c
    s = sentiment_scores.c
    scored_by = select(s.text_hash).where(s.text_hash == d.text_hash)
    if model_version is not None:
        scored_by = scored_by.where(s.model_version == model_version)
    run_docs = d.ingest_run_id == ingest_run_id
    with engine.connect() as conn:
        texts = conn.execute(select(func.count()).select_from(documents).where(run_docs)).scalar()
        scored = conn.execute(
            select(func.count()).select_from(documents).where(run_docs, scored_by.exists())
        ).scalar()
    texts, scored = int(texts or 0), int(scored or 0)
    return {"texts": texts, "scored": scored, "pending": texts - scored}
