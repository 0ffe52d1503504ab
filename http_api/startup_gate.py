"""Requests wait while the service starts in the background.

:class:`StartupGate` holds every request but the probes until the service serves (its
storage is open and its embedding model loaded), at most ``server.startup_wait_seconds``
counted from when the request arrived (:data:`ARRIVED_KEY`, set by whoever saw it first);
past that the request fails with 503 ``UNAVAILABLE``.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from http_api.docs import DOCS_PATHS
from openviking_mcp.service import ContextService

__all__ = ["ARRIVED_KEY", "NO_WAIT_PATHS", "StartupGate"]

ARRIVED_KEY = "openviking.arrived"
"""``scope["state"]`` key: ``time.monotonic()`` when the request arrived."""

NO_WAIT_PATHS = frozenset({"/health", "/ready", "/metrics", "/openapi.json", *DOCS_PATHS})
"""Paths that answer at once while the service starts (the docs pages with their assets)."""


class StartupGate:
    """Pure ASGI middleware (see the module docs); raises ``UNAVAILABLE``, which the envelope
    middleware around it turns into the error envelope."""

    def __init__(self, app: ASGIApp, service: ContextService) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        startup = self.service.startup
        if (
            scope["type"] == "http"
            and startup is not None
            and not startup.serving
            and scope["path"] not in NO_WAIT_PATHS
        ):
            state = scope.setdefault("state", {})
            arrived = float(state.setdefault(ARRIVED_KEY, time.monotonic()))
            waited = time.monotonic() - arrived
            await startup.wait_serving(startup.wait_seconds - waited)
        await self.app(scope, receive, send)
