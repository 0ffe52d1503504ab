"""openviking-mcp: a context database for AI agents.

Memories, resources and skills live in one ``viking://`` filesystem, with an L0 abstract, an
L1 overview and the L2 content for every directory. The same store is served over MCP, HTTP,
a CLI and this Python API::

    from openviking_mcp import OpenViking

    with OpenViking(path="./data") as ov:
        print(ov.ls("viking://"))

Importing the package is cheap: the names below load their modules on first use, so the HTTP
client and the CLI never pay for the storage engine or the model runtimes they do not use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openviking_mcp._lazy import lazy_exports
from openviking_mcp._version import __version__

if TYPE_CHECKING:
    from openviking_mcp.client.embedded import AsyncOpenViking, OpenViking
    from openviking_mcp.client.http import AsyncHTTPClient, SyncHTTPClient
    from openviking_mcp.config import OpenVikingConfig, load_config
    from openviking_mcp.contract.errors import OpenVikingError
    from openviking_mcp.contract.identity import RequestContext, Role
    from openviking_mcp.service import ContextService

__all__ = [
    "AsyncHTTPClient",
    "AsyncOpenViking",
    "ContextService",
    "OpenViking",
    "OpenVikingConfig",
    "OpenVikingError",
    "RequestContext",
    "Role",
    "SyncHTTPClient",
    "__version__",
    "load_config",
]

_LAZY = {
    "AsyncHTTPClient": "openviking_mcp.client.http",
    "SyncHTTPClient": "openviking_mcp.client.http",
    "AsyncOpenViking": "openviking_mcp.client.embedded",
    "OpenViking": "openviking_mcp.client.embedded",
    "ContextService": "openviking_mcp.service",
    "OpenVikingConfig": "openviking_mcp.config",
    "load_config": "openviking_mcp.config",
    "OpenVikingError": "openviking_mcp.contract.errors",
    "RequestContext": "openviking_mcp.contract.identity",
    "Role": "openviking_mcp.contract.identity",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__, globals())
