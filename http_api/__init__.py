"""The HTTP surface of openviking-mcp (FastAPI)."""

from .app import create_app

__all__ = ["create_app"]
