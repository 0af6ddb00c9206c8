"""Attribution-channel classification of "How did you hear about us?" answers.

Public interface (see CONTRACT.md section 4 for the taxonomy):

- ``classify_answers(texts) -> DataFrame[idx, channel, weight, confidence, method]``
- ``classify_store(engine, settings, on_progress=None) -> dict`` fills ``channel_labels``
- ``map_tracked_source(value) -> channel``
- ``CHANNELS``, ``DARK_CHANNELS``

Nothing heavy is imported here: the encoder loads on the first answer the rules cannot
settle.
"""

from __future__ import annotations

from typing import Any

from nlp.channels.taxonomy import CHANNELS, DARK_CHANNELS, is_dark, map_tracked_source

__all__ = [
    "CHANNELS",
    "DARK_CHANNELS",
    "classify_answers",
    "classify_store",
    "current_model_version",
    "is_dark",
    "map_tracked_source",
]


def classify_answers(texts: Any, **kwargs: Any) -> Any:
    from nlp.channels.classify import classify_answers as _classify

    return _classify(texts, **kwargs)


def classify_store(
    engine: Any, settings: Any, on_progress: Any = None, **kwargs: Any
) -> dict[str, Any]:
    from nlp.channels.store import classify_store as _store

    return _store(engine, settings, on_progress=on_progress, **kwargs)


def current_model_version() -> str:
    from nlp.channels.classify import current_model_version as _version

    return _version()
