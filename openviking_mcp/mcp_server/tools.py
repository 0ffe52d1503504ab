"""The MCP tools: thin adapters from tool arguments to :class:`ContextService` calls.

Each tool returns a readable text (the original's formats) and a structured result (its
``outputSchema``). Errors become ``isError`` results whose text says what to do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BeforeValidator, Field

from openviking_mcp.contract.errors import InvalidArgumentError, NotFoundError, OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.mcp_server._models import (
    AddResourceResult,
    EditResult,
    FindResult,
    ForgetResult,
    GlobResult,
    GrepResult,
    HealthResult,
    ListResult,
    ReadResult,
    SearchResult,
    StatResult,
    TreeResult,
    WriteResult,
)
from openviking_mcp.mcp_server._runtime import Runtime, error_text
from openviking_mcp.mcp_server._schema import portable_schema
from openviking_mcp.mcp_server._uploads import upload_instructions
from openviking_mcp.search import render as fmt

__all__ = ["ToolRegistry", "register_tools"]

_F = TypeVar("_F", bound=Callable[..., Any])

_READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
_MAX_READ_URIS = 50
_READ_CONCURRENCY = 10


def _as_list(value: Any) -> Any:
    """Accept one string where a list of strings is expected (models often send one)."""
    return [value] if isinstance(value, str) else value


def _annotations(
    *, destructive: bool, idempotent: bool, open_world: bool = False
) -> ToolAnnotations:
    return ToolAnnotations(
        read_only_hint=False,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=open_world,
    )


Query = Annotated[str, Field(description="What to look for, in natural language.")]
TargetUri = Annotated[
    str,
    Field(
        description="Only search under this URI, e.g. viking://resources/my-project "
        "(empty: resources, agent and your own user space)."
    ),
]
Limit = Annotated[int, Field(ge=1, le=200, description="Maximum number of results.")]
Threshold = Annotated[
    float | None,
    Field(ge=0.0, le=1.0, description="Drop results scoring below this (0-1)."),
]
Levels = Annotated[
    list[int],
    Field(
        description="Only these tiers: 0 directory abstracts, 1 directory overviews, "
        "2 file content. Empty: all."
    ),
]
ContextType = Annotated[
    str,
    Field(description="Only memory, resource or skill (comma-separated for several; empty: all)."),
]
Uri = Annotated[str, Field(description="A viking:// URI, e.g. viking://resources/docs/guide.md.")]
Wait = Annotated[
    bool,
    Field(description="Block until the change is indexed and summaries are refreshed."),
]
Timeout = Annotated[
    float | None, Field(ge=0, description="Seconds to wait at most (with wait=true).")
]
UriList = Annotated[
    list[str],
    BeforeValidator(_as_list),
    Field(description="One or more viking:// URIs."),
]
PatternList = Annotated[
    list[str],
    BeforeValidator(_as_list),
    Field(description="Regular expression(s) (Python syntax) matched against each line."),
]


class ToolRegistry:
    """Collects tools like ``MCPServer.tool`` does, so their schemas can be made portable
    before the server is built."""

    def __init__(self) -> None:
        self.tools: list[Tool] = []

    def tool(
        self, *, name: str, description: str, annotations: ToolAnnotations
    ) -> Callable[[_F], _F]:
        def decorator(fn: _F) -> _F:
            tool = Tool.from_function(
                fn, name=name, description=description, annotations=annotations
            )
            tool.parameters = portable_schema(tool.parameters)
            if tool.fn_metadata.output_schema is not None:
                tool.fn_metadata.output_schema = portable_schema(tool.fn_metadata.output_schema)
            self.tools.append(tool)
            return fn

        return decorator


def register_tools(registry: ToolRegistry, rt: Runtime) -> None:
    """Add the core store tools to ``registry``."""
    svc = rt.service

    @registry.tool(
        name="find",
        annotations=_READ_ONLY,
        description=(
            "Semantic + keyword search over the store (memories, resources and skills). Returns "
            "URIs with scores and one-line abstracts, best first; read a URI to see its content. "
            "Use find for a standalone query; use search when a session's conversation should "
            "shape the query, or to get injection-ready context."
        ),
    )
    async def find(
        query: Query,
        ctx: Context,
        target_uri: TargetUri = "",
        limit: Limit = 10,
        score_threshold: Threshold = None,
        level: Levels = [],  # noqa: B006 - pydantic copies defaults
        context_type: ContextType = "",
    ) -> Annotated[CallToolResult, FindResult]:
        async def run(caller: RequestContext) -> tuple[str, FindResult]:
            result = await svc.find(
                caller,
                query,
                target_uri=target_uri or None,
                limit=limit,
                score_threshold=score_threshold,
                level=level or None,
                context_type=context_type or None,
            )
            return fmt.format_hits(result), FindResult.model_validate(result)

        return await rt.call(ctx, run)

    @registry.tool(
        name="search",
        annotations=_READ_ONLY,
        description=(
            "Session-aware search. mode='list' (default) works like find but expands the query "
            "with the recent messages of session_id. mode='context' assembles ready-to-inject "
            "context (memories by category, resources, skills) that fits in max_tokens, choosing "
            "for each entry its abstract, overview or full text."
        ),
    )
    async def search(
        query: Query,
        ctx: Context,
        session_id: Annotated[
            str, Field(description="Session whose recent messages refine the query.")
        ] = "",
        mode: Annotated[
            Literal["list", "context"],
            Field(description="list: ranked URIs; context: an assembled context block."),
        ] = "list",
        target_uri: Annotated[
            str, Field(description="list mode only: search under this URI (empty: everywhere).")
        ] = "",
        limit: Limit = 10,
        score_threshold: Threshold = None,
        level: Levels = [],  # noqa: B006
        context_type: ContextType = "",
        max_tokens: Annotated[
            int, Field(ge=64, le=32000, description="context mode: token budget.")
        ] = 1600,
        purpose: Annotated[
            Literal["auto", "chat", "coding"],
            Field(description="context mode: category quotas preset."),
        ] = "auto",
        detail: Annotated[
            Literal["auto", "abstract", "overview", "full"],
            Field(description="context mode: tier of each entry (auto picks per category)."),
        ] = "auto",
        exclude_uris: Annotated[
            list[str], Field(description="context mode: URIs to leave out (already seen).")
        ] = [],  # noqa: B006
        dedup_turns: Annotated[
            int,
            Field(
                ge=0,
                le=50,
                description="context mode with session_id: leave out what the session's "
                "last N context assemblies already injected.",
            ),
        ] = 0,
    ) -> Annotated[CallToolResult, SearchResult]:
        async def run(caller: RequestContext) -> tuple[str, SearchResult]:
            common: dict[str, Any] = {
                "session_id": session_id or None,
                "target_uri": target_uri or None,
                "limit": limit,
                "score_threshold": score_threshold,
                "level": level or None,
                "context_type": context_type or None,
            }
            if mode == "context":
                result = await svc.search(
                    caller,
                    query,
                    mode="context",
                    max_tokens=max_tokens,
                    purpose=None if purpose == "auto" else purpose,
                    detail=detail,
                    exclude_uris=exclude_uris or None,
                    dedup_turns=dedup_turns or None,
                    **common,
                )
                text = fmt.format_context(result)
            else:
                result = await svc.search(caller, query, **common)
                text = fmt.format_hits(result)
            return text, SearchResult.model_validate({**result, "mode": mode})

        return await rt.call(ctx, run)

    @registry.tool(
        name="read",
        annotations=_READ_ONLY,
        description=(
            "Read one or more URIs. level='full' (default) gives a file's content or, for a "
            "directory, its overview plus a listing; 'overview' and 'abstract' give shorter "
            "summaries (L1 and L0). Several URIs are returned as '=== uri ===' blocks; a URI "
            "that fails shows its error in place."
        ),
    )
    async def read(
        uris: UriList,
        ctx: Context,
        level: Annotated[
            Literal["abstract", "overview", "full"],
            Field(description="abstract (L0, a line), overview (L1, a page) or full (L2)."),
        ] = "full",
    ) -> Annotated[CallToolResult, ReadResult]:
        async def run(caller: RequestContext) -> tuple[str, ReadResult]:
            if not uris or len(uris) > _MAX_READ_URIS:
                raise _bad(f"Pass between 1 and {_MAX_READ_URIS} URIs")
            gate = asyncio.Semaphore(_READ_CONCURRENCY)

            async def one(uri: str) -> dict[str, Any]:
                async with gate:
                    try:
                        return {"error": "", **await svc.read_level(caller, uri, level)}
                    except OpenVikingError as exc:
                        return {"uri": uri, "level": level, "text": "", "error": error_text(exc)}

            if len(uris) == 1:  # a lone URI that fails is the tool's error
                items = [{"error": "", **await svc.read_level(caller, uris[0], level)}]
            else:
                items = list(await asyncio.gather(*(one(u) for u in uris)))
            return fmt.format_read(items), ReadResult.model_validate({"items": items})

        return await rt.call(ctx, run)

    @registry.tool(
        name="list",
        annotations=_READ_ONLY,
        description=(
            "List a directory: '[dir] name' and '[file] name' lines (recursive: every URI below "
            "it). Start at viking:// to see the top-level scopes: resources, agent, user."
        ),
    )
    async def list_(
        ctx: Context,
        uri: Annotated[str, Field(description="Directory URI.")] = "viking://",
        recursive: Annotated[bool, Field(description="Walk the whole subtree.")] = False,
    ) -> Annotated[CallToolResult, ListResult]:
        async def run(caller: RequestContext) -> tuple[str, ListResult]:
            base = (await svc.stat(caller, uri))["uri"]
            raw = await svc.ls(caller, base, output="agent", recursive=recursive)
            entries = [fmt.listing_entry(e) for e in raw]
            text = fmt.format_list(base, entries, recursive)
            return text, ListResult.model_validate({"uri": base, "entries": entries})

        return await rt.call(ctx, run)

    @registry.tool(
        name="tree",
        annotations=_READ_ONLY,
        description=(
            "Show the directory tree under a URI, indented, with file sizes; "
            "include_abstract=true adds each directory's one-line abstract."
        ),
    )
    async def tree(
        ctx: Context,
        uri: Annotated[str, Field(description="Root of the tree.")] = "viking://",
        level_limit: Annotated[int, Field(ge=1, le=20, description="Maximum depth.")] = 3,
        node_limit: Annotated[int, Field(ge=1, le=10000, description="Maximum entries.")] = 1000,
        include_abstract: Annotated[bool, Field(description="Add directory abstracts.")] = False,
    ) -> Annotated[CallToolResult, TreeResult]:
        async def run(caller: RequestContext) -> tuple[str, TreeResult]:
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
            model = TreeResult.model_validate(
                {"uri": base, "entries": entries, "truncated": truncated}
            )
            return text, model

        return await rt.call(ctx, run)

    @registry.tool(
        name="stat",
        annotations=_READ_ONLY,
        description="Metadata of a file or directory: size, type, modification time, context type.",
    )
    async def stat(uri: Uri, ctx: Context) -> Annotated[CallToolResult, StatResult]:
        async def run(caller: RequestContext) -> tuple[str, StatResult]:
            info = await svc.stat(caller, uri)
            kind = "directory" if info["isDir"] else f"file, {info['size']} B"
            text = f"{info['uri']} ({kind}, {info['context_type']}, modified {info['modTime']})"
            return text, StatResult.model_validate(info)

        return await rt.call(ctx, run)

    @registry.tool(
        name="write",
        annotations=_annotations(destructive=True, idempotent=False),
        description=(
            "Write a UTF-8 text file. mode='replace' overwrites (and creates a missing file), "
            "'append' adds to the end, 'create' fails if the file exists. Parent directories are "
            "created. The file is then re-indexed and its directory's summaries refreshed "
            "(wait=true blocks until done)."
        ),
    )
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
        async def run(caller: RequestContext) -> tuple[str, WriteResult]:
            try:
                result = await svc.write(
                    caller, uri, content, mode=mode, wait=wait, timeout=timeout
                )
            except NotFoundError:
                if mode != "replace":
                    raise
                result = await svc.write(
                    caller, uri, content, mode="create", wait=wait, timeout=timeout
                )
            return fmt.format_write(result), WriteResult.model_validate(result)

        return await rt.call(ctx, run)

    @registry.tool(
        name="edit",
        annotations=_annotations(destructive=True, idempotent=False),
        description=(
            "Replace an exact string in a text file. old_string must occur exactly once unless "
            "replace_all=true (include surrounding lines to make it unique); 0 matches is an "
            "error. Read the file first to copy old_string exactly."
        ),
    )
    async def edit(
        uri: Uri,
        old_string: Annotated[str, Field(min_length=1, description="Exact text to replace.")],
        new_string: Annotated[str, Field(description="Replacement text.")],
        ctx: Context,
        replace_all: Annotated[bool, Field(description="Replace every occurrence.")] = False,
        wait: Wait = False,
        timeout: Timeout = None,
    ) -> Annotated[CallToolResult, EditResult]:
        async def run(caller: RequestContext) -> tuple[str, EditResult]:
            result = await svc.edit(
                caller,
                uri,
                old_string,
                new_string,
                replace_all=replace_all,
                wait=wait,
                timeout=timeout,
            )
            return fmt.format_edit(result), EditResult.model_validate(result)

        return await rt.call(ctx, run)

    @registry.tool(
        name="add_resource",
        annotations=_annotations(destructive=False, idempotent=False, open_world=True),
        description=(
            "Import a document, folder, zip or web page into viking://resources: it is parsed, "
            "summarised and indexed so find/search can use it. path is an http(s) URL, or a "
            "local file/folder path (over HTTP the tool answers with an upload link for local "
            "files; upload, then call again with temp_file_id). Returns the resource's root URI "
            "and a task id; wait=true blocks until it is searchable."
        ),
    )
    async def add_resource(
        ctx: Context,
        path: Annotated[str, Field(description="URL or local path to import.")] = "",
        temp_file_id: Annotated[
            str, Field(description="Id of a file uploaded to temp_upload.")
        ] = "",
        to: Annotated[
            str, Field(description="Exact target URI, e.g. viking://resources/manuals/x.")
        ] = "",
        parent: Annotated[str, Field(description="Directory URI to import under.")] = "",
        reason: Annotated[str, Field(description="Why this resource matters (kept).")] = "",
        wait: Wait = False,
        timeout: Timeout = None,
    ) -> Annotated[CallToolResult, AddResourceResult]:
        async def run(caller: RequestContext) -> tuple[str, AddResourceResult]:
            remote = path.startswith(("http://", "https://"))
            if path and not remote and rt.caller is None:
                return await upload_instructions(rt, ctx, caller, path, "add_resource")
            result = await svc.add_resource(
                caller,
                path or None,
                temp_file_id=temp_file_id or None,
                to=to or None,
                parent=parent or None,
                reason=reason,
                wait=wait,
                timeout=timeout,
                allow_local_paths=rt.caller is not None,
            )
            model = AddResourceResult.model_validate(
                {**result, "status": result.get("status", "accepted")}
            )
            text = f"Resource added: {result.get('root_uri', '')}"
            if result.get("task_id") and not wait:
                text += f"\nProcessing in the background (task {result['task_id']})."
            return text, model

        return await rt.call(ctx, run)

    @registry.tool(
        name="grep",
        annotations=_READ_ONLY,
        description=(
            "Search file contents under a URI with regular expressions, line by line "
            "(like grep -n). Use it for exact names, identifiers and error strings; use find for "
            "meaning."
        ),
    )
    async def grep(
        uri: Annotated[str, Field(description="File or directory to search.")],
        pattern: PatternList,
        ctx: Context,
        case_insensitive: Annotated[bool, Field(description="Ignore case.")] = False,
        node_limit: Annotated[
            int, Field(ge=1, le=1000, description="Maximum matching lines.")
        ] = 50,
    ) -> Annotated[CallToolResult, GrepResult]:
        async def run(caller: RequestContext) -> tuple[str, GrepResult]:
            if not pattern:
                raise _bad("pattern must not be empty")
            matches: list[dict[str, Any]] = []
            truncated = False
            for each in pattern:
                found = await svc.grep(
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

        return await rt.call(ctx, run)

    @registry.tool(
        name="glob",
        annotations=_READ_ONLY,
        description=(
            "Find files by path pattern under a URI: * and ? within a name, ** across "
            "directories (e.g. '**/*.md'). Hidden files are never matched."
        ),
    )
    async def glob(
        pattern: Annotated[str, Field(description="Glob relative to uri, e.g. **/*.py.")],
        ctx: Context,
        uri: Annotated[str, Field(description="Directory to search under.")] = "viking://",
        node_limit: Annotated[int, Field(ge=1, le=10000, description="Maximum results.")] = 100,
    ) -> Annotated[CallToolResult, GlobResult]:
        async def run(caller: RequestContext) -> tuple[str, GlobResult]:
            result = await svc.glob(caller, pattern, uri=uri, node_limit=node_limit)
            return fmt.format_glob(pattern, result["matches"]), GlobResult.model_validate(result)

        return await rt.call(ctx, run)

    @registry.tool(
        name="forget",
        annotations=_annotations(destructive=True, idempotent=True),
        description=(
            "Delete a file or directory (a memory, a resource...) and its index entries. A "
            "non-empty directory needs recursive=true. This cannot be undone."
        ),
    )
    async def forget(
        uri: Uri,
        ctx: Context,
        recursive: Annotated[bool, Field(description="Delete a directory's content too.")] = False,
    ) -> Annotated[CallToolResult, ForgetResult]:
        async def run(caller: RequestContext) -> tuple[str, ForgetResult]:
            result = await svc.rm(caller, uri, recursive=recursive)
            return f"Deleted: {result['uri']}", ForgetResult.model_validate(result)

        return await rt.call(ctx, run)

    @registry.tool(
        name="health",
        annotations=_READ_ONLY,
        description="Check that the store is up and ready; shows the identity the tools act as.",
    )
    async def health(ctx: Context) -> Annotated[CallToolResult, HealthResult]:
        async def run(caller: RequestContext) -> tuple[str, HealthResult]:
            report = svc.health()
            ready = await svc.ready()
            identity = f"{caller.account_id}/{caller.user_id} ({caller.role.value})"
            failing = [k for k, v in ready.get("checks", {}).items() if v != "ok"]
            text = (
                f"OpenViking is healthy (version {report['version']}, acting as {identity})"
                if not failing
                else f"OpenViking is up but not ready: {', '.join(failing)} failing"
            )
            model = HealthResult.model_validate({**report, "identity": identity, "ready": ready})
            return text, model

        return await rt.call(ctx, run)


def _bad(message: str) -> OpenVikingError:
    return InvalidArgumentError(message)
