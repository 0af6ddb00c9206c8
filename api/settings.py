"""Settings of the HTTP layer (limits, rate limit, CORS), read at the app factory.

The store settings (``ingest.settings.Settings``) stay separate: they are shared with the
CLI and flow down into the library; these only shape the HTTP boundary.

Environment variables (all optional):
- ``UNDERTOW_API_MAX_BODY_BYTES``: request bodies above this are refused with 413 (5 MiB).
- ``UNDERTOW_API_MAX_RECORDS``: records per ``POST /v1/ingest/{kind}`` (5,000).
- ``UNDERTOW_API_RATE_LIMIT``: sustained requests per second per API key (20; 0 = off).
- ``UNDERTOW_API_RATE_BURST``: bucket size, the burst a key may spend at once (100).
- ``UNDERTOW_API_AUTH_FAILURES``: failed key checks (wrong secret for a real key id)
  allowed per key id per window before 429, without running scrypt (5; 0 = off).
- ``UNDERTOW_API_AUTH_FAILURES_PER_CLIENT``: the same per client address, across key ids
  (20; 0 = off). Behind a proxy every caller shares the proxy's address: raise or switch
  it off there and limit at the proxy.
- ``UNDERTOW_API_AUTH_FAILURE_WINDOW``: seconds over which a spent budget refills (60).
- ``UNDERTOW_API_CORS_ORIGINS``: comma-separated allowed origins (empty = CORS off).
- ``UNDERTOW_API_CACHE_SECONDS``: lifetime of rendered feed pages (30; 0 = off); see
  ``api.page_cache``.

The rate limit is an in-memory token bucket per worker process: with ``--workers N`` a
key may reach N times the limit. Put a shared limiter (the proxy, Redis) in front when
that matters. The same holds for the failed-key budgets and the cache of verified keys
(``api.keys``): per worker, in memory; the API keeps no other state between requests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ApiSettings:
    max_body_bytes: int = 5 * 1024 * 1024
    max_records: int = 5_000
    rate_limit_per_second: float = 20.0
    rate_limit_burst: int = 100
    auth_failures_per_key: int = 5
    auth_failures_per_client: int = 20
    auth_failure_window_s: float = 60.0
    cors_origins: tuple[str, ...] = ()
    access_log: bool = True
    cache_seconds: float = 30.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ApiSettings:
        env = os.environ if environ is None else environ
        d = cls()
        origins = env.get("UNDERTOW_API_CORS_ORIGINS", "")
        return cls(
            max_body_bytes=int(env.get("UNDERTOW_API_MAX_BODY_BYTES", d.max_body_bytes)),
            max_records=int(env.get("UNDERTOW_API_MAX_RECORDS", d.max_records)),
            rate_limit_per_second=float(
                env.get("UNDERTOW_API_RATE_LIMIT", d.rate_limit_per_second)
            ),
            rate_limit_burst=int(env.get("UNDERTOW_API_RATE_BURST", d.rate_limit_burst)),
            auth_failures_per_key=int(
                env.get("UNDERTOW_API_AUTH_FAILURES", d.auth_failures_per_key)
            ),
            auth_failures_per_client=int(
                env.get("UNDERTOW_API_AUTH_FAILURES_PER_CLIENT", d.auth_failures_per_client)
            ),
            auth_failure_window_s=float(
                env.get("UNDERTOW_API_AUTH_FAILURE_WINDOW", d.auth_failure_window_s)
            ),
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            access_log=env.get("UNDERTOW_API_ACCESS_LOG", "1") != "0",
            cache_seconds=float(env.get("UNDERTOW_API_CACHE_SECONDS", d.cache_seconds)),
        )
