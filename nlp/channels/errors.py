"""Errors of the channel classifier.

UndertowError (ingest.errors)
 +-- ChannelModelError   the committed head weights are missing or unreadable
"""

from __future__ import annotations

from ingest.errors import UndertowError


class ChannelModelError(UndertowError):
    """The channel head cannot be loaded; the message says how to rebuild it."""
