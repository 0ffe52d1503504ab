"""The search tools: ``find`` (semantic + keyword), ``search`` (session-aware, or an assembled
context block), ``grep`` (regular expressions over contents) and ``glob`` (path patterns)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.mcp_server._models import FindResult, GlobResult, GrepResult, SearchResult
from openviking_mcp.mcp_server._runtime import Runtime
from openviking_mcp.mcp_server.tools._common import (
    READ_ONLY,
    ContextType,
    Levels,
    Limit,
    PatternList,
    Query,
    TargetUri,
    Threshold,
    ToolRegistry,
    bad,
    run_tool,
)
from openviking_mcp.search import render as fmt

__all__ = ["find", "glob", "grep", "register", "search"]

SessionId = Annotated[str, Field(description="Session whose recent messages refine the query.")]
Mode = Annotated[
    Literal["list", "context"],
    Field(description="list: ranked URIs; context: an assembled context block."),
]
ListTarget = Annotated[
    str, Field(description="list mode only: search under this URI (empty: everywhere).")
]
MaxTokens = Annotated[int, Field(ge=64, le=32000, description="context mode: token budget.")]
Purpose = Annotated[
    Literal["auto", "chat", "coding"],
    Field(description="context mode: category quotas preset."),
]
Detail = Annotated[
    Literal["auto", "abstract", "overview", "full"],
    Field(description="context mode: tier of each entry (auto picks per category)."),
]
ExcludeUris = Annotated[
    list[str], Field(description="context mode: URIs to leave out (already seen).")
]
MinScore = Annotated[
    float | None,
    Field(ge=0, le=1, description="Another name for score_threshold (which wins if both are set)."),
]
DedupTurns = Annotated[
    int,
    Field(
        ge=0,
        le=50,
        description="context mode with session_id: leave out what the session's "
        "last N context assemblies already injected.",
    ),
]


async def find(
    query: Query,
    ctx: Context,
    target_uri: TargetUri = "",
    limit: Limit = 10,
    score_threshold: Threshold = None,
    level: Levels = [],  # noqa: B006 - pydantic copies defaults
    context_type: ContextType = "",
    min_score: MinScore = None,
) -> Annotated[CallToolResult, FindResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, FindResult]:
        result = await rt.service.find(
            caller,
            query,
            target_uri=target_uri or None,
            limit=limit,
            score_threshold=min_score if score_threshold is None else score_threshold,
            level=level or None,
            context_type=context_type or None,
        )
        return fmt.format_hits(result), FindResult.model_validate(result)

    return await run_tool(ctx, run)


async def search(
    query: Query,
    ctx: Context,
    session_id: SessionId = "",
    mode: Mode = "list",
    target_uri: ListTarget = "",
    limit: Limit = 10,
    score_threshold: Threshold = None,
    level: Levels = [],  # noqa: B006
    context_type: ContextType = "",
    max_tokens: MaxTokens = 1600,
    purpose: Purpose = "auto",
    detail: Detail = "auto",
    exclude_uris: ExcludeUris = [],  # noqa: B006
    dedup_turns: DedupTurns = 0,
    min_score: MinScore = None,
) -> Annotated[CallToolResult, SearchResult]:
    common: dict[str, Any] = {
        "session_id": session_id or None,
        "target_uri": target_uri or None,
        "limit": limit,
        "score_threshold": min_score if score_threshold is None else score_threshold,
        "level": level or None,
        "context_type": context_type or None,
    }
    assembly: dict[str, Any] = {
        "max_tokens": max_tokens,
        "purpose": None if purpose == "auto" else purpose,
        "detail": detail,
        "exclude_uris": exclude_uris or None,
        "dedup_turns": dedup_turns or None,
    }

    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, SearchResult]:
        if mode == "context":
            result = await rt.service.search(caller, query, mode="context", **assembly, **common)
            text = fmt.format_context(result)
        else:
            result = await rt.service.search(caller, query, **common)
            text = fmt.format_hits(result)
        return text, SearchResult.model_validate({**result, "mode": mode})

    return await run_tool(ctx, run)


async def grep(
    uri: Annotated[str, Field(description="File or directory to search.")],
    pattern: PatternList,
    ctx: Context,
    case_insensitive: Annotated[bool, Field(description="Ignore case.")] = False,
    node_limit: Annotated[int, Field(ge=1, le=1000, description="Maximum matching lines.")] = 50,
) -> Annotated[CallToolResult, GrepResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, GrepResult]:
        if not pattern:
            raise bad("pattern must not be empty")
        matches: list[dict[str, Any]] = []
        truncated = False
        for each in pattern:
            found = await rt.service.grep(
                caller,
                uri,
                each,
                case_insensitive=case_insensitive,
                node_limit=node_limit - len(matches),
            )
            matches += [{**m, "pattern": each} for m in found["matches"]]
            truncated = truncated or bool(found.get("truncated"))
            if len(matches) >= node_limit:
                truncated = True
                break
        text = fmt.format_grep(matches, len(pattern), truncated)
        model = GrepResult.model_validate(
            {"matches": matches, "count": len(matches), "truncated": truncated}
        )
        return text, model

    return await run_tool(ctx, run)


async def glob(
    pattern: Annotated[str, Field(description="Glob relative to uri, e.g. **/*.py.")],
    ctx: Context,
    uri: Annotated[str, Field(description="Directory to search under.")] = "viking://",
    node_limit: Annotated[int, Field(ge=1, le=10000, description="Maximum results.")] = 100,
) -> Annotated[CallToolResult, GlobResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, GlobResult]:
        result = await rt.service.glob(caller, pattern, uri=uri, node_limit=node_limit)
        return fmt.format_glob(pattern, result["matches"]), GlobResult.model_validate(result)

    return await run_tool(ctx, run)


def register(tools: ToolRegistry) -> None:
    tools.add(
        find,
        "find",
        READ_ONLY,
        "Semantic + keyword search over the store (memories, resources and skills). Returns "
        "URIs with scores and one-line abstracts, best first; read a URI to see its content. "
        "Use find for a standalone query; use search when a session's conversation should "
        "shape the query, or to get injection-ready context.",
    )
    tools.add(
        search,
        "search",
        READ_ONLY,
        "Session-aware search. mode='list' (default) works like find but expands the query "
        "with the recent messages of session_id. mode='context' assembles ready-to-inject "
        "context (memories by category, resources, skills) that fits in max_tokens, choosing "
        "for each entry its abstract, overview or full text.",
    )
    tools.add(
        grep,
        "grep",
        READ_ONLY,
        "Search file contents under a URI with regular expressions, line by line "
        "(like grep -n). Use it for exact names, identifiers and error strings; use find for "
        "meaning.",
    )
    tools.add(
        glob,
        "glob",
        READ_ONLY,
        "Find files by path pattern under a URI: * and ? within a name, ** across "
        "directories (e.g. '**/*.md'). Hidden files are never matched.",
    )
