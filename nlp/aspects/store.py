"""Aspects over the store: fill ``aspect_scores``, roll them up per account and month.

``tag_store`` tags every customer text (reviews, tickets, survey comments; attribution
answers are about channels, not the product) that the current aspects model has not
tagged, in pages of distinct text hashes (keyset pagination: flat memory, a crash loses
at most the page in flight, a rerun resumes). The key is (text_hash, model_version,
aspect). A text about none of the aspects gets one row with aspect ``none`` so that a
rerun does not tag it again; read-side queries skip those rows. Pages are
``PAGE_SIZE`` texts: the encoder and the sentiment scorer see large batches, and a
sentence seen on an earlier page is neither encoded nor scored again.

Per-aspect sentiment comes from the sentences that mention the aspect (scored by the
sentiment engineer's scorer, ``nlp.sentiment.load_scorer``), else the whole text's
sentiment from ``sentiment_scores``. Texts tagged before they were scored get their
missing sentiments filled on the next run (``sentiment_filled``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime
from datetime import time as dtime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, insert, select, update

from ingest.db.schema import aspect_scores, documents, sentiment_scores
from ingest.settings import Settings
from nlp.aspects.attribution import ScoreTexts, aspect_sentiments
from nlp.aspects.tagger import MODEL_VERSION, AspectTagger, default_tagger
from nlp.pending_texts import count_pending, pending_pages
from nlp.versions import register_model, sentiment_version

log = logging.getLogger(__name__)

PAGE_SIZE = 1024
ASPECT_KINDS = ("review", "ticket", "survey")
NO_ASPECT = "none"  # the sentinel row of a text about none of the aspects
NEGATIVE_BELOW = -0.25  # an aspect mention with sentiment below this counts as negative


def _count(engine: Engine, version: str) -> tuple[int, int]:
    return count_pending(engine, aspect_scores, version, ASPECT_KINDS)


def _text_sentiments(engine: Engine, hashes: list[str], version: str | None) -> dict[str, float]:
    if version is None or not hashes:
        return {}
    q = select(sentiment_scores.c.text_hash, sentiment_scores.c.sentiment).where(
        sentiment_scores.c.model_version == version, sentiment_scores.c.text_hash.in_(hashes)
    )
    with engine.connect() as conn:
        return {h: float(s) for h, s in conn.execute(q)}


def _default_sentence_scorer(settings: Settings) -> ScoreTexts | None:
    """The sentiment scorer's ``score_texts`` if a sentiment model can be loaded."""
    try:
        from nlp.sentiment import load_scorer

        return load_scorer(settings).score_texts  # type: ignore[no-any-return]
    except Exception as exc:  # aspects still work: whole-text sentiment only
        log.warning("sentence sentiment unavailable (%s); using whole-text sentiment", exc)
        return None


def _register(engine: Engine, tagger: AspectTagger) -> None:
    card = dict(tagger.head.card) if tagger.head is not None else {}
    register_model(engine, MODEL_VERSION, card, task="aspects")


def fill_missing_sentiment(engine: Engine, version: str | None) -> int:
    """Give aspect rows without sentiment their text's whole sentiment, now that the
    text has been scored. Returns the number of rows filled."""
    if version is None:
        return 0
    q = (
        select(aspect_scores.c.text_hash, aspect_scores.c.aspect, sentiment_scores.c.sentiment)
        .join(sentiment_scores, sentiment_scores.c.text_hash == aspect_scores.c.text_hash)
        .where(
            aspect_scores.c.model_version == MODEL_VERSION,
            aspect_scores.c.sentiment.is_(None),
            aspect_scores.c.aspect != NO_ASPECT,
            sentiment_scores.c.model_version == version,
        )
    )
    filled = 0
    with engine.begin() as conn:
        for text_hash, aspect, sentiment in conn.execute(q).all():
            conn.execute(
                update(aspect_scores)
                .where(
                    aspect_scores.c.text_hash == text_hash,
                    aspect_scores.c.model_version == MODEL_VERSION,
                    aspect_scores.c.aspect == aspect,
                )
                .values(sentiment=round(float(sentiment), 4))
            )
            filled += 1
    return filled


