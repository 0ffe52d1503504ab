"""The ``add_resource`` tool: import a document, folder, zip or web page into resources.

Over HTTP a local path cannot be read by the server: the tool answers with a one-shot upload
link instead (see :mod:`openviking_mcp.mcp_server._uploads`).
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.mcp_server._models import AddResourceResult
from openviking_mcp.mcp_server._runtime import Runtime
from openviking_mcp.mcp_server._uploads import upload_instructions
from openviking_mcp.mcp_server.tools._common import (
    Timeout,
    ToolRegistry,
    Wait,
    mutating,
    run_tool,
)

__all__ = ["add_resource", "register"]


async def add_resource(
    ctx: Context,
    path: Annotated[str, Field(description="URL or local path to import.")] = "",
    temp_file_id: Annotated[str, Field(description="Id of a file uploaded to temp_upload.")] = "",
    to: Annotated[
        str, Field(description="Exact target URI, e.g. viking://resources/manuals/x.")
    ] = "",
    parent: Annotated[str, Field(description="Directory URI to import under.")] = "",
    reason: Annotated[str, Field(description="Why this resource matters (kept).")] = "",
    description: Annotated[
        str, Field(description="Another name of reason (reason wins when both are given).")
    ] = "",
    wait: Wait = False,
    timeout: Timeout = None,
) -> Annotated[CallToolResult, AddResourceResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, AddResourceResult]:
        remote = path.startswith(("http://", "https://"))
        if path and not remote and rt.caller is None:
            return await upload_instructions(rt, ctx, caller, path, "add_resource")
        result = await rt.service.add_resource(
            caller,
            path or None,
            temp_file_id=temp_file_id or None,
            to=to or None,
            parent=parent or None,
            reason=reason or description,
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

    return await run_tool(ctx, run)


def register(tools: ToolRegistry) -> None:
    tools.add(
        add_resource,
        "add_resource",
        mutating(destructive=False, idempotent=False, open_world=True),
        "Import a document, folder, zip or web page into viking://resources: it is parsed, "
        "summarised and indexed so find/search can use it. path is an http(s) URL, or a "
        "local file/folder path (over HTTP the tool answers with an upload link for local "
        "files; upload, then call again with temp_file_id). Returns the resource's root URI "
        "and a task id; wait=true blocks until it is searchable.",
    )
