"""Clients: the embedded store (``OpenViking``, ``AsyncOpenViking``) and HTTP
(``SyncHTTPClient``, ``AsyncHTTPClient``).

The names load their modules on first use: importing the HTTP clients never loads the storage
engine, the model runtimes or the server frameworks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openviking_mcp.client.embedded import AsyncOpenViking, OpenViking
    from openviking_mcp.client.http import AsyncHTTPClient, SyncHTTPClient

__all__ = ["AsyncHTTPClient", "AsyncOpenViking", "OpenViking", "SyncHTTPClient"]

_LAZY = {
    "AsyncHTTPClient": "openviking_mcp.client.http",
    "SyncHTTPClient": "openviking_mcp.client.http",
    "AsyncOpenViking": "openviking_mcp.client.embedded",
    "OpenViking": "openviking_mcp.client.embedded",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'openviking_mcp.client' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
