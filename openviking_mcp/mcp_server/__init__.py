"""The MCP server: tools, resources and prompts over :class:`~openviking_mcp.ContextService`.

* :func:`build_mcp_server` assembles an ``MCPServer`` (the official SDK);
* :class:`MCPEndpoint` serves it over streamable HTTP at ``/mcp`` (mounted by the HTTP app);
* :func:`run_stdio` serves it over stdio (``openviking-mcp mcp``).
"""

from openviking_mcp.mcp_server._schema import portable_schema
from openviking_mcp.mcp_server._server import INSTRUCTIONS, build_mcp_server
from openviking_mcp.mcp_server.http import MCPEndpoint, public_base_url
from openviking_mcp.mcp_server.stdio import run_stdio

__all__ = [
    "INSTRUCTIONS",
    "MCPEndpoint",
    "build_mcp_server",
    "portable_schema",
    "public_base_url",
    "run_stdio",
]
