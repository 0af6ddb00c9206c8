"""Model versions: which sentiment model's scores to read, and the registry of versions.

One answer each, for every layer above:

- ``current_sentiment_version(settings)``: the version ``undertow score`` writes now (no
  model is loaded), or None when no sentiment model is built or readable;
- ``sentiment_version(engine, settings=None, requested=None)``: the version whose scores
  readers use (risk inputs, aspects, evidence): ``requested`` when given; else the
  current version when it has scored anything in this store; else the version that
  scored most recently; None when nothing is scored;
- ``register_model(engine, version, card, task)``: records a model version in
  ``model_registry`` once (the provenance of every score, tag and label).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from ingest.db.schema import model_registry, sentiment_scores

log = logging.getLogger(__name__)


def current_sentiment_version(settings: Any) -> str | None:
    """The version new texts are scored with; None when no model can be read."""
    from nlp.sentiment import current_model_version

    try:
        return str(current_model_version(settings))
    except Exception as exc:  # noqa: BLE001 - no model built yet, or unreadable: say None
        log.debug("no current sentiment model: %s", exc)
        return None


def sentiment_version(
    engine: Engine, settings: Any = None, requested: str | None = None
) -> str | None:
    """The sentiment model whose scores readers use (see the module docstring)."""
    if requested:
        return requested
    current = current_sentiment_version(settings) if settings is not None else None
    s = sentiment_scores.c
    with engine.connect() as conn:
        if current is not None:
            found = conn.execute(
                select(s.text_hash).where(s.model_version == current).limit(1)
            ).first()
            if found is not None:
                return current
        latest = conn.execute(
            select(s.model_version).order_by(s.scored_at.desc(), s.model_version).limit(1)
        ).scalar()
    return None if latest is None else str(latest)


def register_model(
    engine: Engine, version: str, card: dict[str, Any] | None = None, task: str | None = None
) -> None:
    """Record ``version`` in ``model_registry`` once; ``task`` defaults to the card's."""
    task = task or str((card or {}).get("task") or "sentiment")
    with engine.begin() as conn:
        found = conn.execute(
            select(model_registry.c.model_version).where(model_registry.c.model_version == version)
        ).first()
        if found is None:
            conn.execute(
                insert(model_registry).values(
                    model_version=version,
                    task=task,
                    created_at=datetime.now(UTC).replace(tzinfo=None),
                    card=card,
                    metrics=(card or {}).get("metrics"),
                )
            )
