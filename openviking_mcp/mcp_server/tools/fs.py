"""The filesystem tools: ``list``, ``tree``, ``stat``, ``copy`` and ``forget`` (delete)."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.mcp_server._models import (
    CopyResult,
    ForgetResult,
    ListResult,
    StatResult,
    TreeResult,
)
from openviking_mcp.mcp_server._runtime import Runtime
from openviking_mcp.mcp_server.tools._common import (
    READ_ONLY,
    ToolRegistry,
    Uri,
    mutating,
    run_tool,
)
from openviking_mcp.search import render as fmt

__all__ = ["copy", "forget", "list_", "register", "stat", "tree"]


async def list_(
    ctx: Context,
    uri: Annotated[str, Field(description="Directory URI.")] = "viking://",
    recursive: Annotated[bool, Field(description="Walk the whole subtree.")] = False,
) -> Annotated[CallToolResult, ListResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, ListResult]:
        svc = rt.service
        base = (await svc.stat(caller, uri))["uri"]
        raw = await svc.ls(caller, base, output="agent", recursive=recursive)
        entries = [fmt.listing_entry(e) for e in raw]
        text = fmt.format_list(base, entries, recursive)
        return text, ListResult.model_validate({"uri": base, "entries": entries})

    return await run_tool(ctx, run)


async def tree(
    ctx: Context,
    uri: Annotated[str, Field(description="Root of the tree.")] = "viking://",
    level_limit: Annotated[int, Field(ge=1, le=20, description="Maximum depth.")] = 3,
    node_limit: Annotated[int, Field(ge=1, le=10000, description="Maximum entries.")] = 1000,
    include_abstract: Annotated[bool, Field(description="Add directory abstracts.")] = False,
) -> Annotated[CallToolResult, TreeResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, TreeResult]:
        svc = rt.service
        base = (await svc.stat(caller, uri))["uri"]
        raw = await svc.tree(
            caller,
            base,
            output="agent" if include_abstract else "original",
            node_limit=node_limit,
            level_limit=level_limit,
        )
        entries = [fmt.listing_entry(e) for e in raw]
        truncated = len(entries) >= node_limit
        text = fmt.format_tree(base, entries, level_limit, truncated, node_limit)
        model = TreeResult.model_validate({"uri": base, "entries": entries, "truncated": truncated})
        return text, model

    return await run_tool(ctx, run)


async def stat(uri: Uri, ctx: Context) -> Annotated[CallToolResult, StatResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, StatResult]:
        info = await rt.service.stat(caller, uri)
        kind = "directory" if info["isDir"] else f"file, {info['size']} B"
        text = f"{info['uri']} ({kind}, {info['context_type']}, modified {info['modTime']})"
        return text, StatResult.model_validate(info)

    return await run_tool(ctx, run)


async def forget(
    uri: Uri,
    ctx: Context,
    recursive: Annotated[bool, Field(description="Delete a directory's content too.")] = False,
) -> Annotated[CallToolResult, ForgetResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, ForgetResult]:
        result = await rt.service.rm(caller, uri, recursive=recursive)
        return f"Deleted: {result['uri']}", ForgetResult.model_validate(result)

    return await run_tool(ctx, run)


async def copy(
    ctx: Context,
    from_uri: Annotated[str, Field(description="File or directory to copy.")],
    to_uri: Annotated[str, Field(description="New path of the copy (must not exist).")],
    recursive: Annotated[bool, Field(description="Needed to copy a directory.")] = False,
) -> Annotated[CallToolResult, CopyResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, CopyResult]:
        result = await rt.service.cp(caller, from_uri, to_uri, recursive=recursive)
        text = f"Copied {result['from']} to {result['to']} ({result['files_created']} file(s))."
        return text, CopyResult.model_validate(result)

    return await run_tool(ctx, run)


def register(tools: ToolRegistry) -> None:
    tools.add(
        list_,
        "list",
        READ_ONLY,
        "List a directory: '[dir] name' and '[file] name' lines (recursive: every URI below "
        "it). Start at viking:// to see the top-level scopes: resources, agent, user.",
    )
    tools.add(
        tree,
        "tree",
        READ_ONLY,
        "Show the directory tree under a URI, indented, with file sizes; "
        "include_abstract=true adds each directory's one-line abstract.",
    )
    tools.add(
        stat,
        "stat",
        READ_ONLY,
        "Metadata of a file or directory: size, type, modification time, context type.",
    )
    tools.add(
        copy,
        "copy",
        mutating(destructive=False, idempotent=False),
        "Copy a file, or a directory with recursive=true, to a new URI that must not exist "
        "yet. The copy is indexed for search like new content.",
    )
    tools.add(
        forget,
        "forget",
        mutating(destructive=True, idempotent=True),
        "Delete a file or directory (a memory, a resource...) and its index entries. A "
        "non-empty directory needs recursive=true. This cannot be undone.",
    )
