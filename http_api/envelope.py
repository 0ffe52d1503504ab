"""The response envelope and error handling shared by every route.

Success: ``{"status": "ok", "result": ..., "time": seconds}``. Error:
``{"status": "error", "error": {"code", "message", "details"}, "time": seconds}`` with the HTTP
status of the code. Every response carries ``X-Process-Time`` and ``X-Request-ID``. Validation
failures are 400 ``INVALID_ARGUMENT`` with ``details.validation_errors``; framework errors
(404, 405...) are wrapped too, never FastAPI's raw ``{"detail": ...}``.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openviking_mcp.contract.errors import (
    HTTP_STATUS_CODES,
    OpenVikingError,
    error_to_envelope,
    validation_items,
)

__all__ = ["REQUEST_ID_HEADER", "error_response", "install", "ok"]

logger = logging.getLogger("openviking_mcp.http")

REQUEST_ID_HEADER = "X-Request-ID"
PROCESS_TIME_HEADER = "X-Process-Time"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _elapsed(request: Request) -> float:
    start = getattr(request.state, "start_time", None)
    return round(time.perf_counter() - start, 6) if start else 0.0


def ok(request: Request, result: Any, status_code: int = 200) -> JSONResponse:
    """A success envelope."""
    body = {"status": "ok", "result": result, "time": _elapsed(request)}
    return JSONResponse(body, status_code=status_code)


def error_response(request: Request, status: int, error: dict[str, Any]) -> JSONResponse:
    body = {"status": "error", "error": error, "result": None, "time": _elapsed(request)}
    return JSONResponse(body, status_code=status)


async def _openviking_error(request: Request, exc: Exception) -> JSONResponse:
    status, error = error_to_envelope(exc)
    if not isinstance(exc, OpenVikingError):  # a bug: keep the traceback
        logger.exception("request failed: %s %s", request.method, request.url.path, exc_info=exc)
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


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    original = exc.status_code
    code = HTTP_STATUS_CODES.get(original) or ("INTERNAL" if original >= 500 else "UNKNOWN")
    status = 400 if original == 422 else 503 if original == 502 else original
    details: dict[str, Any] = {}
    if status != original:
        details["original_http_status_code"] = original
    message = exc.detail if isinstance(exc.detail, str) else "Request failed"
    return error_response(request, status, {"code": code, "message": message, "details": details})


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


def install(app: FastAPI) -> None:
    """Add the timing/request-id middleware and the error handlers to ``app``."""
    app.add_middleware(_TimingMiddleware)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _openviking_error)
