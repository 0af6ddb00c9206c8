"""Batch scoring of the store: every stored text the current model has not scored yet.

``score_store`` walks the distinct ``documents.text_hash`` values that have no row in
``sentiment_scores`` for the current model version, in pages ordered by hash (keyset
pagination, so memory stays flat on any store size). Each page is sorted by length and cut
into batches of ``COMMIT_BATCH`` texts; every batch's scores are inserted and committed on
their own, so a crash loses at most the batches in flight and a rerun resumes where it
stopped (the scored hashes no longer match the query). An unchanged text is never scored
twice: the cache key is (text hash, model version), and duplicate texts share one hash.

Batches run through a compute engine (``nlp.engines``): in this process, or on Ray
actors that each load the served scorer once. Either way a batch is scored by the same
DataFrame-in/DataFrame-out function, ``score_frame``. The driver writes the results
(SQLite), or, on Ray with PostgreSQL, each worker writes its own (``nlp.result_rows``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from ingest.db.schema import sentiment_scores
from ingest.settings import Settings
from nlp import pending_texts
from nlp.engines import LOCAL, BatchStep, ComputeEngine, EngineError
from nlp.result_rows import RowWriter, write_rows
from nlp.versions import register_model

PAGE_SIZE = 2048
COMMIT_BATCH = 128
SCORE_COLUMNS = ["p_negative", "p_neutral", "p_positive", "sentiment"]
RESULT_COLUMNS = ["text_hash", "model_version", *SCORE_COLUMNS, "n_chunks"]


def count_pending(engine: Engine, version: str) -> tuple[int, int]:
    """(distinct texts not yet scored by ``version``, distinct texts already scored)."""
    return pending_texts.count_pending(engine, sentiment_scores, version)


def score_frame(scorer: Any, batch: pd.DataFrame) -> pd.DataFrame:
    """DataFrame[text_hash, text] -> one ``sentiment_scores`` row per text (``RESULT_COLUMNS``;
    the writer adds ``scored_at``)."""
    scores = scorer.score_texts(batch["text"].tolist())
    out = pd.DataFrame(
        {"text_hash": batch["text_hash"].to_numpy(), "model_version": scorer.model_version}
    )
    for column in SCORE_COLUMNS:
        out[column] = scores[column].to_numpy(dtype=float)
    out["n_chunks"] = scores["n_chunks"].to_numpy(dtype=int)
    return out


@dataclass(frozen=True)
class SentimentStep:
    """What each worker builds once: the served scorer, then ``score_frame`` over batches;
    with ``writer`` the worker stores its rows itself. ``parts``: the driver's split of a
    batch (``OnnxBackend``), so every worker scores a text as the local engine would."""

    settings: Settings
    writer: RowWriter | None = None
    parts: int | None = None

    def __call__(self) -> BatchStep:
        from nlp.sentiment import load_scorer

        return _scoring(load_scorer(self.settings, parts=self.parts), self.writer)


def _scoring(scorer: Any, writer: RowWriter | None) -> BatchStep:
    def step(batch: pd.DataFrame) -> pd.DataFrame:
        rows = score_frame(scorer, batch)
        if writer is not None:
            writer(rows)
        return rows

    return step


def pending_batches(engine: Engine, version: str) -> Iterator[pd.DataFrame]:
    """DataFrame[text_hash, text] batches of the texts ``version`` has not scored, each
    page sorted by length (similar lengths pad little)."""
    for page in pending_texts.pending_pages(engine, sentiment_scores, version, PAGE_SIZE):
        page.sort(key=lambda row: len(row[1]))
        for start in range(0, len(page), COMMIT_BATCH):
            yield pd.DataFrame(page[start : start + COMMIT_BATCH], columns=["text_hash", "text"])


def workers_write(engine: Engine, compute: ComputeEngine) -> bool:
    """Whether the workers store their own rows: on a cluster, into PostgreSQL (every node
    reaches it); SQLite is one file on the driver's machine, which the driver writes."""
    return compute.distributed and engine.dialect.name == "postgresql"


def score_store(
    engine: Engine,
    settings: Settings,
    on_progress: Callable[[int], None] | None = None,
    *,
    scorer: Any = None,
    on_total: Callable[[int], None] | None = None,
    compute: ComputeEngine | None = None,
) -> dict[str, Any]:
    """Fill ``sentiment_scores`` for every text the current model has not scored.

    Returns ``scored`` (texts scored now), ``cached`` (texts already scored by this model
    version), ``model_version``, ``texts_per_second`` (wall time of the scoring, model
    load excluded), ``engine`` and ``workers``. ``on_progress(n)`` is called after each
    stored batch with its size. ``scorer`` (a loaded scorer) runs in this process only.
    """
    from nlp.sentiment import current_model_version

    compute = compute or LOCAL
    version = scorer.model_version if scorer is not None else current_model_version(settings)
    pending, cached = count_pending(engine, version)
    if on_total:
        on_total(pending)
    result: dict[str, Any] = {
        "scored": 0,
        "cached": cached,
        "model_version": version,
        "texts_per_second": 0.0,
        "engine": compute.name,
        "workers": compute.workers,
    }
    if pending == 0:
        return result
    from nlp.sentiment.model import read_meta
    from nlp.sentiment.registry import current_artifacts

    register_model(engine, version, {"task": "sentiment", **read_meta(current_artifacts(settings))})
    remote = workers_write(engine, compute)
    writer = (
        RowWriter(settings.database_url, sentiment_scores.name, "scored_at") if remote else None
    )
    if scorer is not None:
        if compute.distributed:
            raise EngineError("a scorer loaded in this process cannot run on Ray workers")
        make: Callable[[], BatchStep] = lambda: _scoring(scorer, None)  # noqa: E731
    else:
        from nlp.sentiment.backends import default_threads

        if compute.distributed:  # build the int8 export once here, not in every worker
            from nlp.sentiment.export import ensure_onnx

            ensure_onnx(current_artifacts(settings), settings)
        make = SentimentStep(settings, writer, parts=default_threads())
    with compute.batches(make) as run:
        start = time.perf_counter()
        for rows in run(pending_batches(engine, version)):
            found = set(rows["model_version"])
            if found - {version}:
                raise EngineError(
                    f"a worker scored with {sorted(found)} instead of {version}: every node "
                    "needs the current model (an adapted one is under the data dir)"
                )
            if not remote:
                write_rows(engine, sentiment_scores, rows, stamp="scored_at")
            result["scored"] += len(rows)
            if on_progress:
                on_progress(len(rows))
        seconds = time.perf_counter() - start
    result["texts_per_second"] = round(result["scored"] / seconds, 1) if seconds > 0 else 0.0
    return result
