"""MCP resources: every visible ``viking://`` URI is readable as a resource.

One template, ``viking://{+path}``, serves reads: a directory gives its L1 overview plus a
listing, a file its content (bytes for binary files). ``viking://~/memories`` and
``viking://agent/skills`` are listed as concrete resources so clients can offer them directly.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import Resource

from openviking_mcp.contract.errors import InvalidArgumentError, NotFoundError, OpenVikingError
from openviking_mcp.mcp_server._runtime import Runtime, error_text

__all__ = ["CONCRETE_RESOURCES", "register_resources"]

CONCRETE_RESOURCES = [
    Resource(
        uri="viking://~/memories",
        name="memories",
        title="Your memories",
        description="Long-term memories extracted from your sessions (overview and listing).",
        mime_type="text/markdown",
    ),
    Resource(
        uri="viking://agent/skills",
        name="skills",
        title="Agent skills",
        description="Skills available to agents of this account (overview and listing).",
        mime_type="text/markdown",
    ),
]


def register_resources(server: MCPServer[Any], rt: Runtime) -> None:
    svc = rt.service

    @server.resource(
        "viking://{+path}",
        name="viking",
        title="OpenViking URI",
        description=(
            "Any viking:// URI you may read: a directory gives its overview and a listing, a "
            "file its content."
        ),
        mime_type="text/markdown",
    )
    async def read_uri(path: str, ctx: Context) -> str | bytes:
        uri = f"viking://{path}"
        try:
            caller = rt.caller_of(ctx)
            try:
                return str((await svc.read_level(caller, uri, "full"))["text"])
            except InvalidArgumentError as exc:
                if exc.details.get("reason") != "binary":
                    raise
                return bytes(await svc.read_bytes(caller, uri))
        except NotFoundError as exc:
            raise ResourceNotFoundError(error_text(exc)) from None
        except OpenVikingError as exc:
            raise ResourceError(error_text(exc)) from None
