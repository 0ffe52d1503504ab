"""The content tools: ``read`` (one or more URIs at a tier), ``write``, ``edit``, and the
tag tools ``set_tags`` and ``attrs``."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from openviking_mcp.contract.errors import OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.mcp_server._models import (
    AttrsResult,
    EditResult,
    ReadResult,
    TagsResult,
    WriteResult,
)
from openviking_mcp.mcp_server._runtime import Runtime, error_text
from openviking_mcp.mcp_server.tools._common import (
    READ_ONLY,
    Timeout,
    ToolRegistry,
    Uri,
    UriAlias,
    UriList,
    Wait,
    bad,
    mutating,
    run_tool,
)
from openviking_mcp.search import render as fmt

__all__ = ["attrs", "edit", "read", "register", "set_tags", "write"]

_MAX_READ_URIS = 50
_READ_CONCURRENCY = 10

Level = Annotated[
    Literal["abstract", "overview", "full"],
    Field(description="abstract (L0, a line), overview (L1, a page) or full (L2)."),
]


async def _read_all(
    rt: Runtime, caller: RequestContext, uris: list[str], level: str
) -> list[dict[str, Any]]:
    """Each URI's tier; with several URIs a failing one shows its error in place."""
    svc = rt.service
    if len(uris) == 1:  # a lone URI that fails is the tool's error
        return [{"error": "", **await svc.read_level(caller, uris[0], level)}]
    gate = asyncio.Semaphore(_READ_CONCURRENCY)

    async def one(uri: str) -> dict[str, Any]:
        async with gate:
            try:
                return {"error": "", **await svc.read_level(caller, uri, level)}
            except OpenVikingError as exc:
                return {"uri": uri, "level": level, "text": "", "error": error_text(exc)}

    return list(await asyncio.gather(*(one(u) for u in uris)))


async def read(
    ctx: Context,
    uris: UriList = [],  # noqa: B006  (never mutated)
    uri: UriAlias = [],  # noqa: B006  (clients guess either name)
    level: Level = "full",
) -> Annotated[CallToolResult, ReadResult]:
    wanted = list(dict.fromkeys([*uris, *uri]))

    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, ReadResult]:
        if not wanted or len(wanted) > _MAX_READ_URIS:
            raise bad(f"Pass between 1 and {_MAX_READ_URIS} URIs in uris (or uri)")
        items = await _read_all(rt, caller, wanted, level)
        return fmt.format_read(items), ReadResult.model_validate({"items": items})

    return await run_tool(ctx, run)


async def write(
    uri: Uri,
    content: Annotated[str, Field(description="The text to write.")],
    ctx: Context,
    mode: Annotated[
        Literal["replace", "append", "create"], Field(description="How to write.")
    ] = "replace",
    wait: Wait = False,
    timeout: Timeout = None,
) -> Annotated[CallToolResult, WriteResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, WriteResult]:
        result = await rt.service.write(caller, uri, content, mode=mode, wait=wait, timeout=timeout)
        return fmt.format_write(result), WriteResult.model_validate(result)

    return await run_tool(ctx, run)


async def edit(
    uri: Uri,
    old_string: Annotated[str, Field(min_length=1, description="Exact text to replace.")],
    new_string: Annotated[str, Field(description="Replacement text.")],
    ctx: Context,
    replace_all: Annotated[bool, Field(description="Replace every occurrence.")] = False,
    wait: Wait = False,
    timeout: Timeout = None,
) -> Annotated[CallToolResult, EditResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, EditResult]:
        result = await rt.service.edit(
            caller,
            uri,
            old_string,
            new_string,
            replace_all=replace_all,
            wait=wait,
            timeout=timeout,
        )
        return fmt.format_edit(result), EditResult.model_validate(result)

    return await run_tool(ctx, run)


async def set_tags(
    uri: Uri,
    ctx: Context,
    tags: Annotated[
        list[str], Field(description="k=v tags, e.g. ['team=core', 'status=draft'].")
    ] = [],  # noqa: B006  (never mutated)
    mode: Annotated[
        Literal["replace", "append", "clear"],
        Field(description="replace the path's tags, append (merge by key) or clear them."),
    ] = "replace",
    recursive: Annotated[
        bool, Field(description="Also tag every file and folder below a directory.")
    ] = False,
) -> Annotated[CallToolResult, TagsResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, TagsResult]:
        result = await rt.service.set_tags(caller, uri, tags, mode, recursive)
        shown = ", ".join(result["tags"]) or "(none)"
        text = f"{result['uri']}: tags {shown} ({mode}) on {result['success_count']} path(s)"
        return text, TagsResult.model_validate(result)

    return await run_tool(ctx, run)


async def attrs(uri: Uri, ctx: Context) -> Annotated[CallToolResult, AttrsResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, AttrsResult]:
        result = await rt.service.attrs(caller, uri)
        found = result["attrs"]
        lines = [result["uri"], f"tags: {', '.join(found['tags']) or '(none)'}"]
        lines += [f"{k}: {v}" for k, v in (found.get("memory") or {}).items()]
        flat = {"uri": result["uri"], "context_type": result["context_type"], **found}
        return "\n".join(lines), AttrsResult.model_validate(flat)

    return await run_tool(ctx, run)


def register(tools: ToolRegistry) -> None:
    tools.add(
        read,
        "read",
        READ_ONLY,
        "Read one or more URIs (uris, or uri: one URI or a list). level='full' (default) "
        "gives a file's content or, for a "
        "directory, its overview plus a listing; 'overview' and 'abstract' give shorter "
        "summaries (L1 and L0). Several URIs are returned as '=== uri ===' blocks; a URI "
        "that fails shows its error in place.",
    )
    tools.add(
        write,
        "write",
        mutating(destructive=True, idempotent=False),
        "Write a UTF-8 text file. mode='replace' overwrites, 'append' adds to the end; both "
        "create a missing file named .md .txt .json .yaml .yml .toml .py .js or .ts. "
        "'create' makes a new file of any name and fails if the file exists. Parent "
        "directories are created. The file is then re-indexed and its directory's summaries "
        "refreshed (wait=true blocks until done).",
    )
    tools.add(
        edit,
        "edit",
        mutating(destructive=True, idempotent=False),
        "Replace an exact string in a text file. old_string must occur exactly once unless "
        "replace_all=true (include surrounding lines to make it unique); 0 matches is an "
        "error. Read the file first to copy old_string exactly.",
    )
    tools.add(
        set_tags,
        "set_tags",
        mutating(destructive=False, idempotent=True),
        "Set explicit k=v retrieval tags on a file or directory (recursive=true: also "
        "everything below it). find/search with tags=[...] then return only paths carrying "
        "all of them. Tags are lower-cased; one value per key.",
    )
    tools.add(
        attrs,
        "attrs",
        READ_ONLY,
        "Show a path's attributes: its k=v retrieval tags and, for a memory file, the "
        "fields stored with it (memory_type, version, tags...).",
    )
