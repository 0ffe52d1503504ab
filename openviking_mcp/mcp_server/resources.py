"""MCP resources: every visible ``viking://`` URI is readable as a resource.

One template, ``viking://{+path}``, serves reads: a directory gives its L1 overview plus a
listing, a file its content (bytes for binary files). ``viking://~/memories`` and
``viking://agent/skills`` are listed as concrete resources so clients can offer them directly.

A refused read is a JSON-RPC error whose ``data`` holds ``{uri, code, details}`` (``code`` is
the store's error code): a caller's mistake (a bad or missing URI, a wrong argument) is
``-32602`` invalid params, which is also what the MCP specification (SEP-2164) now gives a
resource that does not exist; an access refusal is :data:`ACCESS_DENIED` (``-32003``, from
the band the specification leaves to servers); anything else is ``-32603``.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS, Resource

from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    OpenVikingError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from openviking_mcp.mcp_server._runtime import Runtime, error_text

__all__ = ["ACCESS_DENIED", "CONCRETE_RESOURCES", "register_resources", "resource_error"]

#: JSON-RPC code of a read the caller may not make (``data.code``: ``PERMISSION_DENIED`` or
#: ``UNAUTHENTICATED``).
ACCESS_DENIED = -32003

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


def resource_error(exc: OpenVikingError, uri: str) -> MCPError:
    """The JSON-RPC error of a refused read (module docs)."""
    if isinstance(exc, PermissionDeniedError | UnauthenticatedError):
        code = ACCESS_DENIED
    elif 400 <= exc.http_status < 500 and exc.code != "RESOURCE_EXHAUSTED":
        code = INVALID_PARAMS
    else:
        code = INTERNAL_ERROR
    data = {"uri": uri, "code": exc.code, "details": exc.details}
    return MCPError(code=code, message=error_text(exc), data=data)


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
        except OpenVikingError as exc:
            raise resource_error(exc, uri) from None
