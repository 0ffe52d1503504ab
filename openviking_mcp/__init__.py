"""openviking-mcp: a context database for AI agents.

Memories, resources and skills live in one ``viking://`` filesystem, with an L0 abstract, an
L1 overview and the L2 content for every directory. The same store is served over MCP, HTTP,
a CLI and this Python API::

    from openviking_mcp import OpenViking

    with OpenViking(path="./data") as ov:
        print(ov.ls("viking://"))
"""

__version__ = "0.1.0"

from .client import AsyncHTTPClient, AsyncOpenViking, OpenViking, SyncHTTPClient
from .config import OpenVikingConfig, load_config
from .errors import OpenVikingError
from .identity import RequestContext, Role
from .service import ContextService

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
