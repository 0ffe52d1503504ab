"""Clients: the embedded store (``OpenViking``, ``AsyncOpenViking``) and HTTP
(``SyncHTTPClient``, ``AsyncHTTPClient``), and ``TaskProgress``, what their ``progress=``
callbacks receive.

The names load their modules on first use: importing the HTTP clients never loads the storage
engine, the model runtimes or the server frameworks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openviking_mcp._lazy import lazy_exports

if TYPE_CHECKING:
    from openviking_mcp.client.embedded import AsyncOpenViking, OpenViking
    from openviking_mcp.client.http import AsyncHTTPClient, SyncHTTPClient
    from openviking_mcp.contract.progress import TaskProgress

__all__ = ["AsyncHTTPClient", "AsyncOpenViking", "OpenViking", "SyncHTTPClient", "TaskProgress"]

_LAZY = {
    "AsyncHTTPClient": "openviking_mcp.client.http",
    "SyncHTTPClient": "openviking_mcp.client.http",
    "AsyncOpenViking": "openviking_mcp.client.embedded",
    "OpenViking": "openviking_mcp.client.embedded",
    "TaskProgress": "openviking_mcp.contract.progress",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__, globals())
