"""Exceptions of the risk layer.

UndertowError (ingest.errors)
 +-- InputError
 |    +-- RiskInputError       a bad argument to a risk function (horizon, date, scenario)
 |    +-- NotEnoughDataError   the store holds too little history to fit or back-test
 +-- NotFoundError
 |    +-- NoSnapshotError      no risk snapshot exists yet: run `undertow fit` first
 +-- RiskError
      +-- NotFittedError       a model was asked to predict before it was fitted

HTTP statuses and exit codes are decided in ``api/`` only.
"""

from __future__ import annotations

from ingest.errors import InputError, NotFoundError, UndertowError


class RiskError(UndertowError):
    """Base class of the risk layer's internal failures."""


class RiskInputError(InputError):
    """A bad argument: the message names what was expected and what was got."""


class NotEnoughDataError(InputError):
    """Too little history (accounts, months or churn events) to fit a survival model."""


class NoSnapshotError(NotFoundError):
    """No risk snapshot exists yet."""

    def __init__(self, message: str = "no risk snapshot yet: run `undertow fit` first") -> None:
        super().__init__(message)


class NotFittedError(RiskError, AttributeError):
    """A model's ``predict`` was called before ``fit``."""
