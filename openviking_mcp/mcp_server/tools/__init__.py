"""The MCP tools: thin adapters from tool arguments to :class:`ContextService` calls.

One module per area (:mod:`.search`, :mod:`.content`, :mod:`.fs`, :mod:`.resources`,
:mod:`.system`, :mod:`.skills`, :mod:`.sessions`, :mod:`.chat`); each tool is a module-level
async function that finds the service and the caller in the request context, and each module's
``register`` adds its tools to a :class:`~._common.ToolRegistry`. Each tool returns a readable
text (the original's formats) and a structured result (its ``outputSchema``). Errors become
``isError`` results whose text says what to do.
"""

from __future__ import annotations

from mcp.server.mcpserver.tools import Tool

from openviking_mcp.mcp_server.tools import (
    chat,
    content,
    fs,
    resources,
    search,
    sessions,
    skills,
    system,
)
from openviking_mcp.mcp_server.tools._common import ToolRegistry

__all__ = ["ORDER", "ToolRegistry", "build_tools"]

#: The order ``tools/list`` shows the tools in: finding and reading first, then writing,
#: importing, health, skills, sessions and the bot.
ORDER = (
    "find",
    "search",
    "read",
    "list",
    "tree",
    "stat",
    "write",
    "edit",
    "add_resource",
    "grep",
    "glob",
    "forget",
    "copy",
    "health",
    "add_skill",
    "create_session",
    "add_message",
    "commit_session",
    "remember",
    "chat",
)


def build_tools(*, with_chat: bool) -> list[Tool]:
    """Every tool, in :data:`ORDER` (``chat`` only ``with_chat``: the bot is running)."""
    registry = ToolRegistry()
    for area in (search, content, fs, resources, system, skills, sessions):
        area.register(registry)
    if with_chat:
        chat.register(registry)
    rank = {name: index for index, name in enumerate(ORDER)}
    return sorted(registry.tools, key=lambda tool: rank.get(tool.name, len(rank)))
