"""The registry's scheduled refresh: a due server is refreshed by the background loop (its
health turns to an error while the server is down, and back to ok with the new tools), and of
several claims on one due server only one wins. On the local and the postgres backend."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.contract.errors import InvalidArgumentError
from tests.mcp_registry._fake import REPO, serving_on
from tests.servers import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.both_backends]


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


@pytest.fixture
async def svc(storage_section: dict[str, Any]) -> AsyncIterator[ContextService]:
    config = OpenVikingConfig.from_dict(
        {
            "storage": storage_section,
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "mcp_registry": {"poll_seconds": 0.2, "min_refresh_seconds": 0.5},
        }
    )
    service = ContextService(config)
    await service.initialize()
    try:
        yield service
    finally:
        await service.close()


async def _until(
    svc: ContextService, server_id: str, check: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The server once ``check`` holds for it (the background loop refreshed it)."""
    ctx = svc.dev_context()
    deadline = time.monotonic() + 30
    while True:
        server: dict[str, Any] = await svc.get_mcp_server(ctx, server_id)
        if check(server):
            return server
        assert time.monotonic() < deadline, server
        await anyio.sleep(0.2)


async def test_scheduled_refresh_follows_the_server(svc: ContextService) -> None:
    ctx = svc.dev_context()
    assert svc.mcp_registry.scheduler.running
    port = free_port()
    with serving_on(port, "v1") as url:
        registered = await svc.register_mcp_server(
            ctx, "tools", url=url, refresh_interval_seconds=0.5
        )
        server_id = registered["server"]["server_id"]
        assert registered["report"]["added"] == ["search-web", "get-weather"]
    down = await _until(svc, server_id, lambda s: s["health"]["status"] == "error")
    assert "connect" in down["health"]["error"].lower()
    with serving_on(port, "v2"):
        back = await _until(svc, server_id, lambda s: s["health"]["status"] == "ok")
    assert back["health"]["added"] == ["translate"]
    assert back["health"]["updated"] == ["search-web"]
    assert back["health"]["removed"] == ["get-weather"]
    names = {s["name"] for s in await svc.list_skills(ctx)}
    assert {"search-web", "translate"} <= names
    assert "get-weather" not in names


async def test_one_claim_per_due_server(svc: ContextService) -> None:
    ctx = svc.dev_context()
    await svc.mcp_registry.scheduler.stop()  # the test claims by hand
    port = free_port()  # nothing listens: registered all the same, its health says why
    url = f"http://127.0.0.1:{port}/mcp"
    registered = await svc.register_mcp_server(ctx, "down", url=url, refresh_interval_seconds=1)
    assert registered["report"] is None
    assert registered["server"]["health"]["status"] == "error"
    server_id = registered["server"]["server_id"]
    servers = svc.store.mcp_servers
    now = time.time() + 5  # the server is due
    assert await servers.due(now) == [server_id]
    claims = [await servers.claim(server_id, now, 60) for _ in range(3)]
    assert claims == [True, False, False]
    assert await servers.due(now) == []  # leased until the refresh ends


async def test_intervals_and_names_are_checked(svc: ContextService) -> None:
    ctx = svc.dev_context()
    url = f"http://127.0.0.1:{free_port()}/mcp"
    for bad in (
        {"refresh_interval_seconds": 0.1},
        {"name": " "},
        {"url": "http://ann:pw@127.0.0.1/mcp"},
        {"url": "ftp://127.0.0.1/mcp"},
        {"env": {"A": "1"}},
    ):
        arguments = {"name": "x", "url": url, **bad}
        with pytest.raises(InvalidArgumentError):
            await svc.register_mcp_server(ctx, **arguments)
    assert await svc.list_mcp_servers(ctx) == []
    manual = await svc.register_mcp_server(ctx, "manual", url=url, refresh_interval_seconds=0)
    assert manual["server"]["health"]["next_refresh_at"] is None
    assert await svc.store.mcp_servers.due(time.time() + 10**6) == []
