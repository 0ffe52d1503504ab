"""What the sync and async HTTP clients share: one request description per call, the envelope
unwrapping and the mapping of transport failures onto typed errors.

A :class:`Call` says which route to hit with which query, body and optional upload, and how to
turn the envelope's ``result`` into the method's return value. The clients only execute calls,
so both stay in step with :mod:`._http_calls`, where the calls are built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from openviking_mcp.client._uploads import UploadSource
from openviking_mcp.contract.errors import (
    HTTP_STATUS_CODES,
    ConnectionFailedError,
    DeadlineExceededError,
    InternalError,
    OpenVikingError,
    error_from_payload,
)

__all__ = [
    "TEMP_UPLOAD_PATH",
    "Call",
    "body",
    "call",
    "query",
    "request_timeout",
    "segment",
    "transport_error",
    "unwrap",
]

T = TypeVar("T")

TEMP_UPLOAD_PATH = "/api/v1/resources/temp_upload"
# Extra time a ``wait=True`` request gets beyond the server-side timeout it asked for.
_WAIT_MARGIN = 30.0


def _same(result: Any) -> Any:
    return result


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One API call. ``upload`` is sent to temp_upload first and its ``temp_file_id`` added to
    the JSON body; ``raw`` returns the body bytes instead of an envelope's ``result``;
    ``waits`` marks a call that blocks server-side for up to ``wait_timeout`` seconds."""

    method: str
    path: str
    convert: Callable[[Any], T]
    params: Mapping[str, Any] | None = None
    json: Mapping[str, Any] | None = None
    upload: UploadSource | None = None
    raw: bool = False
    waits: bool = False
    wait_timeout: float | None = None


def call(
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    json: Mapping[str, Any] | None = None,
    upload: UploadSource | None = None,
    raw: bool = False,
    waits: bool = False,
    wait_timeout: float | None = None,
    convert: Callable[[Any], Any] = _same,
) -> Call[Any]:
    """A :class:`Call`; its result type is what the building method declares."""
    return Call(method, path, convert, params, json, upload, raw, waits, wait_timeout)


def body(**fields: Any) -> dict[str, Any]:
    """A JSON body without the fields left at ``None`` (the server's defaults apply)."""
    return {k: v for k, v in fields.items() if v is not None}


def query(**fields: Any) -> dict[str, Any]:
    """Query parameters without ``None`` values (booleans become ``true``/``false``)."""
    return {k: v for k, v in fields.items() if v is not None}


def segment(value: object) -> str:
    """A value quoted for use as one path segment."""
    return quote(str(value), safe="")


def request_timeout(c: Call[Any], default: float) -> httpx.Timeout:
    """The HTTP timeout of a call: the client's, or for a waiting call the server-side wait
    plus a margin (no read limit when the wait itself has none)."""
    if not c.waits:
        return httpx.Timeout(default)
    read = c.wait_timeout + _WAIT_MARGIN if c.wait_timeout is not None else None
    return httpx.Timeout(read, connect=default)


def unwrap(response: httpx.Response, raw: bool = False) -> Any:
    """The envelope's ``result``; ``{"status": "error"}`` (or any non-2xx) raises the typed
    :class:`~openviking_mcp.contract.errors.OpenVikingError` with the server's code, message and
    details."""
    if response.is_success and raw:
        return response.content
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("status") == "error":
        error = data.get("error")
        raise error_from_payload(error if isinstance(error, dict) else {}, response.status_code)
    if not response.is_success:
        detail = data.get("detail") if isinstance(data, dict) else None
        text = detail if isinstance(detail, str) else response.text[:500]
        message = f"HTTP {response.status_code}: {text or response.reason_phrase}"
        code = HTTP_STATUS_CODES.get(response.status_code, "INTERNAL")
        details = {"http_status": response.status_code}
        raise error_from_payload({"code": code, "message": message, "details": details})
    if data is None:
        raise InternalError(
            "The server's answer is not JSON",
            {"http_status": response.status_code, "url": str(response.request.url)},
        )
    if isinstance(data, dict) and data.get("status") == "ok" and "result" in data:
        return data["result"]
    return data  # plain JSON routes such as /health


def transport_error(exc: httpx.TransportError, url: str, timeout: float) -> OpenVikingError:
    """A typed error for a request that got no answer: a timeout while waiting for the server
    is ``DEADLINE_EXCEEDED``, anything else (refused, reset, DNS...) a connection failure."""
    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
        return DeadlineExceededError("request", timeout)
    return ConnectionFailedError(
        f"Could not connect to the OpenViking server at {url}: {exc or type(exc).__name__}",
        {"url": url, "reason": type(exc).__name__},
    )
