"""Exceptions of the marketing layer.

UndertowError (ingest.errors)
 +-- InputError
 |    +-- MarketingInputError   a bad period, grouping or choice; the message says what to fix
 |         +-- NotEnoughWeeksError  too little history for the media-mix model or a forecast
 +-- NotFoundError
 |    +-- NoMeasurementError    no measurement run yet: run `undertow measure` first
 +-- DefinitionsError          the KPI definitions file is missing or malformed (a broken
 |                             install, not the user's input)
 +-- MarketingError            an internal failure of a model (sampling, shapes)
      +-- NotFittedError        a model was asked for results before it was fitted

HTTP statuses and CLI exit codes are decided in ``api/``: MarketingInputError -> 422 /
exit 2, NoMeasurementError -> 409, DefinitionsError and MarketingError -> 500 / exit 1.
"""

from __future__ import annotations

from ingest.errors import InputError, NotFoundError, UndertowError


class MarketingInputError(InputError):
    """A bad period, grouping or choice."""


class NotEnoughWeeksError(MarketingInputError):
    """Too few weeks of outcome or spend for the model (the message says how many)."""


class NoMeasurementError(NotFoundError):
    """No measurement run exists yet."""

    def __init__(self, message: str = "no measurement yet: run `undertow measure` first") -> None:
        super().__init__(message)


class DefinitionsError(UndertowError):
    """The KPI definitions file cannot be read."""


class MarketingError(UndertowError):
    """An internal failure of a marketing model."""


class NotFittedError(MarketingError, AttributeError):
    """Results were asked of a model before ``fit``."""
