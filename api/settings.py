"""Settings of the HTTP layer (limits, rate limit, CORS), read at the app factory.

The store settings (``ingest.settings.Settings``) stay separate: they are shared with the
CLI and flow down into the library; these only shape the HTTP boundary.

Environment variables (all optional):
- ``UNDERTOW_API_MAX_BODY_BYTES``: request bodies above this are refused with 413 (5 MiB).
- ``UNDERTOW_API_MAX_RECORDS``: records per ``POST /v1/ingest/{kind}`` (5,000).
- ``UNDERTOW_API_RATE_LIMIT``: sustained requests per second per API key (20; 0 = off;
  never negative).
- ``UNDERTOW_API_RATE_BURST``: bucket size, the burst a key may spend at once (100).
- ``UNDERTOW_API_AUTH_FAILURES``: failed key checks (wrong secret for a real key id)
  allowed per key id and client address per window before 429, without running scrypt
  (5; 0 = off). See ``api.keys`` for why the budget is per (key id, client).
- ``UNDERTOW_API_AUTH_FAILURES_PER_CLIENT``: the same per client address, across key ids
  (20; 0 = off). Behind a proxy every caller shares the proxy's address: raise or switch
  it off there and limit at the proxy.
- ``UNDERTOW_API_AUTH_CONCURRENCY``: scrypt checks running at once in a worker (2); more
  wait their turn, up to ``UNDERTOW_API_AUTH_WAIT`` seconds (10), then get 429.
- ``UNDERTOW_API_AUTH_FAILURE_WINDOW``: seconds over which a spent budget refills (60).
- ``UNDERTOW_API_CORS_ORIGINS``: comma-separated allowed origins (empty = CORS off).
- ``UNDERTOW_API_CACHE_SECONDS``: lifetime of rendered feed pages (30; 0 = off); see
  ``api.page_cache``.

Every value is validated when the app is built (``ApiSettings.from_env``): a bad one is
a ``SettingsError`` whose one line names the variable (``undertow serve`` exits 2).

The rate limit is an in-memory token bucket per worker process: with ``--workers N`` a
key may reach N times the limit. Put a shared limiter (the proxy, Redis) in front when
that matters. The same holds for the failed-key budgets and the cache of verified keys
(``api.keys``): per worker, in memory; the API keeps no other state between requests.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ingest.settings import settings_error


def _env(field: str, variable: str, default: Any, **bounds: Any) -> Any:
    """A field read from ``variable`` (or given by its own name in code)."""
    return Field(default=default, validation_alias=AliasChoices(field, variable), **bounds)


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    max_body_bytes: int = _env("max_body_bytes", "UNDERTOW_API_MAX_BODY_BYTES", 5 << 20, ge=1)
    max_records: int = _env("max_records", "UNDERTOW_API_MAX_RECORDS", 5_000, ge=1, le=1_000_000)
    rate_limit_per_second: float = _env(
        "rate_limit_per_second", "UNDERTOW_API_RATE_LIMIT", 20.0, ge=0, allow_inf_nan=False
    )
    rate_limit_burst: int = _env("rate_limit_burst", "UNDERTOW_API_RATE_BURST", 100, ge=1)
    auth_failures_per_key: int = _env(
        "auth_failures_per_key", "UNDERTOW_API_AUTH_FAILURES", 5, ge=0
    )
    auth_failures_per_client: int = _env(
        "auth_failures_per_client", "UNDERTOW_API_AUTH_FAILURES_PER_CLIENT", 20, ge=0
    )
    auth_failure_window_s: float = _env(
        "auth_failure_window_s", "UNDERTOW_API_AUTH_FAILURE_WINDOW", 60.0, gt=0,
        allow_inf_nan=False,
    )  # fmt: skip
    auth_concurrency: int = _env(
        "auth_concurrency", "UNDERTOW_API_AUTH_CONCURRENCY", 2, ge=1, le=64
    )
    auth_wait_s: float = _env(
        "auth_wait_s", "UNDERTOW_API_AUTH_WAIT", 10.0, gt=0, le=300, allow_inf_nan=False
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = _env(
        "cors_origins", "UNDERTOW_API_CORS_ORIGINS", ()
    )
    access_log: bool = _env("access_log", "UNDERTOW_API_ACCESS_LOG", True)
    cache_seconds: float = _env(
        "cache_seconds", "UNDERTOW_API_CACHE_SECONDS", 30.0, ge=0, allow_inf_nan=False
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(o.strip() for o in value.split(",") if o.strip())
        return value

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ApiSettings:
        """Settings from ``environ`` (default the process environment); a bad value is a
        ``SettingsError`` naming its variable."""
        try:
            if environ is None:
                return cls()
            variables = cls.variables().values()
            return cls.model_validate(
                {v: environ[v] for v in variables if environ.get(v, "").strip()}
            )
        except ValidationError as exc:
            raise settings_error(exc, cls.variables().__getitem__) from None

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Field name -> its environment variable."""
        out = {}
        for name, f in cls.model_fields.items():
            assert isinstance(f.validation_alias, AliasChoices)
            out[name] = next(
                c for c in f.validation_alias.choices if isinstance(c, str) and c.isupper()
            )
        return out
