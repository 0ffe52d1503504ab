"""A recording ``httpx.MockTransport`` that answers with envelopes, for the client tests."""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import httpx

__all__ = ["Recorder", "envelope_error", "envelope_ok", "multipart_file"]

Handler = Callable[[httpx.Request], httpx.Response]


def envelope_ok(result: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"status": "ok", "result": result, "time": 0.001})


def envelope_error(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> httpx.Response:
    error = {"code": code, "message": message, "details": details or {}}
    return httpx.Response(status, json={"status": "error", "error": error, "result": None})


class Recorder:
    """Keeps every request; ``routes`` maps ``"METHOD /path"`` to a response or a handler."""

    def __init__(self, routes: dict[str, httpx.Response | Handler] | None = None) -> None:
        self.routes = dict(routes or {})
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.routes.get(f"{request.method} {request.url.path}")
        if answer is None:
            return envelope_error(404, "NOT_FOUND", f"no mock for {request.url.path}")
        return answer(request) if callable(answer) else answer

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def json(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def multipart_file(request: httpx.Request, field: str = "file") -> tuple[str, bytes]:
    """``(filename, data)`` of a multipart field of a recorded request."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.message_from_bytes(head + request.content, policy=email.policy.HTTP)
    assert isinstance(message, EmailMessage)
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        if part.get_param("name", header="content-disposition") == field:
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            return str(part.get_filename()), data
    raise AssertionError(f"no multipart field {field!r}")
