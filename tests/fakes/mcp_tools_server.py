"""A small, real MCP server (the official SDK's ``MCPServer``) whose tools get imported as skills.

Two tool sets let a test refresh an import:

* ``v1``: ``search_web`` (a nested ``filters`` object and an enum) and ``get_weather``;
* ``v2``: ``search_web`` with another description, and ``translate`` (``get_weather`` is gone).

``tools/list`` answers one tool per page (``nextCursor`` set), so clients must follow cursors.

Run it over stdio::

    python -m tests.fakes.mcp_tools_server [--tools v1|v2]

or over streamable HTTP at ``http://127.0.0.1:PORT/mcp``, optionally refusing requests that lack
a header (401)::

    python -m tests.fakes.mcp_tools_server --tools v2 --port PORT --require-header "X-Token: s3cret"

The tool set may also come from ``$FAKE_MCP_TOOLS``. :func:`serving_http` runs the HTTP form in a
subprocess for the duration of a ``with`` block.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import mcp.types as types
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

__all__ = ["SERVER_NAME", "TOOL_SETS", "build_server", "main", "serving_http"]

SERVER_NAME = "fake-tools"
SERVER_VERSION = "1.2.3"
TOOL_SETS = ("v1", "v2")
_REPO = Path(__file__).resolve().parents[2]


class SearchFilters(BaseModel):
    """Narrow the search."""

    site: str | None = Field(default=None, description="Only results from this domain")
    max_age_days: int = Field(default=30, description="Only pages newer than this")


class Language(StrEnum):
    EN = "en"
    FR = "fr"
    DE = "de"


class TranslateOptions(BaseModel):
    formal: bool = Field(default=False, description="Use the formal register")
    glossary: list[str] = Field(default_factory=list, description="Terms to keep as they are")


def _search_web(
    query: Annotated[str, Field(description="What to search for")],
    limit: Annotated[int, Field(description="Maximum number of results")] = 10,
    safe_search: Annotated[
        Literal["off", "moderate", "strict"], Field(description="Filter explicit results")
    ] = "moderate",
    filters: Annotated[SearchFilters | None, Field(description="Result filters")] = None,
) -> str:
    return f"{limit} results for {query}"


def _get_weather(
    city: Annotated[str, Field(description="City name")],
    units: Annotated[Literal["metric", "imperial"], Field(description="Unit system")] = "metric",
) -> str:
    return f"Sunny in {city}"


def _translate(
    text: Annotated[str, Field(description="Text to translate")],
    target: Annotated[Language, Field(description="Target language")],
    options: Annotated[TranslateOptions, Field(description="Translation options")],
) -> str:
    return text


def build_server(tool_set: str = "v1") -> MCPServer:
    """The server offering ``tool_set`` (``v1`` or ``v2``), one tool per ``tools/list`` page."""
    if tool_set not in TOOL_SETS:
        raise ValueError(f"unknown tool set {tool_set!r}")
    server = MCPServer(SERVER_NAME, version=SERVER_VERSION)
    if tool_set == "v1":
        server.add_tool(_search_web, name="search_web", description="Search the web")
        server.add_tool(_get_weather, name="get_weather", description="Current weather of a city")
    else:
        server.add_tool(
            _search_web, name="search_web", description="Search the web for current information"
        )
        server.add_tool(_translate, name="translate", description="Translate text")

    async def list_tools_paged(
        ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        tools = await server.list_tools()
        start = int(params.cursor) if params is not None and params.cursor else 0
        following = str(start + 1) if start + 1 < len(tools) else None
        return types.ListToolsResult(tools=tools[start : start + 1], next_cursor=following)

    lowlevel = server._lowlevel_server  # the SDK offers no public hook to page tools/list
    lowlevel.add_request_handler("tools/list", types.PaginatedRequestParams, list_tools_paged)
    return server


def _http_app(server: MCPServer, header: tuple[str, str] | None) -> Any:
    from starlette.responses import JSONResponse
    from starlette.types import ASGIApp, Receive, Scope, Send

    app: ASGIApp = server.streamable_http_app()
    if header is None:
        return app
    name, value = header[0].lower().encode(), header[1].encode()

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (name, value) not in scope["headers"]:
            await JSONResponse({"error": "missing or wrong header"}, status_code=401)(
                scope, receive, send
            )
            return
        await app(scope, receive, send)

    return guarded


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="mcp_tools_server")
    parser.add_argument("--tools", default=os.environ.get("FAKE_MCP_TOOLS", "v1"))
    parser.add_argument("--port", type=int, help="Serve streamable HTTP on 127.0.0.1:PORT")
    parser.add_argument("--require-header", help="'Name: value' every HTTP request must carry")
    args = parser.parse_args(argv)
    server = build_server(args.tools)
    if args.port is None:
        server.run("stdio")
        return
    import uvicorn

    header = None
    if args.require_header:
        name, _, value = args.require_header.partition(":")
        header = (name.strip(), value.strip())
    uvicorn.run(_http_app(server, header), host="127.0.0.1", port=args.port, log_level="warning")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving_http(
    tool_set: str = "v1", *, require_header: str | None = None, port: int | None = None
) -> Iterator[str]:
    """Run the server over streamable HTTP in a subprocess (on ``port``, or a free one);
    yields its ``/mcp`` URL."""
    port = port or _free_port()
    command = [sys.executable, "-m", "tests.fakes.mcp_tools_server", "--tools", tool_set]
    command += ["--port", str(port)]
    if require_header:
        command += ["--require-header", require_header]
    proc = subprocess.Popen(command, cwd=_REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = proc.stdout.read().decode() if proc.stdout else ""
                    raise RuntimeError(f"fake MCP server did not start: {output}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


if __name__ == "__main__":
    main()
