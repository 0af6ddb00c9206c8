"""Pure ASGI middleware: request id + access log + last-resort 500, and the body limit.

- ``RequestContextMiddleware``: takes ``X-Request-ID`` from the client when it is a
  short token (else makes one), returns it on the response, writes one JSON access-log
  line per request on the ``undertow.access`` logger (method, path without the query
  string, status, duration, the key's public id: never the key or a header value), and
  turns any exception that escaped the error handlers into a 500 JSON body without
  internals (the traceback goes to the ``undertow.api`` log).
  Every ``/v1`` response (and every JSON error made here) carries
  ``X-Content-Type-Options: nosniff`` and ``Cache-Control: no-store``: role-scoped data
  is never kept by a shared cache nor sniffed into another type.
- ``BodySizeLimitMiddleware``: refuses bodies above ``max_bytes`` with 413, from the
  Content-Length header or, for chunked uploads, while the body streams in.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("undertow.access")
error_log = logging.getLogger("undertow.api")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
API_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store")]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


async def _send_json(send: Send, status: int, body: dict[str, Any], request_id: str) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"x-request-id", request_id.encode()),
                *API_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, log_requests: bool = True) -> None:
        self.app = app
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False
        api_path = str(scope.get("path", "")).startswith("/v1")

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                if api_path:
                    names = {name.lower() for name, _ in headers}
                    headers += [(n, v) for n, v in API_HEADERS if n not in names]
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:  # the last resort: no traceback leaves the process
            error_log.error("request %s failed", request_id, exc_info=exc)
            if not response_started:
                status = 500
                body = {
                    "error": "internal_error",
                    "detail": "internal error; see the server log",
                    "request_id": request_id,
                }
                await _send_json(send, 500, body, request_id)
        finally:
            if self.log_requests and access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    json.dumps(
                        {
                            "request_id": request_id,
                            "method": scope.get("method"),
                            "path": scope.get("path"),
                            "status": status,
                            "ms": round((time.perf_counter() - started) * 1000, 2),
                            "key_id": state.get("key_id"),
                            "role": state.get("role"),
                        }
                    )
                )


class BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = scope.get("state", {}).get("request_id", "")
        too_large = {
            "error": "payload_too_large",
            "detail": f"request body exceeds {self.max_bytes} bytes; send fewer records per request",
            "request_id": request_id,
        }
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await _send_json(send, 413, too_large, request_id)
            return
        seen = 0
        exceeded = False
        replaced = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # Whatever the app made of the cut body (FastAPI answers 400), the client gets 413.
            nonlocal replaced
            if exceeded:
                if not replaced:
                    replaced = True
                    await _send_json(send, 413, too_large, request_id)
                return
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            if not replaced:
                await _send_json(send, 413, too_large, request_id)
