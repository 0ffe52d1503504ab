"""A webhook receiver on 127.0.0.1 for the tests: it records every POST (headers and raw
body) and answers the status codes it is told, in order (the last one repeats)."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.servers import loopback_http

__all__ = ["Received", "Receiver", "receiving"]


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What the server got, and what it answers next."""

    statuses: list[int] = field(default_factory=lambda: [200])
    got: list[Received] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, received: Received) -> int:
        with self._lock:
            self.got.append(received)
            return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """At least ``count`` requests, or a failed assertion after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.got) < count:
            assert time.monotonic() < deadline, f"{len(self.got)} of {count} deliveries came"
            time.sleep(0.02)
        return list(self.got)


@contextmanager
def receiving(*statuses: int) -> Iterator[Receiver]:
    """A receiver answering ``statuses`` in order (200 when none are given)."""
    receiver = Receiver(statuses=list(statuses) or [200])

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            status = receiver.answer(
                Received({k.lower(): v for k, v in self.headers.items()}, body)
            )
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    with loopback_http(Handler) as port:
        receiver.url = f"http://127.0.0.1:{port}/hook"
        yield receiver
