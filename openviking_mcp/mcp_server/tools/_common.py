"""What the tool modules share: the registry, annotations, argument types and running a tool.

A tool is a plain async function; it finds the server's :class:`Runtime` (the service and the
fixed caller, if any) in the request context, where the server's lifespan put it (see
:func:`~openviking_mcp.mcp_server._runtime.runtime_of`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, BeforeValidator, Field

from openviking_mcp.contract.errors import InvalidArgumentError, OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.mcp_server._runtime import Runtime, runtime_of
from openviking_mcp.mcp_server._schema import portable_schema

__all__ = [
    "READ_ONLY",
    "ContextType",
    "Levels",
    "Limit",
    "PatternList",
    "Query",
    "TargetUri",
    "Threshold",
    "Timeout",
    "ToolRegistry",
    "Uri",
    "UriAlias",
    "UriList",
    "Wait",
    "bad",
    "mutating",
    "run_tool",
]

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


def mutating(*, destructive: bool, idempotent: bool, open_world: bool = False) -> ToolAnnotations:
    """The hints of a tool that changes the store."""
    return ToolAnnotations(
        read_only_hint=False,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=open_world,
    )


def _as_list(value: Any) -> Any:
    """Accept one string where a list of strings is expected (models often send one)."""
    return [value] if isinstance(value, str) else value


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
UriAlias = Annotated[
    list[str],
    BeforeValidator(_as_list),
    Field(description="The same as uris (one URI or a list); both may be given."),
]
PatternList = Annotated[
    list[str],
    BeforeValidator(_as_list),
    Field(description="Regular expression(s) (Python syntax) matched against each line."),
]


class ToolRegistry:
    """The tools a server is built with. Their schemas are made portable here, before the
    server lists them (``MCPServer.add_tool`` keeps the tool it builds to itself)."""

    def __init__(self) -> None:
        self.tools: list[Tool] = []

    def add(
        self,
        fn: Callable[..., Awaitable[CallToolResult]],
        name: str,
        hints: ToolAnnotations,
        description: str,
    ) -> None:
        tool = Tool.from_function(fn, name=name, description=description, annotations=hints)
        tool.parameters = portable_schema(tool.parameters)
        if tool.fn_metadata.output_schema is not None:
            tool.fn_metadata.output_schema = portable_schema(tool.fn_metadata.output_schema)
        self.tools.append(tool)


async def run_tool(
    ctx: Context,
    run: Callable[[Runtime, RequestContext], Awaitable[tuple[str, BaseModel]]],
) -> CallToolResult:
    """Run a tool body as the request's caller; errors become ``isError`` results whose text
    says what to do."""
    rt = runtime_of(ctx)

    async def as_caller(caller: RequestContext) -> tuple[str, BaseModel]:
        return await run(rt, caller)

    return await rt.call(ctx, as_caller)


def bad(message: str) -> OpenVikingError:
    return InvalidArgumentError(message)
