"""The fake MCP server of ``tests.fakes.mcp_tools_server`` over streamable HTTP on a port the
test chooses, so that a test can stop it (the server is down) and start another tool set at the
same URL (the server's tools changed)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.fakes.mcp_tools_server import serving_http

__all__ = ["REPO", "serving_on"]

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def serving_on(port: int, tool_set: str, *, require_header: str | None = None) -> Iterator[str]:
    """Serve ``tool_set`` at ``http://127.0.0.1:{port}/mcp`` for the ``with`` block."""
    with serving_http(tool_set, require_header=require_header, port=port) as url:
        yield url
