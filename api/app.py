"""The HTTP application factory.

``create_app(settings=None)`` builds a fresh FastAPI app and holds no state at import:
the store settings come from the overridable ``api.deps.get_settings`` dependency (the
factory overrides it when given ``settings``), the engine is opened in the lifespan and
kept on ``app.state.engine``. Per-process helpers (key verifier cache, rate limiter)
live on ``app.state`` too; nothing is shared between workers except the database, so
``undertow serve --workers N`` multiplies freely.

Run it with ``undertow serve`` or ``uvicorn --factory api.app:create_app``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.deps import get_settings
from api.errors import install_error_handlers
from api.json_safe import SafeJSONResponse
from api.keys import KeyVerifier
from api.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from api.page_cache import PageCache
from api.ratelimit import TokenBucketLimiter
from api.routers import (
    accounts,
    channel_impact,
    churn_risk,
    dark_funnel,
    forecast,
    funnel,
    health,
    ingest,
    provenance,
    signals,
)
from api.settings import ApiSettings
from api.ui import mount_ui
from ingest.settings import Settings

DESCRIPTION = """Customer sentiment, churn risk and dark-funnel measurement, per role.

Every `/v1` route needs `Authorization: Bearer <key>` (`undertow keys create --role ROLE`).
Roles: sales, finance, marketing, admin (admin may do everything). Lists are paginated
with `limit` and an opaque `cursor` (pass back `next_cursor`). Errors are
`{"error", "detail", "request_id"}`.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    from ingest.db.engine import open_store

    if getattr(app.state, "engine", None) is not None:
        yield  # nested start (a test client inside a running app): share the engine
        return
    resolve = app.dependency_overrides.get(get_settings, get_settings)
    settings: Settings = resolve()
    app.state.settings = settings
    app.state.engine = open_store(settings)
    try:
        yield
    finally:
        app.state.engine.dispose()
        app.state.engine = None


def mount_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI from the assets of the installed ``swagger-ui-bundle`` package
    (``/docs/static``), so the page works offline and loads nothing from another site."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles
    from starlette.responses import HTMLResponse
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs/static", StaticFiles(directory=swagger_ui_path), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API docs",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon-32x32.png",
        )


def create_app(
    settings: Settings | None = None, api_settings: ApiSettings | None = None
) -> FastAPI:
    """A new app for ``settings`` (default: the environment, via ``get_settings``)."""
    api_settings = api_settings or ApiSettings.from_env()
    app = FastAPI(
        title="Undertow",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=SafeJSONResponse,
        docs_url=None,  # served below from the installed swagger-ui-bundle, not a CDN
        redoc_url=None,
    )
    mount_docs(app)
    if settings is not None:
        app.dependency_overrides[get_settings] = lambda: settings
    app.state.api_settings = api_settings
    app.state.key_verifier = KeyVerifier(
        api_settings.auth_failures_per_key,
        api_settings.auth_failures_per_client,
        api_settings.auth_failure_window_s,
        api_settings.auth_concurrency,
        api_settings.auth_wait_s,
    )
    app.state.page_cache = PageCache(api_settings.cache_seconds)
    app.state.rate_limiter = TokenBucketLimiter(
        api_settings.rate_limit_per_second, api_settings.rate_limit_burst
    )
    for module in (health, signals, accounts, churn_risk, dark_funnel, channel_impact, forecast,
                   funnel, provenance, ingest):  # fmt: skip
        app.include_router(module.router)
    mount_ui(app)
    install_error_handlers(app)
    # Added last = outermost: request id and access log wrap everything.
    if api_settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(api_settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=api_settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, log_requests=api_settings.access_log)
    return app
