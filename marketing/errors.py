"""Exceptions of the marketing layer.

UndertowError (ingest.errors)
 +-- InputError
 |    +-- MarketingInputError   a bad period, grouping or choice; the message says what to fix
 +-- DefinitionsError          the KPI definitions file is missing or malformed (a broken
                               install, not the user's input)

HTTP statuses and CLI exit codes are decided in ``api/``: MarketingInputError -> 422 /
exit 2, DefinitionsError -> 500 / exit 1.
"""

from __future__ import annotations

from ingest.errors import InputError, UndertowError


class MarketingInputError(InputError):
    """A bad period, grouping or choice."""


class DefinitionsError(UndertowError):
    """The KPI definitions file cannot be read."""
