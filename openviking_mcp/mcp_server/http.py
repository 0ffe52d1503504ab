"""The streamable HTTP transport: an ASGI endpoint served at exactly ``/mcp``.

**Stateless.** Every POST carries a complete JSON-RPC exchange and no MCP session is kept
between requests (``stateless_http=True``), as in the original server. Any worker can answer
any request, a restart loses nothing, and there is no session table to grow. Replies are plain
JSON (``json_response=True``): no tool streams notifications, and JSON is cheaper than SSE
framing (``benchmarks/mcp_overhead.py``). Clients still send
``Accept: application/json, text/event-stream`` as the protocol requires.

**Auth.** Requests are authenticated with the same keys and rules as the REST API
(``X-API-Key`` or ``Authorization: Bearer``; dev mode on loopback needs none). A failure is a
JSON-RPC error with the real HTTP status (401, 403 or 400). ``/mcp`` is also an OAuth 2.1
protected resource (docs/oauth.md): an access token of the built-in authorization server is
accepted as the bearer, and a 401 carries ``WWW-Authenticate: Bearer resource_metadata=...``
so MCP clients can discover how to sign in. When the server is bound to
loopback, DNS-rebinding protection is on: only ``localhost``/``127.0.0.1``/``[::1]`` Host and
Origin headers are accepted, so a web page cannot drive a local dev-mode server.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from openviking_mcp.auth.credentials import Credentials
from openviking_mcp.config import is_loopback_host
from openviking_mcp.contract.errors import OpenVikingError, error_to_envelope
from openviking_mcp.mcp_server._runtime import BASE_URL_SCOPE_KEY, CALLER_SCOPE_KEY
from openviking_mcp.mcp_server._server import build_mcp_server
from openviking_mcp.oauth.service import is_access_token
from openviking_mcp.service import ContextService

if TYPE_CHECKING:
    from openviking_mcp.bot.service import ChatService

__all__ = ["MCPEndpoint", "public_base_url"]

logger = logging.getLogger("openviking_mcp.mcp")

#: JSON-RPC error code of an authentication failure (the original's choice).
AUTH_ERROR_CODE = -32001
_LOOPBACK_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", "[::1]"]
#: Where the protected-resource metadata of ``/mcp`` is served (RFC 9728, http_api/oauth.py).
RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource/mcp"
_LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]


def public_base_url(service: ContextService, headers: Headers) -> str:
    """Base URL clients reach this server at, for links such as upload URLs.

    ``OPENVIKING_PUBLIC_BASE_URL`` → ``server.public_base_url`` → ``X-Forwarded-Proto/Host``
    → ``Host`` → the bind address (a wildcard bind maps to loopback).
    """
    configured = os.environ.get("OPENVIKING_PUBLIC_BASE_URL") or (
        service.config.server.public_base_url
    )
    if configured:
        return configured.rstrip("/")
    forwarded_host = headers.get("x-forwarded-host")
    if forwarded_host:
        proto = headers.get("x-forwarded-proto", "http").split(",")[0].strip()
        return f"{proto}://{forwarded_host.split(',')[0].strip()}"
    host = headers.get("host")
    if host:
        return f"http://{host}"
    server = service.config.server
    bind = "127.0.0.1" if server.host in ("0.0.0.0", "::", "") else server.host
    return f"http://{bind}:{server.port}"


class MCPEndpoint:
    """ASGI app for ``/mcp``. Enter :meth:`lifespan` around serving (the app's lifespan).

    ``chat`` is the bot of the ``chat`` tool (the HTTP app passes its own, and closes it)."""

    def __init__(self, service: ContextService, *, chat: ChatService | None = None) -> None:
        self.service = service
        self.server = build_mcp_server(service, chat=chat)
        loopback = is_loopback_host(service.config.server.host)
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=loopback,
            allowed_hosts=_LOOPBACK_HOSTS if loopback else [],
            allowed_origins=_LOOPBACK_ORIGINS if loopback else [],
        )
        self.server.streamable_http_app(
            streamable_http_path="/mcp",
            stateless_http=True,
            json_response=True,
            transport_security=security,
        )
        self._app = StreamableHTTPASGIApp(self.server.session_manager)

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        async with self.server.session_manager.run():
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        client = scope.get("client")
        creds = Credentials.from_headers(headers, client[0] if client else None)
        oauth = self.service.oauth
        try:
            if is_access_token(creds.api_key) and oauth.active:
                caller = await oauth.resolve(creds.api_key or "")
            else:
                caller = await self.service.auth.authenticate(creds)
        except OpenVikingError as exc:
            challenge = None
            if oauth.active and exc.http_status == 401:
                base = public_base_url(self.service, headers)
                challenge = f'Bearer resource_metadata="{base}{RESOURCE_METADATA_PATH}"'
                if creds.api_key:
                    challenge += ', error="invalid_token"'
            await _auth_error(exc, send, challenge)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        state[CALLER_SCOPE_KEY] = caller
        state[BASE_URL_SCOPE_KEY] = public_base_url(self.service, headers)
        await self._app(scope, receive, send)


async def _auth_error(exc: OpenVikingError, send: Send, challenge: str | None) -> None:
    status, _ = error_to_envelope(exc)
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": None,
            "error": {
                "code": AUTH_ERROR_CODE,
                "message": exc.message,
                "data": {"code": exc.code, "http_status": status},
            },
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *([(b"www-authenticate", challenge.encode())] if challenge else []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