def tag_store(
    engine: Engine,
    settings: Settings,
    on_progress: Callable[[int], None] | None = None,
    *,
    tagger: AspectTagger | None = None,
    score_sentences: ScoreTexts | None = None,
    sentence_sentiment: bool = True,
    on_total: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Fill ``aspect_scores`` for every customer text not yet tagged by this version.

    Returns ``tagged`` (texts tagged now), ``cached`` (already tagged), ``rows`` (aspect
    rows written), ``aspects`` (count per aspect, this run), ``sentiment_filled``,
    ``model_version``, ``sentiment_model_version`` and ``texts_per_second``.
    ``score_sentences`` (a ``score_texts`` callable) scores the sentences behind each
    aspect; by default the current sentiment model's, when one can be loaded.
    """
    tagger = tagger or default_tagger()
    pending, cached = _count(engine, MODEL_VERSION)
    if on_total:
        on_total(pending)
    s_version = sentiment_version(engine, settings)
    result: dict[str, Any] = {
        "tagged": 0,
        "cached": cached,
        "rows": 0,
        "aspects": {},
        "sentiment_filled": fill_missing_sentiment(engine, s_version),
        "model_version": MODEL_VERSION,
        "sentiment_model_version": s_version,
        "texts_per_second": 0.0,
    }
    if pending == 0:
        return result
    if score_sentences is None and sentence_sentiment:
        score_sentences = _default_sentence_scorer(settings)
    _register(engine, tagger)
    counts: dict[str, int] = {}
    sentence_cache: dict[str, float] = {}  # sentence -> sentiment, for this run
    seconds = 0.0
    for page in pending_pages(engine, aspect_scores, MODEL_VERSION, PAGE_SIZE, ASPECT_KINDS):
        hashes = [h for h, _ in page]
        texts = [t for _, t in page]
        whole = _text_sentiments(engine, hashes, s_version)
        t0 = time.perf_counter()
        tags = tagger.tag(texts)
        sentiments = aspect_sentiments(
            texts, tags, [whole.get(h) for h in hashes], score_sentences, sentence_cache
        )
        seconds += time.perf_counter() - t0
        rows = [
            {
                "text_hash": hashes[int(idx)],
                "model_version": MODEL_VERSION,
                "aspect": str(aspect),
                "confidence": float(conf),
                "sentiment": sent,
                "method": str(method),
            }
            for (idx, aspect, conf, method), sent in zip(
                tags[["idx", "aspect", "confidence", "method"]].itertuples(index=False),
                sentiments,
                strict=True,
            )
        ]
        tagged_idx = set(tags["idx"].astype(int))
        rows += [
            {
                "text_hash": h,
                "model_version": MODEL_VERSION,
                "aspect": NO_ASPECT,
                "confidence": 1.0,
                "sentiment": None,
                "method": "none",
            }
            for i, h in enumerate(hashes)
            if i not in tagged_idx
        ]
        with engine.begin() as conn:
            conn.execute(insert(aspect_scores), rows)
        for row in rows:
            name = str(row["aspect"])
            counts[name] = counts.get(name, 0) + 1
        result["tagged"] += len(page)
        result["rows"] += len(rows)
        if on_progress:
            on_progress(len(page))
    result["aspects"] = dict(sorted(counts.items()))
    result["texts_per_second"] = round(result["tagged"] / seconds, 1) if seconds > 0 else 0.0
    return result


def account_aspect_sentiment(
    engine: Engine, as_of: date | datetime | None = None, account_id: str | None = None
) -> pd.DataFrame:
    """Per account, month and aspect: ``n`` (texts mentioning it), ``sentiment`` (mean
    aspect sentiment over those with one) and ``negative_share`` (share of those below
    ``NEGATIVE_BELOW``). Only texts created on or before ``as_of`` (a date includes its
    whole day). ``month`` is the first day of the month, a date."""
    q = (
        select(
            documents.c.account_id,
            documents.c.created_at,
            aspect_scores.c.aspect,
            aspect_scores.c.sentiment,
        )
        .join(aspect_scores, aspect_scores.c.text_hash == documents.c.text_hash)
        .where(
            aspect_scores.c.model_version == MODEL_VERSION,
            aspect_scores.c.aspect != NO_ASPECT,
            documents.c.kind.in_(ASPECT_KINDS),
            documents.c.account_id.is_not(None),
        )
    )
    if as_of is not None:
        cutoff = as_of if isinstance(as_of, datetime) else datetime.combine(as_of, dtime.max)
        q = q.where(documents.c.created_at <= cutoff)
    if account_id is not None:
        q = q.where(documents.c.account_id == account_id)
    with engine.connect() as conn:
        frame = pd.DataFrame(
            conn.execute(q).all(), columns=["account_id", "created_at", "aspect", "sentiment"]
        )
    columns = ["account_id", "month", "aspect", "n", "sentiment", "negative_share"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    created = pd.to_datetime(frame["created_at"])
    frame["month"] = created.dt.to_period("M").dt.start_time.dt.date
    frame["sentiment"] = pd.to_numeric(frame["sentiment"], errors="coerce")
    frame["negative"] = (frame["sentiment"] < NEGATIVE_BELOW).where(frame["sentiment"].notna())
    grouped = frame.groupby(["account_id", "month", "aspect"], sort=True)
    out = grouped.agg(
        n=("aspect", "size"),
        sentiment=("sentiment", "mean"),
        negative_share=("negative", "mean"),
    ).reset_index()
    out["n"] = out["n"].astype(int)
    out["sentiment"] = out["sentiment"].astype(float).round(4)
    out["negative_share"] = out["negative_share"].astype(float).round(4)
    return out[columns]
