"""The stdio transport: ``openviking-mcp mcp`` for Claude Desktop's ``command`` configuration.

Logs go to stderr (stdout carries the protocol). The process opens the store itself; several
such processes may share one data directory (the content store, the metadata database, the
task queue and the index all coordinate across processes).
"""

from __future__ import annotations

from openviking_mcp.bot.service import ChatService
from openviking_mcp.config import OpenVikingConfig
from openviking_mcp.mcp_server._server import build_mcp_server
from openviking_mcp.service import ContextService

__all__ = ["run_stdio"]


async def run_stdio(
    config: OpenVikingConfig, *, account_id: str | None = None, user_id: str | None = None
) -> None:
    """Serve MCP on stdin/stdout until the client closes the stream."""
    service = ContextService(config)
    chat = ChatService(service, config.bot, config.vlm) if config.bot.enabled else None
    await service.initialize()
    try:
        caller = await service.local_context(account_id, user_id)
        server = build_mcp_server(service, caller=caller, chat=chat)
        await server.run_stdio_async()
    finally:
        if chat is not None:
            await chat.close()
        await service.close()
