"""What every tool, resource and prompt shares: the service, the caller and error handling.

The caller is fixed for stdio (the process's configured user) and comes from the HTTP request
over streamable HTTP, where the ``/mcp`` endpoint authenticated it and stored it in the ASGI
scope (see :mod:`.http`). The server's lifespan yields its :class:`Runtime`, so a tool finds it
in the request context (:func:`runtime_of`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

from openviking_mcp.contract.audit_scope import audit_scope
from openviking_mcp.contract.errors import OpenVikingError, UnauthenticatedError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.search.render import error_text
from openviking_mcp.service import ContextService

if TYPE_CHECKING:
    from openviking_mcp.bot.service import ChatService

__all__ = ["CALLER_SCOPE_KEY", "Runtime", "error_text", "runtime_of"]

logger = logging.getLogger("openviking_mcp.mcp")

#: Where the HTTP endpoint leaves the authenticated caller in ``scope["state"]``.
CALLER_SCOPE_KEY = "openviking_caller"
#: Where the HTTP endpoint leaves the public base URL (for upload links).
BASE_URL_SCOPE_KEY = "openviking_base_url"


@dataclass
class Runtime:
    service: ContextService
    caller: RequestContext | None = None
    """The fixed identity of a stdio server; ``None`` means: take it from the HTTP request."""
    chat: ChatService | None = None
    """The bot the ``chat`` tool asks (``None``: no ``chat`` tool)."""

    @asynccontextmanager
    async def lifespan(self, server: Any) -> AsyncIterator[Runtime]:
        """The server's lifespan: its state is this runtime (see :func:`runtime_of`)."""
        yield self

    def caller_of(self, ctx: Context | None) -> RequestContext:
        """The identity a tool call acts as."""
        return self.caller_from(_request_of(ctx))

    def caller_from(self, request: Any) -> RequestContext:
        """The identity for a transport request (``None`` over stdio and in process)."""
        if self.caller is not None:
            return self.caller
        state = request.scope.get("state", {}) if request is not None else {}
        caller = state.get(CALLER_SCOPE_KEY) if isinstance(state, dict) else None
        if not isinstance(caller, RequestContext):
            raise UnauthenticatedError("No authenticated caller for this MCP request")
        return caller

    def base_url_of(self, ctx: Context | None) -> str:
        request = _request_of(ctx)
        state = request.scope.get("state", {}) if request is not None else {}
        url = state.get(BASE_URL_SCOPE_KEY) if isinstance(state, dict) else None
        return str(url or "")

    async def call(
        self,
        ctx: Context | None,
        run: Callable[[RequestContext], Awaitable[tuple[str, BaseModel]]],
    ) -> CallToolResult:
        """Run a tool body; errors become ``isError`` results whose text says what to do."""
        try:
            with audit_scope("mcp"):
                caller = self.caller_of(ctx)
                text, structured = await run(caller)
        except OpenVikingError as exc:
            return _error(error_text(exc))
        except Exception:
            logger.exception("MCP tool failed")
            return _error("Error [INTERNAL]: the tool failed unexpectedly; see the server log.")
        return CallToolResult(
            content=[TextContent(type="text", text=text)],
            structured_content=structured.model_dump(mode="json", exclude_none=True),
        )


def runtime_of(ctx: Context) -> Runtime:
    """The runtime of the server a request reached: the state its lifespan yielded."""
    state = ctx.request_context.lifespan_context
    if not isinstance(state, Runtime):
        raise TypeError("The MCP server was not built by build_mcp_server (no runtime)")
    return state


def _error(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def _request_of(ctx: Context | None) -> Any:
    if ctx is None:
        return None
    try:
        return ctx.request_context.request
    except (ValueError, AttributeError):
        return None
