"""The HTTP clients' ``Idempotency-Key``: sent on mutating calls, reused on their one retry
after a dropped connection, so the server runs the call once."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from http_api import create_app
from openviking_mcp import AsyncHTTPClient, OpenVikingConfig

pytestmark = pytest.mark.anyio


class _DropsFirstAnswer(httpx.AsyncBaseTransport):
    """Delivers every request to the app, but loses the answer to the first mutating one, as
    a connection that drops after the server has done the work."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[httpx.Request] = []
        self.dropped = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and not self.dropped:
            self.dropped = True
            await response.aread()
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return response


async def test_a_dropped_write_is_retried_with_its_key_and_runs_once(workspace: Path) -> None:
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
        }
    )
    app = create_app(config)
    async with app.router.lifespan_context(app):
        transport = _DropsFirstAnswer(httpx.ASGITransport(app=app))
        client = AsyncHTTPClient(
            "http://test", "k", timeout=30.0, extra_headers={}, transport=transport
        )
        async with client as ov:
            # mode "create" fails on a second run: the retry succeeds only as a replay
            await ov.write("viking://resources/once.md", "written once", mode="create")
            assert await ov.read("viking://resources/once.md") == "written once"
            await ov.write("viking://resources/twice.md", "a", mode="create")
    posts = [r for r in transport.sent if r.method == "POST"]
    keys = [r.headers.get("Idempotency-Key") for r in posts]
    assert len(posts) == 3
    assert keys[0]
    assert keys[0] == keys[1]
    assert keys[2]
    assert keys[2] != keys[0]
    reads = [r for r in transport.sent if r.method == "GET"]
    assert reads
    assert all("Idempotency-Key" not in r.headers for r in reads)


async def test_a_client_key_is_sent_on_every_mutating_call() -> None:
    seen: list[str | None] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Idempotency-Key"))
        return httpx.Response(200, json={"status": "ok", "result": {}, "time": 0})

    transport = httpx.MockTransport(handler)
    client = AsyncHTTPClient("http://t", "k", timeout=30.0, extra_headers={}, transport=transport)
    client.idempotency_key = "commit-42"
    async with client as ov:
        await ov.mkdir("viking://resources/a")
        await ov.stat("viking://resources/a")
    assert seen == ["commit-42", None]
