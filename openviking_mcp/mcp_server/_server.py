"""Assembling the MCP server: tools, resources and prompts over one :class:`ContextService`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import MCPServer

from openviking_mcp._logging import keep_root_logger
from openviking_mcp._version import __version__
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.mcp_server._ratelimit import ratelimit_middleware
from openviking_mcp.mcp_server._runtime import Runtime
from openviking_mcp.mcp_server.prompts import catalog_middleware, register_prompts
from openviking_mcp.mcp_server.resources import register_resources
from openviking_mcp.mcp_server.tools import build_tools
from openviking_mcp.service import ContextService

if TYPE_CHECKING:
    from openviking_mcp.bot.service import ChatService

__all__ = ["INSTRUCTIONS", "build_mcp_server"]

INSTRUCTIONS = (
    "OpenViking is your long-term context store: memories, resources (documents, code, web "
    "pages) and skills in one viking:// filesystem. Use find (or search with a session_id) "
    "before answering questions about the user or their projects, read the URIs it returns, "
    "and cite them. The use-openviking prompt explains the layout."
)
_STATIC_PROMPTS = {"use-openviking"}


def build_mcp_server(
    service: ContextService,
    *,
    caller: RequestContext | None = None,
    chat: ChatService | None = None,
) -> MCPServer[Any]:
    """An MCP server over ``service``.

    ``caller`` fixes the identity every request acts as (stdio, in-process use); without it
    each request must arrive through :class:`~openviking_mcp.mcp_server.MCPEndpoint`, which
    authenticates it. ``chat`` is the bot of the ``chat`` tool, offered when the bot is on
    (``--with-bot``); whoever built it closes it.
    """
    runtime = Runtime(service, caller, chat)
    with_chat = chat is not None and service.config.bot.enabled  # --with-bot
    # The SDK calls logging.basicConfig with a rich handler on the root logger: that handler
    # renders tracebacks slowly, on whatever thread logs (the event loop). Undo it.
    with keep_root_logger():
        server = _new_server(runtime, with_chat)
    register_resources(server, runtime)
    register_prompts(server, runtime)
    server.middleware.append(catalog_middleware(runtime, _STATIC_PROMPTS))
    server.middleware.append(ratelimit_middleware(runtime))
    return server


def _new_server(runtime: Runtime, with_chat: bool) -> MCPServer[Any]:
    return MCPServer(
        "openviking",
        title="OpenViking",
        description="Context database for AI agents: memories, resources and skills.",
        instructions=INSTRUCTIONS,
        version=__version__,
        tools=build_tools(with_chat=with_chat),
        log_level="WARNING",
        warn_on_duplicate_tools=True,
        lifespan=runtime.lifespan,  # the tools find the runtime in the request context
    )
