"""The HTTP surface of openviking-mcp (FastAPI)."""

from http_api.app import create_app

__all__ = ["create_app"]
