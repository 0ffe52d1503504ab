"""Running the app under uvicorn: logging off the event loop, and an HTTP/1.1 protocol that
answers a request it cannot parse with the error envelope.

uvicorn's h11 protocol answers a request head over its size limit (or any malformed request)
with a plain-text 400 and closes the socket at once, while the client is still sending: the
unread bytes make the kernel reset the connection, and the client usually sees only the reset.
:class:`EnvelopeH11Protocol` answers with the envelope instead (431 ``INVALID_ARGUMENT`` with
``details.limit`` for an oversized head, 400 ``INVALID_ARGUMENT`` for other malformed
requests), half-closes, and reads and drops what the client still sends (up to
:data:`DRAIN_MAX_BYTES` or :data:`DRAIN_SECONDS`) before closing, so the answer arrives.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from openviking_mcp._logging import configure_logging

__all__ = ["DRAIN_MAX_BYTES", "DRAIN_SECONDS", "EnvelopeH11Protocol", "run"]

#: Bytes read and dropped after refusing a request, before the socket is closed anyway.
DRAIN_MAX_BYTES = 4 * 1024 * 1024
#: Seconds the socket stays open after refusing a request, for the client to read the answer.
DRAIN_SECONDS = 2.0
_H11_DEFAULT = 16 * 1024  # h11's own limit, when none is configured


class _Connection(h11.Connection):
    """An ``h11.Connection`` that remembers the last protocol error it raised (its status
    hint tells an oversized head, 431, from other malformed requests, 400)."""

    last_error: h11.RemoteProtocolError | None = None

    def next_event(self) -> Any:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as exc:
            self.last_error = exc
            raise


def _envelope(status: int, message: str, details: dict[str, Any]) -> bytes:
    error = {"code": "INVALID_ARGUMENT", "message": message, "details": details}
    body = {"status": "error", "error": error, "result": None, "time": 0.0}
    return json.dumps(body).encode("utf-8")


class EnvelopeH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering unparseable requests with the envelope (module docs)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_head_bytes: int = self.config.h11_max_incomplete_event_size or _H11_DEFAULT
        self.conn = _Connection(h11.SERVER, self.max_head_bytes)
        self._draining = 0
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:  # the answer is sent: drop the rest of the request
            self._draining += len(data)
            if self._draining > DRAIN_MAX_BYTES:
                self.transport.close()
            return
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        """Called by uvicorn when h11 cannot parse the request."""
        error = self.conn.last_error if isinstance(self.conn, _Connection) else None
        status = 431 if error is not None and error.error_status_hint == 431 else 400
        if status == 431:
            message = f"Request line and headers larger than {self.max_head_bytes} bytes"
            details: dict[str, Any] = {"limit": self.max_head_bytes}
        else:
            message = f"Malformed HTTP request: {error}" if error else msg
            details = {}
        if status != 400:
            details["original_http_status_code"] = status
        body = _envelope(status, message, details)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            (b"x-request-id", uuid.uuid4().hex.encode()),
        ]
        response = h11.Response(status_code=status, headers=headers)
        for event in (response, h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self._refused = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(DRAIN_SECONDS, self.transport.close)


def run(app: Any, *, host: str, port: int, log_level: str, max_header_bytes: int) -> None:
    """Serve ``app`` with uvicorn: every log record is formatted on a thread (plain, bounded
    tracebacks), and requests are read by :class:`EnvelopeH11Protocol`."""
    import uvicorn

    configure_logging(log_level)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        log_config=None,  # uvicorn's loggers propagate to the root logger's queue
        http=EnvelopeH11Protocol,
        h11_max_incomplete_event_size=max_header_bytes,
    )
