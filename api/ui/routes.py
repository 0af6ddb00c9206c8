"""The ``/ui`` pages: sign-in, sign-out and one view per role, rendered on the server.

Access: every page but ``/ui/login`` needs a signed-in session (else a redirect to the
login page, which returns here afterwards); ``/ui/sales``, ``/ui/finance`` and
``/ui/marketing`` need that role or admin (else a 403 page); account and document pages
are open to every role, like ``GET /v1/accounts/{id}``.

Forms that change state (sign-in, sign-out, the finance view's scenario, which records a
forecast) are POSTs carrying the session's CSRF token in a hidden field; a missing or
wrong token, or an ``Origin`` header of another site, gets a 403 page. The filters of the
views are GET forms and change nothing beyond recording the base forecast they show
(the same one each time, as ``GET /v1/forecast``).
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from api.keys import AuthThrottled
from api.ratelimit import retry_after_header
from api.ui.session import (
    SessionCodec,
    UiSession,
    end_session,
    new_session,
    start_session,
    still_valid,
)
from ingest.errors import InputError, NotFoundError
from risk.errors import NoSnapshotError
from risk.feeds import SIGNAL_SORTS, SignalFilters
from risk.forecast import HORIZONS

ROLE_PAGES: dict[str, tuple[str, str]] = {  # role -> (path, title)
    "sales": ("/ui/sales", "Sales"),
    "finance": ("/ui/finance", "Finance"),
    "marketing": ("/ui/marketing", "Marketing"),
}
MAX_ASSUMPTIONS, MAX_ASSUMPTION_CHARS = 20, 300  # as GET /v1/forecast


class UiRedirect(Exception):
    """Answer with a 303 to ``location`` (e.g. to the login page)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class UiRefusal(Exception):
    """Answer with an HTML error page."""

    def __init__(
        self, status: int, title: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message
        self.headers = headers or {}


# ---------------------------------------------------------------- rendering
def security_headers(nonce: str) -> dict[str, str]:
    csp = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; "  # plotly.js injects its own styles
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    session: UiSession | None = None,
    status: int = 200,
) -> Response:
    ui = request.app.state.ui
    nonce = secrets.token_urlsafe(16)
    nav = []
    if session is not None and session.signed_in:
        nav = [
            {"path": path, "title": title, "active": request.url.path.startswith(path)}
            for role, (path, title) in ROLE_PAGES.items()
            if session.may(role)
        ]
    response = ui.templates.TemplateResponse(
        request,
        template,
        {"session": session, "nav": nav, "nonce": nonce, **context},
        status_code=status,
    )
    response.headers.update(security_headers(nonce))
    return response


# ---------------------------------------------------------------- access
def _codec(request: Request) -> SessionCodec:
    return request.app.state.ui.codec  # type: ignore[no-any-return]


def _safe_next(value: str | None) -> str | None:
    """Only a local /ui page may be a return address (no open redirect)."""
    if not value or len(value) > 512 or "\\" in value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ui/") or value.startswith("//"):
        return None
    return value


def _home(session: UiSession) -> str:
    if session.role in ROLE_PAGES:
        return ROLE_PAGES[session.role][0]
    return ROLE_PAGES["sales"][0]  # admin starts on the sales view


def signed_in(request: Request, *roles: str) -> UiSession:
    """The signed-in session (redirect to login if none); 403 page unless it has a role."""
    session = _codec(request).read(request)
    if (
        session is None
        or not session.signed_in
        or not still_valid(request.app.state.engine, session)
    ):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise UiRedirect(f"/ui/login?next={quote(target, safe='')}")
    state = request.scope.setdefault("state", {})
    state["key_id"], state["role"] = session.key_id, session.role  # for the access log
    if roles and not session.may(*roles):
        allowed = ", ".join((*roles, "admin"))
        raise UiRefusal(
            403,
            "Not for your role",
            f"The {session.role} role may not open this page (allowed: {allowed}).",
        )
    return session


