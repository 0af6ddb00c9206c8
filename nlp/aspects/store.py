"""Aspects over the store: fill ``aspect_scores``, roll them up per account and month.

``tag_store`` tags every customer text (reviews, tickets, survey comments; attribution
answers are about channels, not the product) that the current aspects model has not
tagged, in pages of distinct text hashes (keyset pagination: flat memory, a crash loses
at most the page in flight, a rerun resumes). The key is (text_hash, model_version,
aspect). A text about none of the aspects gets one row with aspect ``none`` so that a
rerun does not tag it again; read-side queries skip those rows. Pages are
``PAGE_SIZE`` texts: the encoder and the sentiment scorer see large batches, and a
sentence seen on an earlier page is not encoded again (per worker); its sentiment is
scored with each page it appears on, so a page's results do not depend on which pages
the worker saw before (the same on every engine).

Pages run through a compute engine (``nlp.engines``), each through ``tag_frame``; on Ray
every actor loads the tagger and the sentence scorer once, and with PostgreSQL stores
its own rows. Rows are inserted ignoring stored keys (``nlp.result_rows``).

Per-aspect sentiment comes from the sentences that mention the aspect (scored by the
sentiment engineer's scorer, ``nlp.sentiment.load_scorer``), else the whole text's
sentiment from ``sentiment_scores``. Texts tagged before they were scored get their
missing sentiments filled on the next run (``sentiment_filled``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dtime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select, update

from ingest.db.schema import aspect_scores, documents, sentiment_scores
from ingest.settings import Settings
from nlp.aspects.attribution import ScoreTexts, aspect_sentiments
from nlp.aspects.tagger import MODEL_VERSION, AspectTagger, default_tagger
from nlp.engines import LOCAL, BatchStep, ComputeEngine, EngineError
from nlp.pending_texts import count_pending, pending_pages
from nlp.result_rows import RowWriter, write_rows
from nlp.scoring import workers_write
from nlp.versions import register_model, sentiment_version

log = logging.getLogger(__name__)

PAGE_SIZE = 1024
ASPECT_KINDS = ("review", "ticket", "survey")
NO_ASPECT = "none"  # the sentinel row of a text about none of the aspects
NEGATIVE_BELOW = -0.25  # an aspect mention with sentiment below this counts as negative
ROW_COLUMNS = ["text_hash", "model_version", "aspect", "confidence", "sentiment", "method"]


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


def _default_sentence_scorer(settings: Settings, parts: int | None = None) -> ScoreTexts | None:
    """The sentiment scorer's ``score_texts`` if a sentiment model can be loaded."""
    try:
        from nlp.sentiment import load_scorer

        return load_scorer(settings, parts=parts).score_texts  # type: ignore[no-any-return]
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


def tag_frame(
    tagger: AspectTagger, score_sentences: ScoreTexts | None, batch: pd.DataFrame
) -> pd.DataFrame:
    """DataFrame[text_hash, text, whole] (``whole``: the text's own sentiment or NaN) ->
    its ``aspect_scores`` rows (``ROW_COLUMNS``), a ``none`` row for a text about no aspect.
    The page's distinct evidence sentences are scored in one call: a sentence's int8 score
    depends on the batch it runs in, so it is scored with its page, never taken from another
    page (a worker that saw other pages would score it otherwise)."""
    hashes = batch["text_hash"].tolist()
    texts = batch["text"].tolist()
    whole = [None if pd.isna(w) else float(w) for w in batch["whole"]]
    tags = tagger.tag(texts)
    sentiments = aspect_sentiments(texts, tags, whole, score_sentences)
    rows = [
        (hashes[int(idx)], MODEL_VERSION, str(aspect), float(conf), sent, str(method))
        for (idx, aspect, conf, method), sent in zip(
            tags[["idx", "aspect", "confidence", "method"]].itertuples(index=False),
            sentiments,
            strict=True,
        )
    ]
    tagged_idx = set(tags["idx"].astype(int))
    rows += [
        (h, MODEL_VERSION, NO_ASPECT, 1.0, None, "none")
        for i, h in enumerate(hashes)
        if i not in tagged_idx
    ]
    out = pd.DataFrame(rows, columns=ROW_COLUMNS)
    out["sentiment"] = out["sentiment"].astype(object)  # None stays None (NULL), not NaN
    return out


