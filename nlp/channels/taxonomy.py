"""The channel taxonomy of CONTRACT.md section 4 (defined in ``ingest.taxonomy``).

The taxonomy is part of the canonical schema, so its facts (the twelve channels, the
dark five, the tracked-source mapping and its table) live in the bottom layer, where
ingest validates spend and experiment channels against them; this module re-exports
them for the classifier and everything that imports them from here.
"""

from __future__ import annotations

from ingest.taxonomy import (
    CHANNELS,
    DARK_CHANNELS,
    TRACKED_SOURCES,
    TRACKED_TO_CHANNEL,
    is_dark,
    map_tracked_source,
    normalize_source,
)

__all__ = [
    "CHANNELS",
    "DARK_CHANNELS",
    "TRACKED_SOURCES",
    "TRACKED_TO_CHANNEL",
    "is_dark",
    "map_tracked_source",
    "normalize_source",
]
