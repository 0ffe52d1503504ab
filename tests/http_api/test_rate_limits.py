"""Rate limits end to end: the HTTP API's 429 envelope with ``Retry-After``, per key and per
route class, WebDAV writes, MCP tool errors, and refill on the limiter's injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import AsyncHTTPClient, ContextService, OpenVikingConfig, RequestContext
from openviking_mcp.contract.errors import ResourceExhaustedError
from tests.http_api._routes import ROOT_KEY, error_of, result_of
from tests.mcp_server.conftest import http_client_for, running, text_of

SEARCH_LIMIT = 3


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def _config(workspace: Path, *, enabled: bool, **server: Any) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "server": server,
            "rate_limits": {
                "enabled": enabled,
                "search": {"requests_per_minute": SEARCH_LIMIT, "burst": SEARCH_LIMIT},
                "writes": {"requests_per_minute": 60, "burst": 20},
            },
        }
    )


Keyed = tuple[TestClient, dict[str, str], dict[str, str], Clock]


@contextmanager
def _keyed(workspace: Path, *, enabled: bool = True) -> Iterator[Keyed]:
    """api_key mode with ann and ben of acme; the limiter runs on a test clock."""
    app = create_app(_config(workspace, enabled=enabled, root_api_key=ROOT_KEY))
    with TestClient(app) as c:
        service: ContextService = c.app.state.service  # type: ignore[attr-defined]
        clock = Clock()
        service.ratelimits.clock = clock
        assert c.portal is not None
        ann = c.portal.call(service.create_account, RequestContext.root(), "acme", "ann")
        ann_ctx = c.portal.call(service.auth.resolve_api_key, ann["user_key"])
        ben = c.portal.call(service.create_user, ann_ctx, "acme", "ben")
        yield c, {"X-API-Key": ann["user_key"]}, {"X-API-Key": ben["user_key"]}, clock


def _find(client: TestClient, headers: dict[str, str]) -> Any:
    return client.post("/api/v1/search/find", json={"query": "anything"}, headers=headers)


def test_off_by_default_never_refuses(workspace: Path) -> None:
    assert OpenVikingConfig().rate_limits.enabled is False
    with _keyed(workspace, enabled=False) as (client, ann, _, _):
        for _ in range(SEARCH_LIMIT * 5):
            result_of(_find(client, ann))


def test_the_next_search_is_429_with_retry_after_and_writes_still_pass(workspace: Path) -> None:
    with _keyed(workspace) as (client, ann, ben, clock):
        for _ in range(SEARCH_LIMIT):
            result_of(_find(client, ann))
        refused = _find(client, ann)
        error = error_of(refused, 429, "RESOURCE_EXHAUSTED")
        assert error["details"] == {
            "class": "search",
            "limit": SEARCH_LIMIT,
            "burst": SEARCH_LIMIT,
            "retry_after": 20,
        }
        assert refused.headers["Retry-After"] == "20"
        assert refused.headers["X-Request-ID"]
        assert "search" in error["message"]
        grep = client.post(
            "/api/v1/search/grep",
            json={"uri": "viking://resources", "pattern": "x"},
            headers=ann,
        )
        error_of(grep, 429, "RESOURCE_EXHAUSTED")  # the same class, the same bucket

        made = client.post("/api/v1/fs/mkdir", json={"uri": "viking://resources/d"}, headers=ann)
        result_of(made)  # writes are another class
        result_of(client.get("/api/v1/fs/ls", params={"uri": "viking://resources"}, headers=ann))

        result_of(_find(client, ben))  # another key has its own bucket

        clock.now += 19.0
        error_of(_find(client, ann), 429)
        clock.now += 1.0  # 20 s at 3 per minute: one token back
        result_of(_find(client, ann))
        error_of(_find(client, ann), 429)


def test_failed_authentication_is_not_a_rate_limit(workspace: Path) -> None:
    with _keyed(workspace) as (client, _, _, _):
        for _ in range(SEARCH_LIMIT + 2):
            error_of(_find(client, {"X-API-Key": "nope"}), 401)


def test_webdav_writes_are_limited(workspace: Path) -> None:
    app = create_app(
        OpenVikingConfig.from_dict(
            {
                "storage": {"workspace": str(workspace)},
                "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
                "rate_limits": {"enabled": True, "writes": {"requests_per_minute": 2}},
            }
        )
    )
    app.state.service.ratelimits.clock = Clock()
    with TestClient(app) as client:
        for name in ("a", "b"):
            put = client.put(f"/webdav/resources/{name}.md", content=b"text")
            assert put.status_code == 201, put.text
        refused = client.put("/webdav/resources/c.md", content=b"text")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "30"
        assert "Rate limit exceeded for writes" in refused.text
        assert client.request("PROPFIND", "/webdav/resources/").status_code == 207


@pytest.mark.anyio
async def test_mcp_tool_calls_get_the_tool_error(workspace: Path) -> None:
    app = create_app(_config(workspace, enabled=True))  # dev mode: the client address
    app.state.service.ratelimits.clock = Clock()
    async with running(app), http_client_for(app) as client:
        for _ in range(SEARCH_LIMIT):
            found = await client.call_tool("find", {"query": "anything"})
            assert not found.is_error, text_of(found)
        refused = await client.call_tool("find", {"query": "anything"})
        assert refused.is_error
        assert text_of(refused).startswith(
            "Error [RESOURCE_EXHAUSTED]: Rate limit exceeded for search requests"
        )
        listed = await client.call_tool("list", {"uri": "viking://resources"})
        assert not listed.is_error, text_of(listed)
        written = await client.call_tool(
            "write", {"uri": "viking://resources/m.md", "content": "still allowed"}
        )
        assert not written.is_error, text_of(written)
        # HTTP and MCP draw from one bucket per caller (here the client address) and class.
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:1933"
        ) as http:
            answer = await http.post("/api/v1/search/find", json={"query": "anything"})
        error_of(answer, 429, "RESOURCE_EXHAUSTED")


@pytest.mark.anyio
async def test_the_http_client_raises_resource_exhausted(workspace: Path) -> None:
    app = create_app(_config(workspace, enabled=True))
    app.state.service.ratelimits.clock = Clock()
    transport = httpx.ASGITransport(app=app)
    async with running(app):
        client = AsyncHTTPClient(
            "http://127.0.0.1:1933", None, timeout=30.0, extra_headers={}, transport=transport
        )
        async with client as ov:
            for _ in range(SEARCH_LIMIT):
                await ov.find("anything")
            with pytest.raises(ResourceExhaustedError) as refused:
                await ov.find("anything")
            await ov.mkdir("viking://resources/still-writable")
    assert refused.value.details["class"] == "search"
    assert refused.value.details["retry_after"] == 20
