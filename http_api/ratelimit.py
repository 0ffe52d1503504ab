"""Rate limits on the HTTP API: 429 ``RESOURCE_EXHAUSTED`` with ``Retry-After``.

:class:`RateLimitMiddleware` classifies each request by its route
(:func:`openviking_mcp.ratelimit.class_of_request`), authenticates the caller as the route
will (a request that fails to authenticate is left to the route's own 401/403), and takes a
token from the caller's bucket of that class (:class:`~openviking_mcp.ratelimit.RateLimitService`).
A refusal is the error envelope (``details``: ``class``, ``limit``, ``burst``,
``retry_after``); on WebDAV it is plain text, as WebDAV's other errors. Nothing is done when
``rate_limits.enabled`` is off. ``/mcp`` is limited per tool call by the MCP server itself.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from http_api.deps import get_caller
from http_api.envelope import error_response
from http_api.routers.webdav import webdav_caller
from openviking_mcp.contract.errors import OpenVikingError, ResourceExhaustedError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.ratelimit import RouteClass, bucket_identity, class_of_request
from openviking_mcp.ratelimit.classes import WEBDAV_PREFIX
from openviking_mcp.service import ContextService

__all__ = ["RETRY_AFTER_HEADER", "RateLimitMiddleware"]

RETRY_AFTER_HEADER = "Retry-After"


class RateLimitMiddleware:
    """Pure ASGI middleware (see the module docs)."""

    def __init__(self, app: ASGIApp, service: ContextService) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter = self.service.ratelimits
        if scope["type"] != "http" or not limiter.enabled:
            await self.app(scope, receive, send)
            return
        route_class = class_of_request(scope["method"], scope["path"])
        if route_class is not None:
            refusal = await self._refusal(scope, route_class)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _refusal(self, scope: Scope, route_class: RouteClass) -> Response | None:
        """The 429 answer when the caller's bucket is empty, else ``None``."""
        # A private state: the caller found here is not the one the route authenticates.
        request = Request({**scope, "state": {}})
        try:
            caller = await _caller(request)
        except OpenVikingError:
            return None  # the route answers the authentication failure
        client = scope.get("client")
        dev = self.service.config.server.effective_auth_mode == "dev"
        identity = bucket_identity(caller, client[0] if client else None, dev_mode=dev)
        try:
            self.service.ratelimits.check(identity, route_class)
        except ResourceExhaustedError as exc:
            headers = {RETRY_AFTER_HEADER: str(exc.details["retry_after"])}
            if scope["path"].startswith(WEBDAV_PREFIX):
                return Response(f"{exc.message}\n", 429, headers=headers, media_type="text/plain")
            return error_response(Request(scope), exc.http_status, exc.to_dict(), headers)
        return None


async def _caller(request: Request) -> RequestContext:
    if request.url.path.startswith(WEBDAV_PREFIX):
        return await webdav_caller(request)
    return await get_caller(request)
