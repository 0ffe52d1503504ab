"""Rate limits on MCP tool calls: the limiter of the HTTP API, applied per ``tools/call``.

The tool's class comes from the operation it calls
(:func:`openviking_mcp.ratelimit.class_of_tool`), the bucket from the caller (the client
address in dev mode over HTTP), so a caller's HTTP requests and tool calls of one class draw
from the same bucket. A refusal is an ``isError`` tool result with the message of the HTTP
API's 429 (``Error [RESOURCE_EXHAUSTED]: ...``).
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import CallToolResult, TextContent

from openviking_mcp.contract.errors import OpenVikingError, ResourceExhaustedError
from openviking_mcp.mcp_server._runtime import Runtime, error_text
from openviking_mcp.ratelimit import bucket_identity, class_of_tool

__all__ = ["ratelimit_middleware"]


def ratelimit_middleware(rt: Runtime) -> Any:
    """Middleware refusing a tool call whose caller has used up its class's rate."""

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        limiter = rt.service.ratelimits
        if ctx.method != "tools/call" or not limiter.enabled:
            return await call_next(ctx)
        route_class = class_of_tool(str((ctx.params or {}).get("name") or ""))
        if route_class is None:
            return await call_next(ctx)
        try:
            caller = rt.caller_from(ctx.request)
        except OpenVikingError:
            return await call_next(ctx)  # the tool reports the missing caller
        client = getattr(ctx.request, "client", None)
        dev = rt.caller is None and rt.service.config.server.effective_auth_mode == "dev"
        identity = bucket_identity(caller, client.host if client else None, dev_mode=dev)
        try:
            limiter.check(identity, route_class)
        except ResourceExhaustedError as exc:
            text = TextContent(type="text", text=error_text(exc))
            return CallToolResult(content=[text], is_error=True)
        return await call_next(ctx)

    return middleware
