"""Every error the HTTP layer returns, mapped to a status in this one place.

- ``ApiError`` (401, 403, 409, 413, 429 ... raised by the api package itself)
- ``NoSnapshotError`` (no fit yet)                         -> 409 ``no_snapshot``
- ``NoMeasurementError`` (no `undertow measure` yet)        -> 409 ``no_measurement``
- ``ingest.errors.NotFoundError`` (unknown account, run)   -> 404 ``not_found``
- ``ingest.errors.InputError`` and request validation      -> 422 ``invalid_input``
- a value the database cannot hold (``sqlalchemy.exc.DataError``, e.g. a NUL
  character in an id on PostgreSQL)                       -> 422 ``invalid_input``
- unknown route / method                                   -> 404 / 405
- an unparsable request body                               -> 422 (not 400)
- anything else                                            -> 500 ``internal_error``, no
  internals in the body (the traceback goes to the log with the request id)

Bodies are ``ErrorBody``: ``{"error", "detail", "request_id"}``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas.common import ErrorBody
from ingest.errors import InputError, NotFoundError, UndertowError
from marketing.errors import NoMeasurementError
from risk.feeds import NoSnapshotError

log = logging.getLogger("undertow.api")


class ApiError(Exception):
    """An HTTP-level refusal decided by the api package."""

    def __init__(
        self, status: int, code: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers


def _request_id(request: Request) -> str | None:
    return request.scope.get("state", {}).get("request_id")


def error_response(
    request: Request, status: int, code: str, detail: Any, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(error=code, detail=detail, request_id=_request_id(request))
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(request, exc.status, exc.code, exc.detail, exc.headers)


async def _no_snapshot(request: Request, exc: Exception) -> JSONResponse:
    return error_response(request, 409, "no_snapshot", _first_line(exc))


async def _no_measurement(request: Request, exc: Exception) -> JSONResponse:
    return error_response(request, 409, "no_measurement", _first_line(exc))


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return error_response(request, 404, "not_found", _first_line(exc))


async def _input(request: Request, exc: Exception) -> JSONResponse:
    return error_response(request, 422, "invalid_input", _first_line(exc))


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return error_response(request, 422, "invalid_input", errors)


async def _data(request: Request, exc: Exception) -> JSONResponse:
    log.warning(
        "request %s: the database refused a value: %s", _request_id(request), _first_line(exc)
    )
    detail = "a parameter holds a value the store cannot take (e.g. a NUL character)"
    return error_response(request, 422, "invalid_input", detail)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # an unparsable body is bad input like any other: 422
        return error_response(request, 422, "invalid_input", str(exc.detail))
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    headers = dict(exc.headers) if exc.headers else None
    return error_response(request, exc.status_code, code, str(exc.detail), headers)


async def _undertow(request: Request, exc: Exception) -> JSONResponse:
    log.error("request %s failed: %s", _request_id(request), exc, exc_info=exc)
    return error_response(request, 500, "internal_error", "internal error; see the server log")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(NoSnapshotError, _no_snapshot)
    app.add_exception_handler(NoMeasurementError, _no_measurement)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(InputError, _input)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(DataError, _data)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(UndertowError, _undertow)


def error_doc(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: error_doc("no key, or an unknown or revoked key"),
    403: error_doc("the key's role may not use this route"),
    422: error_doc("bad parameters"),
    429: error_doc("rate limit of this key exceeded; retry after Retry-After seconds"),
}
SNAPSHOT_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: error_doc("no risk snapshot yet: run `undertow fit`"),
}
NOT_FOUND_RESPONSES: dict[int | str, dict[str, Any]] = {404: error_doc("unknown account or id")}
BODY_RESPONSES: dict[int | str, dict[str, Any]] = {413: error_doc("request body too large")}
