"""The agent's tools: the store's own operations, run as the chatting user.

Each tool returns readable text (the MCP tools' formats) and notes what it saw: hits found and
URIs read, from which the answer's citations are drawn. A store error is returned to the model
as ``Error [CODE]: ...`` text with a hint, so it can correct itself instead of failing the turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic_ai import RunContext, Tool
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets import AbstractToolset, FunctionToolset

from openviking_mcp.contract.audit_scope import audit_scope
from openviking_mcp.contract.errors import OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.search import render

if TYPE_CHECKING:
    from openviking_mcp.service import ContextService

__all__ = ["ChatDeps", "build_toolset"]

#: Characters of a read result handed to the model; longer texts end with a note.
MAX_READ_CHARS = 12_000
_MAX_LIMIT = 20


@dataclass
class ChatDeps:
    """What the tools of one turn work with."""

    service: ContextService
    ctx: RequestContext
    session_id: str
    disabled: frozenset[str] = frozenset()
    max_loop_count: int = 8
    instructions: str = ""
    seen: dict[str, str] = field(default_factory=dict)
    """URIs the tools showed the model (find/search hits, listings), with their context type."""
    read: list[str] = field(default_factory=list)
    """URIs the model read, in order."""

    def saw(self, uri: str, context_type: str = "resource") -> None:
        self.seen.setdefault(uri, context_type)


async def _guarded(run: Callable[[], Awaitable[str]]) -> str:
    try:
        with audit_scope("bot"):
            return await run()
    except OpenVikingError as exc:
        return render.error_text(exc)


def _note_hits(deps: ChatDeps, result: dict[str, Any]) -> None:
    for hit in render.typed_hits(result):
        deps.saw(str(hit["uri"]), hit["context_type"])


async def find(ctx: RunContext[ChatDeps], query: str, target_uri: str = "", limit: int = 5) -> str:
    """Semantic and keyword search over the user's memories, resources and skills.

    Returns URIs with scores and one-line abstracts, best first; read a URI to see its content.

    Args:
        query: What to look for, in natural language or exact terms.
        target_uri: Only search under this URI (empty: everywhere the user may read).
        limit: How many results (1-20).
    """
    deps = ctx.deps

    async def run() -> str:
        result = await deps.service.find(
            deps.ctx,
            query,
            target_uri=target_uri or None,
            limit=max(1, min(limit, _MAX_LIMIT)),
        )
        _note_hits(deps, result)
        return render.format_hits(result)

    return await _guarded(run)


async def search(ctx: RunContext[ChatDeps], query: str, limit: int = 5) -> str:
    """Search like find, but the query is refined with this conversation's recent messages.

    Args:
        query: What to look for.
        limit: How many results (1-20).
    """
    deps = ctx.deps

    async def run() -> str:
        result = await deps.service.search(
            deps.ctx, query, session_id=deps.session_id, limit=max(1, min(limit, _MAX_LIMIT))
        )
        _note_hits(deps, result)
        return render.format_hits(result)

    return await _guarded(run)


async def read(
    ctx: RunContext[ChatDeps],
    uri: str,
    level: Literal["abstract", "overview", "full"] = "full",
) -> str:
    """Read a viking:// URI: a file's content, or a directory's overview and listing.

    Args:
        uri: The URI to read, e.g. one returned by find.
        level: abstract (one line), overview (a page) or full.
    """
    deps = ctx.deps

    async def run() -> str:
        item = await deps.service.read_level(deps.ctx, uri, level)
        deps.saw(str(item["uri"]), str(item.get("context_type") or "resource"))
        if item["uri"] not in deps.read:
            deps.read.append(str(item["uri"]))
        text = str(item["text"])
        if len(text) > MAX_READ_CHARS:
            text = (
                text[:MAX_READ_CHARS] + f"\n\n[... {len(text) - MAX_READ_CHARS} more characters; "
                "grep the URI for specific lines]"
            )
        return text

    return await _guarded(run)


async def list_(ctx: RunContext[ChatDeps], uri: str = "viking://") -> str:
    """List a directory: '[dir] name' and '[file] name' lines.

    Start at viking:// to see the top-level scopes (resources, agent, user).

    Args:
        uri: The directory URI.
    """
    deps = ctx.deps

    async def run() -> str:
        base = (await deps.service.stat(deps.ctx, uri))["uri"]
        raw = await deps.service.ls(deps.ctx, base, output="agent", node_limit=200)
        entries = [render.listing_entry(e) for e in raw]
        return render.format_list(base, entries, False)

    return await _guarded(run)


async def grep(
    ctx: RunContext[ChatDeps], uri: str, pattern: str, case_insensitive: bool = False
) -> str:
    """Search file contents under a URI with a regular expression, line by line (like grep -n).

    Use it for exact names, identifiers and error strings; use find for meaning.

    Args:
        uri: The file or directory to search.
        pattern: A regular expression.
        case_insensitive: Ignore case.
    """
    deps = ctx.deps

    async def run() -> str:
        found = await deps.service.grep(
            deps.ctx, uri, pattern, case_insensitive=case_insensitive, node_limit=50
        )
        matches = [{**m, "pattern": pattern} for m in found["matches"]]
        for match in matches:
            deps.saw(str(match["uri"]))
        return render.format_grep(matches, 1, bool(found.get("truncated")))

    return await _guarded(run)


async def remember(ctx: RunContext[ChatDeps], facts: list[str]) -> str:
    """Store facts about the user as long-term memory (preferences, decisions, events).

    Use it when the user asks you to remember something or states a lasting preference.

    Args:
        facts: Short statements in the user's voice, e.g. "I prefer tabs over spaces".
    """
    deps = ctx.deps
    cleaned = [f.strip() for f in facts if f.strip()][:20]
    if not cleaned:
        return "Nothing to remember: pass at least one non-empty fact."

    async def run() -> str:
        messages = [{"role": "user", "content": fact} for fact in cleaned]
        result = await deps.service.remember(deps.ctx, messages, session_prefix="bot-remember")
        return (
            f"Stored {len(cleaned)} fact(s); memories are extracted in the background "
            f"(task {result.get('task_id') or 'none'})."
        )

    return await _guarded(run)


_TOOLS: dict[str, Callable[..., Awaitable[str]]] = {
    "find": find,
    "search": search,
    "read": read,
    "list": list_,
    "grep": grep,
    "remember": remember,
}


def build_toolset() -> AbstractToolset[ChatDeps]:
    """All store tools, filtered per turn: ``disabled_tools`` are hidden, and the turn's last
    model request gets no tools at all, so the model has to answer (``max_loop_count``)."""
    tools = [Tool(fn, name=name, takes_ctx=True) for name, fn in _TOOLS.items()]
    toolset = FunctionToolset[ChatDeps](tools)

    def visible(ctx: RunContext[ChatDeps], tool: ToolDefinition) -> bool:
        if ctx.run_step >= ctx.deps.max_loop_count:
            return False
        return tool.name not in ctx.deps.disabled

    return toolset.filtered(visible)
