"""The HTTP surface of openviking-mcp (FastAPI).

``create_app`` is loaded on first use, so ``http_api.serving`` and ``http_api.starting`` can
be imported (and the port opened) before FastAPI and the service are.
"""

from typing import TYPE_CHECKING

from openviking_mcp._lazy import lazy_exports

if TYPE_CHECKING:
    from http_api.app import create_app

__all__ = ["create_app"]

__getattr__, __dir__ = lazy_exports(__name__, {"create_app": "http_api.app"}, __all__, globals())
