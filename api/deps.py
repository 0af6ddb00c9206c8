"""Dependencies of the routes, as ``Annotated`` aliases.

- ``SettingsDep``: the store settings, from the overridable ``get_settings`` (the app
  factory overrides it when given settings; tests may too).
- ``EngineDep``: the engine the lifespan opened (``app.state.engine``).
- ``PageCacheDep``: this worker's cache of rendered snapshot pages (``api.page_cache``).
- ``CurrentKey``: the verified caller (401 without a valid key; 429 over its rate, or
  after too many failed checks for its key id or client address, see ``api.keys``).
- ``require_roles(*roles)``: 403 unless the key has one of ``roles`` (admin always may).
- ``SentimentVersionDep`` / ``BackgroundScorerDep``: seams onto the nlp layer, overridable
  in tests so no model is loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from api.errors import ApiError
from api.keys import ApiKey, AuthThrottled, KeyVerifier
from api.page_cache import PageCache
from api.ratelimit import TokenBucketLimiter, retry_after_header
from api.settings import ApiSettings
from ingest.settings import Settings

log = logging.getLogger("undertow.api")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The store settings from the environment (override in ``app.dependency_overrides``)."""
    return Settings.from_env()


def get_api_settings(request: Request) -> ApiSettings:
    return request.app.state.api_settings  # type: ignore[no-any-return]


def get_engine(request: Request) -> Engine:
    engine = getattr(request.app.state, "engine", None)
    if engine is None:
        raise RuntimeError("the app's lifespan has not run: no engine on app.state")
    return engine  # type: ignore[no-any-return]


def get_page_cache(request: Request) -> PageCache:
    return request.app.state.page_cache  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
PageCacheDep = Annotated[PageCache, Depends(get_page_cache)]
ApiSettingsDep = Annotated[ApiSettings, Depends(get_api_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]

bearer = HTTPBearer(
    auto_error=False,
    description="An API key from `undertow keys create --role ROLE`: `Authorization: Bearer ut_...`",
)


def get_current_key(
    request: Request,
    engine: EngineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiKey:
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or not credentials.credentials:
        raise ApiError(
            401, "unauthorized", "missing API key: send Authorization: Bearer <key>", challenge
        )
    verifier: KeyVerifier = request.app.state.key_verifier
    client = request.client.host if request.client else "unknown"
    try:
        key = verifier.verify(engine, credentials.credentials, client=client)
    except AuthThrottled as exc:  # checked before scrypt: failed guesses stay cheap
        raise ApiError(
            429,
            "rate_limited",
            f"{exc}: retry later",
            retry_after_header(exc.retry_after_s),
        ) from None
    if key is None:
        raise ApiError(401, "unauthorized", "unknown or revoked API key", challenge)
    state = request.scope.setdefault("state", {})
    state["key_id"], state["role"] = key.key_id, key.role
    limiter: TokenBucketLimiter = request.app.state.rate_limiter
    wait = limiter.take(key.key_id)
    if wait > 0:
        raise ApiError(
            429, "rate_limited", "rate limit exceeded for this key", retry_after_header(wait)
        )
    return key


CurrentKey = Annotated[ApiKey, Depends(get_current_key)]


def ensure_role(key: ApiKey, roles: tuple[str, ...]) -> None:
    if not key.may(*roles):
        allowed = ", ".join((*roles, "admin"))
        raise ApiError(403, "forbidden", f"role '{key.role}' may not use this; allowed: {allowed}")


def require_roles(*roles: str) -> Callable[[ApiKey], ApiKey]:
    """A dependency that lets through keys of ``roles`` (and admin), else 403."""

    def dependency(key: CurrentKey) -> ApiKey:
        ensure_role(key, roles)
        return key

    return dependency


SalesKey = Annotated[ApiKey, Depends(require_roles("sales"))]
FinanceKey = Annotated[ApiKey, Depends(require_roles("finance"))]
MarketingKey = Annotated[ApiKey, Depends(require_roles("marketing"))]
AdminKey = Annotated[ApiKey, Depends(require_roles("admin"))]


def get_sentiment_version(settings: SettingsDep) -> str | None:
    """The sentiment model version new texts are scored with (None when unknown)."""
    from nlp.versions import current_sentiment_version

    return current_sentiment_version(settings)


SentimentVersionDep = Annotated[str | None, Depends(get_sentiment_version)]


def score_new_texts(engine: Engine, settings: Settings, kind: str) -> dict[str, Any]:
    """Score every unscored text (and classify attribution answers); runs after a response."""
    from nlp.scoring import score_store

    result: dict[str, Any] = {"score": score_store(engine, settings)}
    if kind == "attribution":
        from nlp.channels import classify_store

        result["channels"] = classify_store(engine, settings)
    return result


def get_background_scorer() -> Callable[[Engine, Settings, str], Any]:
    return score_new_texts


BackgroundScorerDep = Annotated[
    Callable[[Engine, Settings, str], Any], Depends(get_background_scorer)
]
