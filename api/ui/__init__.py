"""Role views in the browser: server-rendered pages under ``/ui`` on the API's app.

``mount_ui(app)`` adds them to an app made by ``api.app.create_app``: the ``/ui`` router
(``api.ui.routes``), its static files (``/ui/static``: the stylesheet, and plotly.js
served from the installed ``plotly`` wheel), the error pages of its own exceptions, and
``app.state.ui`` (templates, the session codec). Nothing is built at import. Sign-in
attempts are held back by the API's own key checks (``api.keys``: failure budgets per key
id and client address, and a bound on concurrent scrypts), one answer for both doors.

Pages: ``/ui/login`` (an API key -> session cookie, see ``api.ui.session``),
``/ui/logout``, ``/ui/sales``, ``/ui/finance`` (+ ``/ui/finance/churn-risk.csv``),
``/ui/marketing``, ``/ui/accounts/{id}``, ``/ui/documents/{id}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response


@dataclass
class UiState:
    templates: Any
    codec: Any


def _templates() -> Any:
    from fastapi.templating import Jinja2Templates
    from jinja2 import Environment, PackageLoader, select_autoescape

    from api.ui.formatting import FILTERS

    env = Environment(
        loader=PackageLoader("api.ui", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return Jinja2Templates(env=env)


def mount_ui(app: FastAPI, secret: str | None = None) -> FastAPI:
    """Add the ``/ui`` pages to ``app`` (returns it). ``secret`` signs the session
    cookies; default ``UNDERTOW_UI_SECRET`` or a per-process random one."""
    from pathlib import Path

    from fastapi.staticfiles import StaticFiles

    from api.ui.routes import UiRedirect, UiRefusal, build_ui_router, render
    from api.ui.session import SessionCodec, ui_secret

    app.state.ui = UiState(
        templates=_templates(),
        codec=SessionCodec(secret or ui_secret()),
    )
    app.include_router(build_ui_router())
    app.mount(
        "/ui/static", StaticFiles(directory=Path(__file__).parent / "static"), name="ui-static"
    )

    async def redirect(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, UiRedirect)
        return RedirectResponse(exc.location, status_code=303)

    async def refusal(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, UiRefusal)
        session = app.state.ui.codec.read(request)
        ctx = {"title": exc.title, "message": exc.message, "status": exc.status}
        response = render(request, "error.html", ctx, session=session, status=exc.status)
        response.headers.update(exc.headers)
        return response

    app.add_exception_handler(UiRedirect, redirect)
    app.add_exception_handler(UiRefusal, refusal)
    return app


__all__ = ["mount_ui"]