def check_form(request: Request, session: UiSession | None, token: str | None) -> None:
    """CSRF: the hidden field must equal the session's token, and a browser-sent Origin
    must be this site."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        o = urlsplit(origin)
        if (o.scheme, o.netloc) != (request.url.scheme, request.url.netloc):
            raise UiRefusal(403, "Refused", "This form was sent from another site.")
    if session is None or not session.csrf_matches(token):
        raise UiRefusal(
            403,
            "Form expired",
            "The form's security token did not match: reload the page and try again.",
        )


def _parse_date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise UiRefusal(
            422, "Bad date", f"{name} must be a date like 2025-03-01, got {value[:40]!r}."
        ) from exc


def _assumption_lines(text: str) -> list[str]:
    """The scenario form's assumptions: one a line, blank lines dropped."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_ASSUMPTIONS:
        raise UiRefusal(
            422, "Too many assumptions", f"At most {MAX_ASSUMPTIONS} assumptions, got {len(lines)}."
        )
    return [line[:MAX_ASSUMPTION_CHARS] for line in lines]


def _forecast_links(weeks: int, assumptions: list[str]) -> dict[str, str]:
    query = urlencode([("weeks", weeks), *(("assumption", a) for a in assumptions)])
    return {fmt: f"/ui/forecast.{fmt}?{query}" for fmt in ("csv", "parquet")}


def _finance_page(
    request: Request,
    session: UiSession,
    horizon_days: int,
    weeks: int | None,
    assumptions: list[str] | None = None,
    name: str | None = None,
) -> Response:
    """The finance view: revenue at risk, then the pipeline forecast (with a scenario when
    ``assumptions`` are given); 422 when the forecast or the scenario was refused."""
    from api.ui import charts, views

    if horizon_days not in HORIZONS:
        raise UiRefusal(422, "Bad horizon", f"horizon_days must be one of {list(HORIZONS)}.")
    engine = request.app.state.engine
    data = views.finance_view(engine, horizon_days)
    figures = {}
    if data["run"] is not None:
        figures["revenue"] = charts.revenue_risk_figure(data["revenue"]["segments"], horizon_days)
        if any(m.get("calibration") for m in data["models"].values()):
            figures["calibration"] = charts.calibration_figure(
                data["models"], data["backtest"].get("horizon_days")
            )
    pipeline = views.pipeline_view(engine, weeks, assumptions, name)
    if pipeline.get("forecast"):
        figures["forecast"] = charts.forecast_fan_figure(
            pipeline["actual"], pipeline["forecast"], pipeline["measurement"]["outcome"],
            pipeline.get("scenario"),
        )  # fmt: skip
        pipeline["downloads"] = _forecast_links(pipeline["weeks"], [])
    if pipeline.get("scenario"):
        pipeline["scenario_downloads"] = _forecast_links(pipeline["weeks"], assumptions or [])
    refused = pipeline.get("forecast_error") or pipeline.get("scenario_error")
    return render(
        request,
        "finance.html",
        {**data, "figures": figures, "horizons": HORIZONS, "pipeline": pipeline},
        session=session,
        status=422 if refused else 200,
    )


# ---------------------------------------------------------------- routes
def _signal_filters(
    segment: str | None, min_arr: str | None, min_texts: str | None
) -> SignalFilters:
    """The sales view's filter form (empty fields: no filter); 422 page for bad values."""
    try:
        arr = float(min_arr) if min_arr not in (None, "") else None
        texts = int(min_texts) if min_texts not in (None, "") else None
    except ValueError as exc:
        raise UiRefusal(
            422, "Bad filter", "min_arr must be a number and min_texts a whole number."
        ) from exc
    if (arr is not None and not 0 <= arr <= 1e15) or (
        texts is not None and not 0 <= texts <= 100_000
    ):
        raise UiRefusal(422, "Bad filter", "min_arr and min_texts must be 0 or more.")
    return SignalFilters(segment or None, arr, texts)


