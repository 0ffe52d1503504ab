"""Health that tells the truth: failed tasks are reported (``/health``, ``/system/status``, the
observer, ``/system/wait``) and never make the server unhealthy; dead workers do. ``/health``
names the caller that sent credentials, as the original does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from http_api import create_app
from openviking_mcp import ContextService, OpenVikingConfig, RequestContext
from openviking_mcp.storage.queue import TaskHandle
from openviking_mcp.tasks.failures import scrub_paths

pytestmark = pytest.mark.anyio

ROOT_KEY = "root-key-for-health-tests"
FAILING = "health_probe"  # reported under the queue "HealthProbe"

Client = Callable[..., AbstractAsyncContextManager[tuple[httpx.AsyncClient, ContextService]]]


@pytest.fixture
def client(workspace: Path) -> Client:
    @asynccontextmanager
    async def start(**server: Any) -> AsyncIterator[tuple[httpx.AsyncClient, ContextService]]:
        config = OpenVikingConfig.from_dict(
            {
                "storage": {"workspace": str(workspace)},
                "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
                "server": server,
            }
        )
        app = create_app(config)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield http, app.state.service

    return start


async def _fail_one(service: ContextService, ctx: RequestContext) -> str:
    """Run a task whose handler raises with server paths in its message; its id."""
    workspace = str(service.config.workspace)

    async def broken(handle: TaskHandle) -> dict[str, Any]:
        raise ValueError(f"cannot read {workspace}/acme/notes.md nor /etc/openviking/keys.txt")

    service.store.tasks.register(FAILING, broken)
    task_id = await service.store.tasks.submit(FAILING, ctx, {})
    assert (await service.store.tasks.wait(task_id, timeout=10)).status == "failed"
    return task_id


def _no_paths(text: str, service: ContextService) -> None:
    assert str(service.config.workspace) not in text
    assert "/etc/openviking" not in text
    assert "<path>" in text or "<workspace>" in text


async def _ok(http: httpx.AsyncClient, method: str, url: str, **kw: Any) -> dict[str, Any]:
    response = await http.request(method, url, **kw)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["result"]
    return result


async def test_a_failed_task_is_reported_and_the_server_stays_healthy(client: Client) -> None:
    async with client() as (http, service):
        ctx = service.dev_context()
        task_id = await _fail_one(service, ctx)

        health = (await http.get("/health")).json()
        assert (health["status"], health["healthy"]) == ("ok", True)
        assert "problems" not in health
        assert (health["account_id"], health["user_id"], health["role"]) == (
            "default",
            "default",
            "admin",
        )
        assert health["tasks"]["failed"] == health["tasks"]["failed_since_start"] == 1
        last = health["tasks"]["last_error"]
        assert (last["task_id"], last["task_type"]) == (task_id, FAILING)
        assert "ValueError: cannot read <workspace>/acme/notes.md nor <path>" in last["message"]
        assert last["failed_at_iso"].endswith("Z")
        assert last["failed_at"] > 0
        _no_paths(last["message"], service)

        status = await _ok(http, "GET", "/api/v1/system/status")
        assert (status["initialized"], status["user"], status["healthy"]) == (True, "default", True)
        assert status["tasks"] == health["tasks"]

        queue = await _ok(http, "GET", "/api/v1/observer/queue")
        assert (queue["is_healthy"], queue["has_errors"]) == (True, True)
        assert queue["errors"] == ["1 failed task(s) retained"]
        assert queue["details"]["failures"] == health["tasks"]
        assert queue["details"]["queues"]["HealthProbe"]["error_count"] == 1
        total = next(line for line in queue["status"].splitlines() if "TOTAL" in line)
        assert [c.strip() for c in total.strip("|").split("|")][5] == "1"  # the Errors column

        system = await _ok(http, "GET", "/api/v1/observer/system")
        assert system["is_healthy"] is True
        assert system["errors"] == ["queue: 1 failed task(s) retained"]


async def test_wait_answers_the_per_queue_counters(client: Client) -> None:
    async with client() as (http, service):
        ctx = service.dev_context()
        await service.write(ctx, "viking://resources/q.md", "queued", mode="create", wait=True)
        await _fail_one(service, ctx)
        waited = await _ok(http, "POST", "/api/v1/system/wait", json={})
        assert {"tasks", "processed", "failed", "retried", "queues"} <= set(waited)
        queues = waited["queues"]
        assert {"Embedding", "Semantic", "HealthProbe"} <= set(queues)
        for name, counters in queues.items():
            assert waited[name] == counters  # the original's shape: each queue at the top
            assert set(counters) == {
                "pending",
                "in_progress",
                "processed",
                "requeue_count",
                "error_count",
                "errors",
            }
            assert counters["pending"] == counters["in_progress"] == 0  # it waited
        assert queues["Semantic"]["processed"] >= 1  # the write's refresh
        assert queues["Semantic"] == queues["Embedding"]  # one refresh task does both
        probe = queues["HealthProbe"]
        assert (probe["processed"], probe["error_count"]) == (0, 1)
        assert len(probe["errors"]) == 1
        _no_paths(probe["errors"][0]["message"], service)
        assert waited["tasks"]["failed"] == waited["failed"] == 1


async def test_only_who_may_see_a_failure_reads_its_id_and_message(client: Client) -> None:
    async with client(root_api_key=ROOT_KEY) as (http, service):
        root = RequestContext.root()
        ann_key = (await service.create_account(root, "acme", "ann"))["user_key"]
        ben_key = (await service.create_user(root, "acme", "ben"))["user_key"]
        task_id = await _fail_one(service, RequestContext("acme", "ann"))

        anonymous = (await http.get("/health")).json()
        assert "user_id" not in anonymous  # no credentials: no identity
        assert anonymous["tasks"]["failed"] == 1
        assert set(anonymous["tasks"]["last_error"]) == {"task_type", "failed_at", "failed_at_iso"}

        ann = (await http.get("/health", headers={"X-API-Key": ann_key})).json()
        assert (ann["account_id"], ann["user_id"], ann["role"]) == ("acme", "ann", "admin")
        assert ann["tasks"]["last_error"]["task_id"] == task_id

        ben = await _ok(http, "GET", "/api/v1/system/status", headers={"X-API-Key": ben_key})
        assert (ben["user"], ben["role"], ben["healthy"]) == ("ben", "user", True)
        assert ben["tasks"]["failed"] == 1
        assert "message" not in ben["tasks"]["last_error"]
        waited = await _ok(
            http, "POST", "/api/v1/system/wait", json={}, headers={"X-API-Key": ben_key}
        )
        assert waited["HealthProbe"]["error_count"] == 1
        assert waited["HealthProbe"]["errors"] == []  # ann's failure: not ben's to read

        bad = await http.get("/health", headers={"X-API-Key": "not-a-key"})
        assert bad.status_code == 401


async def test_dead_workers_make_the_server_unhealthy(client: Client) -> None:
    async with client() as (http, service):
        await service.store.tasks.stop()
        try:
            health = (await http.get("/health")).json()
            assert health["status"] == "ok"  # the process answers
            assert health["healthy"] is False
            assert health["problems"] == ["queue workers are not running"]
            queue = await _ok(http, "GET", "/api/v1/observer/queue")
            assert queue["is_healthy"] is False
            assert queue["errors"] == ["queue workers are not running"]
            system = await _ok(http, "GET", "/api/v1/observer/system")
            assert system["is_healthy"] is False
        finally:
            await service.store.tasks.start()
        for _ in range(50):
            if (await http.get("/health")).json()["healthy"]:
                break
            await asyncio.sleep(0.02)
        assert (await http.get("/health")).json()["healthy"] is True


def test_messages_lose_server_paths_but_keep_urls() -> None:
    text = "fetch https://example.com/a/b.md failed; wrote /srv/ov/data/acme/x.md (see ./rel/y)"
    scrubbed = scrub_paths(text, "/srv/ov/data")
    assert (
        scrubbed
        == "fetch https://example.com/a/b.md failed; wrote <workspace>/acme/x.md (see ./rel/y)"
    )
    assert scrub_paths("no such file: /tmp/upload_1/z.zip", None) == "no such file: <path>"
