"""The response envelope and error handling shared by every route.

Success: ``{"status": "ok", "result": ..., "time": seconds}``. Error:
``{"status": "error", "error": {"code", "message", "details"}, "time": seconds}`` with the HTTP
status of the code. Every response carries ``X-Process-Time`` and ``X-Request-ID``. Validation
failures are 400 ``INVALID_ARGUMENT`` with ``details.validation_errors``; framework errors
(404, 405...) are wrapped too, never FastAPI's raw ``{"detail": ...}``: a method the path does
not serve is 405 ``INVALID_ARGUMENT`` with ``details.allowed`` and an ``Allow`` header.

Request headers over ``server.max_header_bytes`` are refused with 431 ``INVALID_ARGUMENT``.
A request body larger than ``server.max_body_bytes`` is refused with 413 ``INVALID_ARGUMENT``
(``details.limit``) before it is read whole: at once when ``Content-Length`` announces it, else
as soon as the streamed bytes pass the limit. Unexpected failures are logged off the event
loop with a capped traceback (:func:`openviking_mcp._logging.log_failure`).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openviking_mcp._logging import log_failure
from openviking_mcp.contract.errors import (
    HTTP_STATUS_CODES,
    OpenVikingError,
    PayloadTooLargeError,
    error_to_envelope,
    validation_items,
)

__all__ = ["REQUEST_ID_HEADER", "EnvelopeResponse", "error_response", "install", "ok"]

logger = logging.getLogger("openviking_mcp.http")

REQUEST_ID_HEADER = "X-Request-ID"
PROCESS_TIME_HEADER = "X-Process-Time"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _elapsed(request: Request) -> float:
    start = getattr(request.state, "start_time", None)
    return round(time.perf_counter() - start, 6) if start else 0.0


class EnvelopeResponse(JSONResponse):
    """A JSON response rendered by orjson (compact UTF-8, as :class:`JSONResponse`, several
    times faster); content orjson cannot encode (an integer past 64 bits, a subclass of
    ``str`` keys it refuses) falls back to the standard encoder. ``NaN`` and infinities
    become ``null``."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:
            return super().render(content)


def ok(
    request: Request,
    result: Any,
    status_code: int = 200,
    *,
    top_level: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """A success envelope; ``top_level`` fields sit next to ``status`` and ``result`` (such as
    a listing's ``has_more``)."""
    body = {"status": "ok", "result": result, **(top_level or {}), "time": _elapsed(request)}
    return EnvelopeResponse(body, status_code=status_code)


def error_response(
    request: Request,
    status: int,
    error: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"status": "error", "error": error, "result": None, "time": _elapsed(request)}
    try:
        return JSONResponse(body, status_code=status, headers=headers)
    except ValueError:  # details JSON cannot carry (NaN, 1e999): the error without them
        body["error"] = {**error, "details": {}}
        return JSONResponse(body, status_code=status, headers=headers)


async def _openviking_error(request: Request, exc: Exception) -> JSONResponse:
    status, error = error_to_envelope(exc)
    if not isinstance(exc, OpenVikingError):  # a bug: keep the (capped) traceback, off the loop
        log_failure(logger, "request failed: %s %s", request.method, request.url.path, exc=exc)
    elif status >= 500 and status != 501:  # a known failure (unavailable, timeout...)
        logger.warning(
            "request failed: %s %s: %s %s", request.method, request.url.path, exc.code, exc
        )
    return error_response(request, status, error)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    items = validation_items(exc.errors())
    first = items[0] if items else {"loc": [], "message": "invalid request"}
    message = f"Invalid request parameters: {'.'.join(first['loc'])}: {first['message']}"
    error = {
        "code": "INVALID_ARGUMENT",
        "message": message,
        "details": {"validation_errors": items},
    }
    return error_response(request, 400, error)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on the request's path (each method is matched against
    the routes as the router would, included routers too)."""
    routes = request.app.router.routes
    allowed: list[str] = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in routes):
            allowed.append(method)
    return allowed


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, _BodyTooLarge):
        return await _openviking_error(request, exc.error)
    original = exc.status_code
    fallback = "INTERNAL" if original >= 500 else "INVALID_ARGUMENT"
    code = HTTP_STATUS_CODES.get(original, fallback)
    status = 400 if original == 422 else 503 if original == 502 else original
    details: dict[str, Any] = {}
    headers = dict(exc.headers or {})
    if status != original or original not in HTTP_STATUS_CODES:
        details["original_http_status_code"] = original
    if original == 405:
        allowed = _allowed_methods(request) or sorted(
            m.strip() for m in headers.get("Allow", "").split(",") if m.strip()
        )
        details = {"allowed": allowed, "original_http_status_code": 405}
        headers["Allow"] = ", ".join(allowed)
    message = exc.detail if isinstance(exc.detail, str) else "Request failed"
    error = {"code": code, "message": message, "details": details}
    return error_response(request, status, error, headers or None)


class _BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` when a streamed body passes its limit. An ``HTTPException``
    because FastAPI re-raises those from body parsing (anything else becomes a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, "Request body too large")
        self.error = PayloadTooLargeError(
            f"Request body larger than {limit} bytes", {"limit": limit}
        )


def _head_size(scope: Scope) -> int:
    """Bytes of the request line's target and the headers, as received."""
    size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
    return size + sum(len(name) + len(value) + 4 for name, value in scope["headers"])


class _SizeLimitMiddleware:
    """Pure ASGI: refuses request headers over ``max_head`` bytes with 431 (the HTTP protocol
    refuses a head it receives in pieces; one that arrives whole reaches the app), and a body
    over ``limit`` bytes (``caps`` gives other limits to some paths) with 413, before the
    handler reads it whole."""

    def __init__(
        self, app: ASGIApp, limit: int, max_head: int, caps: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        self.max_head = max_head
        self.caps = dict(caps or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = _head_size(scope)
        if head > self.max_head:
            error = PayloadTooLargeError(
                f"Request line and headers larger than {self.max_head} bytes",
                {"limit": self.max_head, "original_http_status_code": 431},
            )
            await error_response(Request(scope), 431, error.to_dict())(scope, receive, send)
            return
        limit = self.caps.get(scope["path"], self.limit)
        announced = Headers(scope=scope).get("content-length", "")
        if announced.isascii() and announced.isdigit() and int(announced) > limit:
            error = _BodyTooLarge(limit).error
            response = error_response(Request(scope), 413, error.to_dict())
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)


class _TimingMiddleware:
    """Pure ASGI: stamps ``X-Process-Time`` and ``X-Request-ID`` on every HTTP response
    (streams included, without buffering them) and turns an exception that escapes the
    handlers into the error envelope if nothing was sent yet."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["start_time"] = start
        state["request_id"] = request_id
        started = False

        async def stamped(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers[PROCESS_TIME_HEADER] = f"{time.perf_counter() - start:.6f}"
                headers[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, stamped)
        except Exception as exc:
            if started:
                raise
            response = await _openviking_error(Request(scope), exc)
            await response(scope, receive, stamped)


def install(
    app: FastAPI,
    max_body_bytes: int,
    max_header_bytes: int,
    body_caps: dict[str, int] | None = None,
) -> None:
    """Add the size limits, the timing/request-id middleware and the error handlers to
    ``app`` (``body_caps``: paths with their own body limit, such as file uploads)."""
    app.add_middleware(
        _SizeLimitMiddleware, limit=max_body_bytes, max_head=max_header_bytes, caps=body_caps
    )
    app.add_middleware(_TimingMiddleware)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _openviking_error)
