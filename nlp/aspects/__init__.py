"""Aspects: what each customer text is about, and how the customer feels about each.

Public interface (see the team contract):
- ``tag_texts(texts) -> DataFrame[idx, aspect, confidence, method]``
- ``tag_store(engine, settings, on_progress=None) -> dict`` fills ``aspect_scores``
- ``account_aspect_sentiment(engine, as_of=None) -> DataFrame[account_id, month, aspect,
  n, sentiment, negative_share]``
"""

from __future__ import annotations

from nlp.aspects.store import NO_ASPECT, account_aspect_sentiment, tag_store
from nlp.aspects.tagger import MODEL_VERSION, AspectTagger, tag_texts
from nlp.aspects.taxonomy import ASPECTS

__all__ = [
    "ASPECTS",
    "MODEL_VERSION",
    "NO_ASPECT",
    "AspectTagger",
    "account_aspect_sentiment",
    "tag_store",
    "tag_texts",
]