@dataclass(frozen=True)
class AspectStep:
    """What each worker builds once: the tagger and the sentence scorer, then ``tag_frame``
    over pages; with ``writer`` the worker stores its rows itself."""

    settings: Settings
    sentence_sentiment: bool = True
    writer: RowWriter | None = None
    parts: int | None = None  # the driver's split of a scorer batch (see nlp.scoring)

    def __call__(self) -> BatchStep:
        scorer = (
            _default_sentence_scorer(self.settings, self.parts) if self.sentence_sentiment else None
        )
        return _tagging(default_tagger(), scorer, self.writer)


def _tagging(
    tagger: AspectTagger, score_sentences: ScoreTexts | None, writer: RowWriter | None
) -> BatchStep:
    def step(batch: pd.DataFrame) -> pd.DataFrame:
        rows = tag_frame(tagger, score_sentences, batch)
        if writer is not None:
            writer(rows)
        return rows

    return step


def _pages(engine: Engine, s_version: str | None) -> Iterator[pd.DataFrame]:
    """DataFrame[text_hash, text, whole] pages of the customer texts not yet tagged."""
    for page in pending_pages(engine, aspect_scores, MODEL_VERSION, PAGE_SIZE, ASPECT_KINDS):
        frame = pd.DataFrame(page, columns=["text_hash", "text"])
        whole = _text_sentiments(engine, frame["text_hash"].tolist(), s_version)
        frame["whole"] = frame["text_hash"].map(whole).astype(float)
        yield frame


def tag_store(
    engine: Engine,
    settings: Settings,
    on_progress: Callable[[int], None] | None = None,
    *,
    tagger: AspectTagger | None = None,
    score_sentences: ScoreTexts | None = None,
    sentence_sentiment: bool = True,
    on_total: Callable[[int], None] | None = None,
    compute: ComputeEngine | None = None,
) -> dict[str, Any]:
    """Fill ``aspect_scores`` for every customer text not yet tagged by this version.

    Returns ``tagged`` (texts tagged now), ``cached`` (already tagged), ``rows`` (aspect
    rows written), ``aspects`` (count per aspect, this run), ``sentiment_filled``,
    ``model_version``, ``sentiment_model_version`` and ``texts_per_second``.
    ``score_sentences`` (a ``score_texts`` callable) scores the sentences behind each
    aspect; by default the current sentiment model's, when one can be loaded. Pages run
    through ``compute`` (``nlp.engines``); a given ``tagger`` or ``score_sentences`` runs
    in this process only.
    """
    compute = compute or LOCAL
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
    local_models = tagger is not None or score_sentences is not None
    if local_models and compute.distributed:
        raise EngineError("a tagger or sentence scorer built in this process cannot run on Ray")
    _register(engine, tagger or default_tagger())
    remote = workers_write(engine, compute)
    writer = RowWriter(settings.database_url, aspect_scores.name) if remote else None
    make: Callable[[], BatchStep]
    if local_models:
        sentences = score_sentences
        if sentences is None and sentence_sentiment:
            sentences = _default_sentence_scorer(settings)
        make = lambda: _tagging(tagger or default_tagger(), sentences, None)  # noqa: E731
    else:
        from nlp.sentiment.backends import default_threads

        make = AspectStep(settings, sentence_sentiment, writer, parts=default_threads())
    counts: dict[str, int] = {}
    with compute.batches(make) as run:
        start = time.perf_counter()
        for rows in run(_pages(engine, s_version)):
            if not remote:
                write_rows(engine, aspect_scores, rows)
            for name, n in rows["aspect"].value_counts().items():
                counts[str(name)] = counts.get(str(name), 0) + int(n)
            texts = rows["text_hash"].nunique()
            result["tagged"] += texts
            result["rows"] += len(rows)
            if on_progress:
                on_progress(texts)
        seconds = time.perf_counter() - start
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