def build_ui_router() -> APIRouter:
    """The router of every ``/ui`` page (``mount_ui`` adds it with its error pages)."""
    from api.ui import charts, views

    router = APIRouter(prefix="/ui", include_in_schema=False)

    @router.get("")
    @router.get("/")
    def ui_root(request: Request) -> Response:
        session = _codec(request).read(request)
        if (
            session is None
            or not session.signed_in
            or not still_valid(request.app.state.engine, session)
        ):
            return RedirectResponse("/ui/login", status_code=303)
        return RedirectResponse(_home(session), status_code=303)

    @router.get("/login")
    def login_page(
        request: Request, next: Annotated[str | None, Query(max_length=512)] = None
    ) -> Response:
        codec = _codec(request)
        session = codec.read(request) or new_session()
        ctx = {"next": _safe_next(next) or "", "error": None, "csrf": session.csrf}
        response = render(request, "login.html", ctx)
        codec.write(request, response, session)
        return response

    @router.post("/login")
    def login(
        request: Request,
        key: Annotated[str, Form(max_length=512)] = "",
        csrf_token: Annotated[str, Form(max_length=128)] = "",
        next: Annotated[str, Form(max_length=512)] = "",
    ) -> Response:
        codec = _codec(request)
        session = codec.read(request)
        check_form(request, session, csrf_token)
        assert session is not None
        client = request.client.host if request.client else "unknown"
        try:
            verified = request.app.state.key_verifier.verify(
                request.app.state.engine, key.strip(), client=client
            )
        except AuthThrottled as exc:
            message = (
                "Too many sign-ins at once: try again in a few seconds."
                if exc.scope == "server"
                else "Too many failed sign-ins from here: wait a minute and try again."
            )
            raise UiRefusal(
                429, "Too many attempts", message, retry_after_header(exc.retry_after_s)
            ) from None
        if verified is None:
            response = render(
                request,
                "login.html",
                {
                    "next": _safe_next(next) or "",
                    "error": "Unknown or revoked API key.",
                    "csrf": session.csrf,
                },
                status=401,
            )
            codec.write(request, response, session)
            return response
        fresh = start_session(  # a new session id and CSRF token at every sign-in
            request.app.state.engine, verified.key_id, verified.role, verified.name, codec.max_age_s
        )
        response = RedirectResponse(_safe_next(next) or _home(fresh), status_code=303)
        codec.write(request, response, fresh)
        return response

    @router.post("/logout")
    def logout(request: Request, csrf_token: Annotated[str, Form(max_length=128)] = "") -> Response:
        codec = _codec(request)
        session = codec.read(request)
        check_form(request, session, csrf_token)
        end_session(request.app.state.engine, session)
        response = RedirectResponse("/ui/login", status_code=303)
        codec.clear(response)
        return response

    @router.get("/sales")
    def sales(
        request: Request,
        limit: Annotated[int, Query(ge=1, le=200)] = 25,
        risk_sort: Annotated[str | None, Query(max_length=32)] = None,
        expansion_sort: Annotated[str | None, Query(max_length=32)] = None,
        segment: Annotated[str | None, Query(max_length=64)] = None,
        min_arr: Annotated[str | None, Query(max_length=32)] = None,
        min_texts: Annotated[str | None, Query(max_length=16)] = None,
    ) -> Response:
        session = signed_in(request, "sales")
        filters = _signal_filters(segment, min_arr, min_texts)
        sorts = {"risk": risk_sort or None, "expansion": expansion_sort or None}
        try:
            data = views.sales_view(
                request.app.state.engine, limit=limit, sorts=sorts, filters=filters
            )
        except InputError as exc:
            raise UiRefusal(422, "Bad parameter", str(exc)) from exc
        for rows in data["lists"].values():
            for r in rows:
                r["sparkline"] = charts.sparkline(r["spark"])
        query = {
            "segment": filters.segment,
            "min_arr": filters.min_arr,
            "min_texts": filters.min_texts,
        }
        kept = {k: v for k, v in query.items() if v is not None}
        data["downloads"] = {
            kind: "/ui/sales/signals.csv?"
            + urlencode({"list": kind, "sort": data["sorts"][kind], **kept})
            for kind in data["lists"]
        }
        data["filters"] = query
        data["sort_choices"] = SIGNAL_SORTS
        data["funnel"] = views.funnel_view(request.app.state.engine, "segment")
        data["funnel_csv"] = "/ui/funnel.csv?by=segment"
        return render(request, "sales.html", data, session=session)

    @router.get("/sales/signals.csv")
    def sales_csv(
        request: Request,
        list_kind: Annotated[str, Query(alias="list", max_length=16)] = "risk",
        sort: Annotated[str | None, Query(max_length=32)] = None,
        segment: Annotated[str | None, Query(max_length=64)] = None,
        min_arr: Annotated[str | None, Query(max_length=32)] = None,
        min_texts: Annotated[str | None, Query(max_length=16)] = None,
    ) -> Response:
        """A whole sales list as CSV, the rows and columns of ``GET /v1/signals?format=csv``."""
        from api.feed_formats import CSV_MEDIA_TYPE
        from api.routers.signals import signals_csv, signals_csv_name
        from risk.feeds import check_sort, signals_page

        signed_in(request, "sales")
        filters = _signal_filters(segment, min_arr, min_texts)
        try:
            order = check_sort(list_kind, sort or None)
            run, rows = signals_page(
                request.app.state.engine,
                list_kind,
                limit=None,
                sort=order,
                filters=filters,
            )
        except InputError as exc:
            raise UiRefusal(422, "Bad parameter", str(exc)) from exc
        except NoSnapshotError as exc:
            raise UiRefusal(
                409, "No risk snapshot", "No risk snapshot yet: run `undertow fit`."
            ) from exc
        headers = {
            "Content-Disposition": f'attachment; filename="{signals_csv_name(list_kind, order, run)}"',
            "X-Run-Id": run["run_id"],
            "Cache-Control": "no-store",
        }
        return Response(signals_csv(rows), media_type=CSV_MEDIA_TYPE, headers=headers)

    @router.get("/finance")
    def finance(
        request: Request,
        horizon_days: Annotated[int, Query()] = 90,
        weeks: Annotated[int | None, Query(ge=1, le=52)] = None,
    ) -> Response:
        session = signed_in(request, "finance")
        return _finance_page(request, session, horizon_days, weeks)

    @router.post("/finance/scenario")
    def finance_scenario(
        request: Request,
        csrf_token: Annotated[str, Form(max_length=128)] = "",
        assumptions: Annotated[str, Form(max_length=4000)] = "",
        name: Annotated[str, Form(max_length=128)] = "",
        weeks: Annotated[int | None, Form(ge=1, le=52)] = None,
        horizon_days: Annotated[int, Form()] = 90,
    ) -> Response:
        """Run and record a forecast under the form's assumptions; the finance view shows
        it beside the base plan (or the assumptions' error)."""
        session = signed_in(request, "finance")
        check_form(request, session, csrf_token)
        lines = _assumption_lines(assumptions)
        if not lines:
            raise UiRefusal(
                422,
                "No assumption",
                "Write at least one assumption, e.g. channel=event:spend*=0.5.",
            )
        return _finance_page(request, session, horizon_days, weeks, lines, name.strip() or None)

    @router.get("/finance/churn-risk.csv")
    def finance_csv(request: Request, horizon_days: Annotated[int, Query()] = 90) -> Response:
        """The finance feed as CSV, the columns of ``GET /v1/churn-risk?format=csv``."""
        from api.feed_formats import CSV_MEDIA_TYPE, render_feed
        from risk.feeds import churn_risk_page

        signed_in(request, "finance")
        if horizon_days not in HORIZONS:
            raise UiRefusal(422, "Bad horizon", f"horizon_days must be one of {list(HORIZONS)}.")
        try:
            run, rows = churn_risk_page(request.app.state.engine, horizon_days, limit=None)
        except NoSnapshotError as exc:
            raise UiRefusal(
                409, "No risk snapshot", "No risk snapshot yet: run `undertow fit`."
            ) from exc
        name = f"churn-risk-{horizon_days}d-{run['as_of'].isoformat()}.csv"
        headers = {
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Run-Id": run["run_id"],
            "X-Model-Version": run["model_version"],
            "Cache-Control": "no-store",
        }
        return Response(render_feed(rows, "csv"), media_type=CSV_MEDIA_TYPE, headers=headers)

    @router.get("/marketing")
    def marketing(
        request: Request,
        date_from: Annotated[str | None, Query(alias="from", max_length=32)] = None,
        date_to: Annotated[str | None, Query(alias="to", max_length=32)] = None,
    ) -> Response:
        session = signed_in(request, "marketing")
        lo, hi = _parse_date(date_from, "from"), _parse_date(date_to, "to")
        if lo and hi and lo > hi:
            raise UiRefusal(422, "Bad period", "'from' must not be after 'to'.")
        data = views.marketing_view(request.app.state.engine, lo, hi)
        impact = views.channel_impact_view(request.app.state.engine, lo, hi)
        figures = {}
        if impact.get("channels"):
            figures["roi"] = charts.roi_methods_figure(impact["channels"], impact["methods"])
            for curve in impact["curves"]:
                figures[f"curve-{curve['channel']}"] = charts.response_curve_figure(
                    curve, impact["outcome"]
                )
        if data["n"]:
            figures["channels"] = charts.channel_share_figure(data["channels"])
            if data["trends"]["month"]:
                figures["trend"] = charts.dark_trend_figure(data["trends"]["month"])
        funnel = views.funnel_view(request.app.state.engine, "channel", lo, hi)
        if funnel["groups"]:
            figures["funnel"] = charts.funnel_figure(funnel["groups"], "channel")
        period = "".join(f"&{k}={v}" for k, v in (("from", lo), ("to", hi)) if v)
        extra = {
            "figures": figures,
            "impact": impact,
            "funnel": funnel,
            "funnel_csv": f"/ui/funnel.csv?by=channel{period}",
        }
        return render(request, "marketing.html", {**data, **extra}, session=session)

    @router.get("/funnel.csv")
    def funnel_csv(
        request: Request,
        by: Annotated[str, Query(max_length=16)] = "channel",
        date_from: Annotated[str | None, Query(alias="from", max_length=32)] = None,
        date_to: Annotated[str | None, Query(alias="to", max_length=32)] = None,
    ) -> Response:
        """The funnel as CSV, the columns of ``GET /v1/funnel?format=csv``."""
        from api.feed_formats import CSV_MEDIA_TYPE
        from api.routers.funnel import funnel_file
        from marketing.errors import MarketingInputError

        signed_in(request, "sales", "marketing", "finance")
        lo, hi = _parse_date(date_from, "from"), _parse_date(date_to, "to")
        try:
            result = views.funnel_view(request.app.state.engine, by, lo, hi)
        except MarketingInputError as exc:
            raise UiRefusal(422, "Bad funnel request", str(exc)) from exc
        body, headers = funnel_file(result, "csv")
        return Response(
            body, media_type=CSV_MEDIA_TYPE, headers={**headers, "Cache-Control": "no-store"}
        )

    @router.get("/forecast.{fmt}")
    def forecast_download(
        request: Request,
        fmt: Annotated[str, Path(pattern="^(csv|parquet)$")],
        weeks: Annotated[int, Query(ge=1, le=52)] = 13,
        assumption: Annotated[list[str] | None, Query(max_length=MAX_ASSUMPTIONS)] = None,
    ) -> Response:
        """The pipeline forecast as CSV or Parquet, as ``GET /v1/forecast?format=...``."""
        from api.forecast_file import MEDIA_TYPES, forecast_file
        from marketing.errors import MarketingInputError, NoMeasurementError
        from marketing.forecast_ledger import run_forecast

        signed_in(request, "finance", "marketing")
        texts = [a[:MAX_ASSUMPTION_CHARS] for a in (assumption or [])]
        try:
            result = run_forecast(request.app.state.engine, weeks=weeks, assumptions=texts)
        except NoMeasurementError as exc:
            raise UiRefusal(
                409, "No measurement", "No marketing measurement yet: run `undertow measure`."
            ) from exc
        except MarketingInputError as exc:
            raise UiRefusal(422, "Bad forecast request", str(exc)) from exc
        body, headers = forecast_file(result, fmt)
        return Response(
            body, media_type=MEDIA_TYPES[fmt], headers={**headers, "Cache-Control": "no-store"}
        )

    @router.get("/accounts/{account_id:path}")
    def account(
        request: Request,
        account_id: Annotated[str, Path(max_length=128)],
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> Response:
        session = signed_in(request)
        try:
            data = views.account_view(request.app.state.engine, account_id, offset)
        except NotFoundError as exc:
            raise UiRefusal(404, "No such account", str(exc)) from exc
        figures = (
            {"trajectory": charts.trajectory_figure(data["trajectory"])}
            if data["trajectory"]
            else {}
        )
        if data["risk"] and data["risk"]["drivers"]:
            figures["drivers"] = charts.drivers_figure(data["risk"]["drivers"])
        api_path = f"/v1/provenance/{{metric}}/{quote(account_id, safe='')}"
        return render(
            request,
            "account.html",
            {**data, "figures": figures, "api_path": api_path},
            session=session,
        )

    @router.get("/documents/{document_id}")
    def document(request: Request, document_id: Annotated[int, Path(ge=1, le=2**62)]) -> Response:
        session = signed_in(request)
        try:
            data = views.document_view(request.app.state.engine, document_id)
        except NotFoundError as exc:
            raise UiRefusal(404, "No such text", str(exc)) from exc
        return render(request, "document.html", data, session=session)

    @router.get("/static/vendor/plotly.min.js")
    def plotly_js() -> Response:
        """plotly.js as shipped inside the installed ``plotly`` wheel."""
        return FileResponse(
            plotly_js_path(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
        )

    return router


def plotly_js_path() -> Any:
    from importlib.resources import files

    return files("plotly") / "package_data" / "plotly.min.js"


__all__ = ["UiRedirect", "UiRefusal", "build_ui_router", "check_form", "signed_in"]
