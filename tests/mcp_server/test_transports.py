"""Real transports: `openviking-mcp mcp` over stdio, and /mcp on a real uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import Client, StdioServerParameters

from openviking_mcp import OpenViking
from tests.mcp_server.conftest import text_of
from tests.servers import clean_env, exe, free_port, start_server

pytestmark = [pytest.mark.slow, pytest.mark.anyio]


def _stdio(tmp_path: Path, data: Path, *extra: str) -> Client:
    params = StdioServerParameters(
        command=exe("openviking-mcp"),
        args=["mcp", "--path", str(data), *extra],
        env=clean_env(tmp_path),
        cwd=str(tmp_path),
    )
    return Client(params)


async def test_stdio_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with _stdio(tmp_path, data) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert {"find", "search", "read", "write", "edit", "add_resource"} <= names
        written = await client.call_tool(
            "write",
            {"uri": "viking://resources/s.md", "content": "stdio works", "wait": True},
        )
        assert not written.is_error, text_of(written)
        found = await client.call_tool("find", {"query": "stdio"})
        assert "viking://resources/s.md" in text_of(found)
        prompts = {p.name for p in (await client.list_prompts()).prompts}
        assert "use-openviking" in prompts
        bad = await client.call_tool("read", {"uris": "viking://nowhere/x"})
        assert bad.is_error
    # the store is intact for the next opener
    with OpenViking(path=data) as ov:
        assert ov.read("viking://resources/s.md") == "stdio works"


async def test_stdio_acts_as_the_chosen_user(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with _stdio(tmp_path, data, "--account", "acme", "--user", "kim") as client:
        health = await client.call_tool("health", {})
        assert health.structured_content["identity"].startswith("acme/kim")


async def test_two_stdio_processes_share_one_data_folder(tmp_path: Path) -> None:
    """Claude Desktop and Claude Code may both launch a server on the same folder."""
    data = tmp_path / "data"
    per_client = 8

    async def worker(client: Client, name: str) -> None:
        for i in range(per_client):
            result = await client.call_tool(
                "write",
                {
                    "uri": f"viking://resources/shared/{name}-{i}.md",
                    "content": f"note {i} written by {name} about topic{i}",
                    "wait": True,
                },
            )
            assert not result.is_error, text_of(result)
            await client.call_tool("find", {"query": f"topic{i}"})

    async with _stdio(tmp_path, data) as first, _stdio(tmp_path, data) as second:
        async with anyio.create_task_group() as group:
            group.start_soon(worker, first, "first")
            group.start_soon(worker, second, "second")
        # each process sees the other's writes
        listing = await first.call_tool(
            "list", {"uri": "viking://resources/shared", "recursive": False}
        )
        names = {line.split("] ", 1)[1] for line in text_of(listing).splitlines()}
        assert names == {f"{n}-{i}.md" for n in ("first", "second") for i in range(per_client)}
        found = await second.call_tool(
            "find", {"query": "note written by first", "target_uri": "viking://resources/shared"}
        )
        assert "viking://resources/shared/first-" in text_of(found)

    with OpenViking(path=data) as ov:
        report = ov.consistency("viking://resources/shared")
        assert report["ok"], report


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = start_server(tmp_path, ["openviking-mcp", "serve"], port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def test_streamable_http_on_real_uvicorn(server_url: str) -> None:
    async with Client(f"{server_url}/mcp") as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert "find" in names
        written = await client.call_tool(
            "write", {"uri": "viking://resources/h.md", "content": "served", "wait": True}
        )
        assert not written.is_error
        read = await client.call_tool("read", {"uris": "viking://resources/h.md"})
        assert text_of(read) == "served"
        resource = await client.read_resource("viking://resources/h.md")
        assert resource.contents[0].text == "served"
    # the REST side of the same process still answers
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{server_url}/health")).json()["healthy"] is True
