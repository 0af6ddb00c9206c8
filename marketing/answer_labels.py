"""The channels each "How did you hear about us?" answer names, from the store.

``answer_labels(engine, answers)``: the stored ``channel_labels`` of the current channel
classifier for the answers' ``document_id``; answers not classified yet (``undertow
score`` not run since they arrived) are classified on the fly from their text (the
``text`` column, else read from the store). One row per (answer, channel) with its
``weight`` (an answer naming two channels gives each 0.5), ``confidence`` and ``method``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from ingest.db.schema import channel_labels, documents

LABEL_COLUMNS = ["document_id", "channel", "weight", "confidence", "method"]


def _texts(engine: Engine, ids: list[int]) -> pd.DataFrame:
    rows: list[Any] = []
    with engine.connect() as conn:
        for start in range(0, len(ids), 900):  # bounded IN lists
            chunk = ids[start : start + 900]
            q = select(documents.c.id, documents.c.text).where(documents.c.id.in_(chunk))
            rows.extend(conn.execute(q).all())
    return pd.DataFrame(rows, columns=["document_id", "text"])


def answer_labels(engine: Engine, answers: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """(labels, classifier version) of ``answers`` (module docstring)."""
    from nlp.channels.classify import current_model_version
    from nlp.channels.store import label_frame

    version = current_model_version()
    if answers.empty:
        return pd.DataFrame(columns=LABEL_COLUMNS), version
    c = channel_labels.c
    q = select(c.document_id, c.channel, c.weight, c.confidence, c.method).where(
        c.model_version == version
    )
    with engine.connect() as conn:
        stored = pd.DataFrame(conn.execute(q).all(), columns=LABEL_COLUMNS)
    stored = stored[stored["document_id"].isin(answers["document_id"])]
    missing = answers[~answers["document_id"].isin(stored["document_id"])]
    if len(missing):
        if "text" not in missing:
            missing = _texts(engine, [int(i) for i in missing["document_id"]])
        fresh = label_frame(missing[["document_id", "text"]])[LABEL_COLUMNS]
        stored = pd.concat([stored, fresh], ignore_index=True) if len(stored) else fresh
    return stored.reset_index(drop=True), version
