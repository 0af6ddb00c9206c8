"""Label stored attribution answers: ``classify_store`` fills ``channel_labels``.

Rows are keyed on (document_id, model_version, channel), so a re-run with the same rules
and head labels nothing twice, and a new rule set or head writes a fresh set next to the
old one. Identical answers are classified once. The model version is registered in
``model_registry`` (task ``channels``) with the head's card.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd
from sqlalchemy import Engine, insert, select

from ingest.db.schema import channel_labels, documents
from nlp.channels.classify import classify_answers, current_model_version
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


def classify_store(
    engine: Engine,
    settings: Any = None,
    on_progress: Callable[[int], None] | None = None,
    **classify_kwargs: Any,
) -> dict[str, Any]:
    """Label every attribution answer the current model version has not labeled.

    Returns ``classified`` (answers labeled now), ``cached`` (already labeled),
    ``model_version``, ``texts_per_second`` and ``by_method`` (rule / head / ...).
    ``settings`` is accepted for the shared interface; nothing in it is needed.
    """
    head = classify_kwargs.get("head")
    version = current_model_version(head)
    with engine.connect() as conn:
        total = conn.execute(select(documents.c.id).where(documents.c.kind == "attribution")).all()
    todo = unlabeled_answers(engine, version)
    by_method: dict[str, int] = {}
    start = time.perf_counter()
    for lo in range(0, len(todo), BATCH):
        chunk = todo.iloc[lo : lo + BATCH]
        rows = label_frame(chunk, **classify_kwargs)
        rows["model_version"] = version
        for m in rows.drop_duplicates("document_id")["method"]:
            key = m.split(":")[0] if m != "head:abstain" else m
            by_method[key] = by_method.get(key, 0) + 1
        with engine.begin() as conn:
            conn.execute(
                insert(channel_labels),
                rows[
                    ["document_id", "model_version", "channel", "weight", "confidence", "method"]
                ].to_dict("records"),
            )
        if on_progress:
            on_progress(len(chunk))
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
