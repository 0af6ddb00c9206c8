"""Runtime settings, read from the environment at the composition roots (CLI, app factory).

Nothing builds a Settings object at import time; callers pass it down as an argument.
``Settings.from_env()`` reads every ``UNDERTOW_*`` variable below through pydantic-settings,
validates them in one place, and turns a bad value into a ``SettingsError`` (an
``InputError``: the CLI exits 2) whose one line names the variable, e.g.
``UNDERTOW_MAX_TEXT_CHARS: input should be a valid integer (got '20k')``.

- ``UNDERTOW_DATABASE_URL``: any SQLAlchemy URL whose driver is installed (default an
  SQLite file ``undertow.db`` in the working directory).
- ``UNDERTOW_DATA_DIR``: caches rebuilt locally (exported models ...), default ``.undertow``.
- ``UNDERTOW_MAX_TEXT_CHARS``: texts longer than this are cut at ingest (the cut is
  recorded); 10 to 10,000,000, default 20,000.
- ``UNDERTOW_INGEST_WORKERS``: processes preparing a big file's chunks (0 to 64; unset =
  one per core up to 4; 0 = none).
- ``UNDERTOW_FUTURE_TOLERANCE_DAYS``: an event date later than the ingest time plus this
  many days is quarantined (0 to 366, default 1: time zones and clock skew of the
  exporting system, never a real future event).
- ``UNDERTOW_MAX_QUOTED_LINES``: a quoted CSV field may span at most this many lines;
  past it the record is quarantined as an unterminated quote and reading resumes at its
  next line (2 to 1,000,000, default 10,000).
- ``UNDERTOW_QUARANTINE_RETENTION_DAYS``: quarantined rows (which keep the original,
  unmasked content) older than this are deleted by ``undertow quarantine purge`` run
  without ``--older-than`` (1 to 36,500; unset = kept until purged explicitly).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.errors import InputError

DEFAULT_DATABASE_FILE = "undertow.db"
DEFAULT_MAX_TEXT_CHARS = 20_000
ENV_PREFIX = "UNDERTOW_"


class SettingsError(InputError):
    """An environment variable holds a value Undertow cannot use; the message names it."""


def check_database_url(value: str) -> str:
    """``value`` if SQLAlchemy can parse it and its driver is installed, else ValueError."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        url = make_url(value)
        url.get_dialect().import_dbapi()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ValueError(
            "not a usable SQLAlchemy URL (e.g. sqlite:///undertow.db or "
            f"postgresql+psycopg://user:pass@host:5432/db): {exc}"
        ) from None
    except ImportError as exc:
        raise ValueError(f"the database driver is not installed ({exc.name or exc})") from None
    return value


def settings_error(
    exc: ValidationError, variable: Callable[[str], str] = lambda f: ENV_PREFIX + f.upper()
) -> SettingsError:
    """One line that names the first offending variable, what it needs and what it got
    (never the value of a URL, which may carry a password). ``variable`` maps a field
    name to its environment variable."""
    err = exc.errors()[0]
    loc = str(err["loc"][0]) if err.get("loc") else ""
    name = loc.upper() if loc.upper().startswith(ENV_PREFIX) else variable(loc)
    message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    got = err.get("input")
    show = isinstance(got, str | int | float) and "URL" not in name
    shown = f" (got {str(got)[:60]!r})" if show else ""
    return SettingsError(f"{name}: {message[0].lower() + message[1:]}{shown}")


class Settings(BaseSettings):
    """Where Undertow keeps its data and the limits it applies (see the module text)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="ignore", env_ignore_empty=True
    )

    database_url: str = f"sqlite:///{DEFAULT_DATABASE_FILE}"
    data_dir: Path = Path(".undertow")
    max_text_chars: int = Field(default=DEFAULT_MAX_TEXT_CHARS, ge=10, le=10_000_000)
    ingest_workers: int | None = Field(default=None, ge=0, le=64)
    future_tolerance_days: float = Field(default=1.0, ge=0, le=366)
    max_quoted_lines: int = Field(default=10_000, ge=2, le=1_000_000)
    quarantine_retention_days: int | None = Field(default=None, ge=1, le=36_500)

    @field_validator("database_url")
    @classmethod
    def _usable_url(cls, value: str) -> str:
        return check_database_url(value)

    @field_validator("ingest_workers", "quarantine_retention_days", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Settings from ``environ`` (default the process environment); a bad value is a
        ``SettingsError`` naming its variable. Empty variables count as unset."""
        try:
            if environ is None:
                return cls()
            values = {
                name: environ[ENV_PREFIX + name.upper()]
                for name in cls.model_fields
                if environ.get(ENV_PREFIX + name.upper(), "").strip()
            }
            return cls.model_validate(values)
        except ValidationError as exc:
            raise settings_error(exc) from None
