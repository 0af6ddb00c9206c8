"""Label stored attribution answers: ``classify_store`` fills ``channel_labels``.

Rows are keyed on (document_id, model_version, channel), so a re-run with the same rules
and head labels nothing twice, and a new rule set or head writes a fresh set next to the
old one. Identical answers are classified once. The model version is registered in
``model_registry`` (task ``channels``) with the head's card. Batches run through a
compute engine (``nlp.engines``), each through ``channel_frame``; rows are inserted
ignoring stored keys (``nlp.result_rows``), so a retried batch stores nothing twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from ingest.db.schema import channel_labels, documents
from nlp.channels.classify import classify_answers, current_model_version
from nlp.engines import LOCAL, BatchStep, ComputeEngine, EngineError
from nlp.result_rows import RowWriter, write_rows
from nlp.scoring import workers_write
from nlp.versions import register_model

BATCH = 2000


def unlabeled_answers(engine: Engine, model_version: str) -> pd.DataFrame:
    """Attribution documents (id, text) without labels of ``model_version``."""
    labeled = select(channel_labels.c.document_id).where(
        channel_labels.c.model_version == model_version
    )
    q = (
        select(documents.c.id, documents.c.text)
        .where(documents.c.kind == "attribution")
        .where(documents.c.id.not_in(labeled))
        .order_by(documents.c.id)
    )
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=["document_id", "text"])


def label_frame(answers: pd.DataFrame, **classify_kwargs: Any) -> pd.DataFrame:
    """channel_labels-shaped rows for ``answers`` (document_id, text); nothing stored."""
    labels = classify_answers(answers["text"].tolist(), **classify_kwargs)
    labels["document_id"] = answers["document_id"].to_numpy()[labels["idx"].to_numpy()]
    return labels.drop(columns="idx")


def _register(engine: Engine, model_version: str) -> None:
    from nlp.channels.head import load_head

    register_model(engine, model_version, dict(load_head().card), task="channels")


ROW_COLUMNS = ["document_id", "model_version", "channel", "weight", "confidence", "method"]


def channel_frame(version: str, batch: pd.DataFrame, **classify_kwargs: Any) -> pd.DataFrame:
    """DataFrame[document_id, text] -> its ``channel_labels`` rows (``ROW_COLUMNS``)."""
    rows = label_frame(batch, **classify_kwargs)
    rows["model_version"] = version
    return rows[ROW_COLUMNS]


@dataclass(frozen=True)
class ChannelStep:
    """What each worker builds: ``channel_frame`` with the committed head and the packaged
    encoder (both load on the first answer the rules cannot settle, once per worker); with
    ``writer`` the worker stores its rows itself."""

    version: str
    writer: RowWriter | None = None

    def __call__(self) -> BatchStep:
        return _labelling(self.version, self.writer, {})


def _labelling(version: str, writer: RowWriter | None, kwargs: dict[str, Any]) -> BatchStep:
    def step(batch: pd.DataFrame) -> pd.DataFrame:
        rows = channel_frame(version, batch, **kwargs)
        if writer is not None:
            writer(rows)
        return rows

    return step


def classify_store(
    engine: Engine,
    settings: Any = None,
    on_progress: Callable[[int], None] | None = None,
    *,
    compute: ComputeEngine | None = None,
    **classify_kwargs: Any,
) -> dict[str, Any]:
    """Label every attribution answer the current model version has not labeled.

    Returns ``classified`` (answers labeled now), ``cached`` (already labeled),
    ``model_version``, ``texts_per_second`` and ``by_method`` (rule / head / ...).
    ``settings`` gives the database URL workers write to (Ray with PostgreSQL). Batches of
    ``BATCH`` answers run through ``compute`` (``nlp.engines``); an ``encoder`` or ``head``
    passed in runs in this process only.
    """
    compute = compute or LOCAL
    head = classify_kwargs.get("head")
    version = current_model_version(head)
    with engine.connect() as conn:
        total = conn.execute(select(documents.c.id).where(documents.c.kind == "attribution")).all()
    todo = unlabeled_answers(engine, version)
    if classify_kwargs and compute.distributed:
        raise EngineError("an encoder or head built in this process cannot run on Ray")
    remote = settings is not None and workers_write(engine, compute)
    writer = RowWriter(settings.database_url, channel_labels.name) if remote else None
    make: Callable[[], BatchStep]
    if classify_kwargs:
        make = lambda: _labelling(version, None, classify_kwargs)  # noqa: E731
    else:
        make = ChannelStep(version, writer)
    by_method: dict[str, int] = {}
    start = time.perf_counter()
    if len(todo):
        with compute.batches(make) as run:
            start = time.perf_counter()
            chunks = (todo.iloc[lo : lo + BATCH] for lo in range(0, len(todo), BATCH))
            for rows in run(chunks):
                for m in rows.drop_duplicates("document_id")["method"]:
                    key = m.split(":")[0] if m != "head:abstain" else m
                    by_method[key] = by_method.get(key, 0) + 1
                if not remote:
                    write_rows(engine, channel_labels, rows)
                if on_progress:
                    on_progress(int(rows["document_id"].nunique()))
    seconds = time.perf_counter() - start
    if len(todo):
        _register(engine, version)
    return {
        "classified": len(todo),
        "cached": len(total) - len(todo),
        "model_version": version,
        "texts_per_second": round(len(todo) / seconds, 1) if len(todo) and seconds > 0 else None,
        "by_method": by_method,
    }
