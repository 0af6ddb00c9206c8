"""Exceptions of the ingest layer (and the base of every Undertow exception).

UndertowError
 +-- InputError            the user's input is wrong; the message says what to fix
 |    +-- MissingColumnError   a required column is absent from a file
 |    +-- UnknownKindError     a source kind the contract does not define
 |    +-- MappingError         a vendor column mapping cannot be found or parsed
 +-- NotFoundError         a named thing (account, run, metric) does not exist
 +-- StoreError            the database cannot be reached or migrated

HTTP statuses and CLI exit codes are decided in ``api/`` only: InputError -> exit 2 / 422,
NotFoundError -> exit 2 / 404, anything else -> exit 1 / 500.
"""

from __future__ import annotations


class UndertowError(Exception):
    """Base class of every error Undertow raises on purpose."""


class InputError(UndertowError):
    """The input is wrong; the message says what to fix."""


class MissingColumnError(InputError):
    def __init__(self, column: str, file: str, kind: str) -> None:
        super().__init__(
            f"{file}: required column '{column}' for kind '{kind}' is missing "
            f"(add it, or pass --mapping for a vendor export)"
        )
        self.column = column
        self.file = file
        self.kind = kind


class UnknownKindError(InputError):
    pass


class MappingError(InputError):
    pass


class NotFoundError(UndertowError):
    """A named thing does not exist."""


class StoreError(UndertowError):
    """The database cannot be reached or migrated."""
