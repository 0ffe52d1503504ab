"""Pure ASGI middleware: every HTTP request runs in an audit scope (surface and request id).

The surface is ``webdav`` under ``/webdav``, ``http`` elsewhere (MCP's tools open their own
``mcp`` scope inside ``/mcp``, and the bot's tools a ``bot`` one). The request id is the one
the envelope's middleware chose (``X-Request-ID``), so entries and responses match.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from openviking_mcp.contract.audit_scope import audit_scope

__all__ = ["AuditScopeMiddleware"]


class AuditScopeMiddleware:
    """See the module docs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        surface = "webdav" if path == "/webdav" or path.startswith("/webdav/") else "http"
        request_id = scope.get("state", {}).get("request_id")
        with audit_scope(surface, request_id if isinstance(request_id, str) else None):
            await self.app(scope, receive, send)
