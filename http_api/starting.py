"""An ASGI app that answers from the first moment, while the real app is imported and built.

Importing the HTTP app pulls in FastAPI, the MCP SDK, LanceDB and pyarrow: seconds on a small
machine. :class:`StartingApp` lets uvicorn open the port first: it builds the real app in a
worker thread, runs the real app's lifespan in a task of its own, and until then answers
``/health`` itself (200, ``healthy: false``, what is loading), ``/ready`` with 503, and holds
every other request until the real app takes over (at most ``wait_seconds`` from arrival,
then 503 ``UNAVAILABLE`` in the error envelope). Once the real app serves, ``on_started``
(if given) runs alongside it, e.g. to announce when the start is over; it is cancelled at
shutdown, and its failure is only logged. This module imports nothing heavy.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from openviking_mcp._aio import wait_event
from openviking_mcp._logging import log_failure
from openviking_mcp._version import __version__

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.types import Receive, Scope, Send

__all__ = ["APPLICATION", "StartingApp"]

logger = logging.getLogger("openviking_mcp.http")

APPLICATION = "application"
"""What ``loading`` names while the app itself is being imported and built."""
_ARRIVED_KEY = "openviking.arrived"  # http_api.startup_gate.ARRIVED_KEY, without importing it


class StartingApp:
    """See the module docs. ``build`` runs in a worker thread; ``auth_mode`` and ``loading``
    (the steps the real app will load after it) fill the early ``/health`` answer."""

    def __init__(
        self,
        build: Callable[[], Starlette],
        *,
        auth_mode: str,
        loading: list[str],
        wait_seconds: float,
        on_started: Callable[[Starlette], Awaitable[None]] | None = None,
    ) -> None:
        self._build = build
        self._on_started = on_started
        self._auth_mode = auth_mode
        self._loading = [APPLICATION, *loading]
        self.wait_seconds = wait_seconds
        self.app: Starlette | None = None
        self.error: BaseException | None = None
        self._settled = asyncio.Event()  # the app serves, or building it failed
        self._stop = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        app = self.app
        if app is not None:
            await app(scope, receive, send)
            return
        if scope["type"] != "http":
            return  # a websocket before the app exists: closed unanswered
        state = scope.setdefault("state", {})
        arrived = float(state.setdefault(_ARRIVED_KEY, time.monotonic()))
        if scope["path"] == "/health":
            await _send_json(send, 200, self._health())
        elif scope["path"] == "/ready":
            await _send_json(send, 503, self._not_ready())
        else:
            await self._held(scope, receive, send, arrived)

    async def _held(self, scope: Scope, receive: Receive, send: Send, arrived: float) -> None:
        """Wait for the real app, then let it answer; UNAVAILABLE past the bound."""
        left = self.wait_seconds - (time.monotonic() - arrived)
        await wait_event(self._settled, left)
        if self.app is not None:
            await self.app(scope, receive, send)
            return
        if self.error is not None:
            message = f"The server could not start: {type(self.error).__name__}: {self.error}"
            details: dict[str, Any] = {"reason": "start_failed"}
        else:
            message = (
                f"The server is still starting (loading: {', '.join(self._loading)}); "
                f"gave up after {self.wait_seconds:g} s"
            )
            details = {"reason": "starting", "loading": self._loading}
        error = {"code": "UNAVAILABLE", "message": message, "details": details}
        body = {"status": "error", "error": error, "result": None, "time": 0.0}
        await _send_json(send, 503, body)

    def _health(self) -> dict[str, Any]:
        if self.error is not None:
            problems = [f"could not start: {type(self.error).__name__}: {self.error}"]
            loading: list[str] = []
        else:
            problems = [f"starting (loading: {', '.join(self._loading)})"]
            loading = self._loading
        report: dict[str, Any] = {
            "status": "ok",
            "healthy": False,
            "version": __version__,
            "auth_mode": self._auth_mode,
            "problems": problems,
        }
        if loading:
            report["loading"] = loading
        return report

    def _not_ready(self) -> dict[str, Any]:
        if self.error is not None:
            failure = f"error: {type(self.error).__name__}: {self.error}"
            return {"status": "not_ready", "reason": "start_failed", "error": failure}
        return {"status": "not_ready", "reason": "starting", "checks": {}, "loading": self._loading}

    # -- lifespan --------------------------------------------------------------------------

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """Startup completes at once (the app is built by :meth:`_run`); shutdown stops it."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._runner = asyncio.get_running_loop().create_task(self._run())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self._stop.set()
                if self._runner is not None:
                    await self._runner
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _run(self) -> None:
        """Build the app, then run its lifespan in this task (entered and left here) until
        shutdown."""
        try:
            app = await asyncio.to_thread(self._build)
            async with app.router.lifespan_context(app):
                self.app = app
                self._settled.set()
                watcher = asyncio.get_running_loop().create_task(self._watch(app))
                try:
                    await self._stop.wait()
                finally:
                    watcher.cancel()
                    await asyncio.gather(watcher, return_exceptions=True)
        except Exception as exc:
            self.error = exc
            log_failure(logger, "the HTTP app could not start", exc=exc)
        finally:
            self._settled.set()

    async def _watch(self, app: Starlette) -> None:
        """Run ``on_started``; a failure there never stops the server."""
        if self._on_started is None:
            return
        try:
            await self._on_started(app)
        except Exception as exc:
            log_failure(logger, "the start-up announcement failed", exc=exc)


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
