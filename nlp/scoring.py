"""Batch scoring of the store: every stored text the current model has not scored yet.

``score_store`` walks the distinct ``documents.text_hash`` values that have no row in
``sentiment_scores`` for the current model version, in pages ordered by hash (keyset
pagination, so memory stays flat on any store size). Each page is sorted by length and
scored in batches; every batch is inserted and committed on its own, so a crash loses at
most the batch in flight and a rerun resumes where it stopped (the scored hashes no
longer match the query). An unchanged text is never scored twice: the cache key is
(text hash, model version), and duplicate texts share one hash.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert

from ingest.db.schema import sentiment_scores
from ingest.settings import Settings
from nlp import pending_texts
from nlp.versions import register_model

PAGE_SIZE = 2048
COMMIT_BATCH = 128


def count_pending(engine: Engine, version: str) -> tuple[int, int]:
    """(distinct texts not yet scored by ``version``, distinct texts already scored)."""
    return pending_texts.count_pending(engine, sentiment_scores, version)


def _insert_ignoring_duplicates(engine: Engine) -> Any:
    """INSERT that skips rows another run already wrote (SQLite and PostgreSQL)."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(sentiment_scores).on_conflict_do_nothing()
    if engine.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(sentiment_scores).on_conflict_do_nothing()
    return insert(sentiment_scores)


def score_store(
    engine: Engine,
    settings: Settings,
    on_progress: Callable[[int], None] | None = None,
    *,
    scorer: Any = None,
    on_total: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Fill ``sentiment_scores`` for every text the current model has not scored.

    Returns ``scored`` (texts scored now), ``cached`` (texts already scored by this model
    version), ``model_version`` and ``texts_per_second`` (scoring alone, load excluded).
    ``on_progress(n)`` is called after each committed batch with its size.
    """
    from nlp.sentiment import current_model_version, load_scorer

    version = scorer.model_version if scorer is not None else current_model_version(settings)
    pending, cached = count_pending(engine, version)
    if on_total:
        on_total(pending)
    result: dict[str, Any] = {
        "scored": 0,
        "cached": cached,
        "model_version": version,
        "texts_per_second": 0.0,
    }
    if pending == 0:
        return result
    if scorer is None:
        scorer = load_scorer(settings)
    from nlp.sentiment.model import read_meta
    from nlp.sentiment.registry import current_artifacts

    register_model(engine, version, {"task": "sentiment", **read_meta(current_artifacts(settings))})
    stmt = _insert_ignoring_duplicates(engine)
    seconds = 0.0
    for page in pending_texts.pending_pages(engine, sentiment_scores, version, PAGE_SIZE):
        page.sort(key=lambda row: len(row[1]))
        for start in range(0, len(page), COMMIT_BATCH):
            batch = page[start : start + COMMIT_BATCH]
            t0 = time.perf_counter()
            scores = scorer.score_texts([t for _, t in batch])
            seconds += time.perf_counter() - t0
            now = datetime.now(UTC).replace(tzinfo=None)
            rows = [
                {
                    "text_hash": h,
                    "model_version": version,
                    "p_negative": float(s.p_negative),
                    "p_neutral": float(s.p_neutral),
                    "p_positive": float(s.p_positive),
                    "sentiment": float(s.sentiment),
                    "n_chunks": int(s.n_chunks),
                    "scored_at": now,
                }
                for (h, _), s in zip(batch, scores.itertuples(index=False), strict=True)
            ]
            with engine.begin() as conn:
                conn.execute(stmt, rows)
            result["scored"] += len(rows)
            if on_progress:
                on_progress(len(rows))
    result["texts_per_second"] = round(result["scored"] / seconds, 1) if seconds > 0 else 0.0
    return result
