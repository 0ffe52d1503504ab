"""``GET /metrics``: Prometheus text, per-app registry, request and scrape-time metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from http_api import create_app
from openviking_mcp import ContextService, RequestContext
from openviking_mcp.storage.queue import TaskHandle
from tests.http_api._routes import config_for

pytestmark = pytest.mark.anyio

ROOT_KEY = "root-key-for-metrics-tests"

Client = Callable[..., AbstractAsyncContextManager[tuple[httpx.AsyncClient, ContextService]]]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def client(tmp_path: Path) -> Client:
    @asynccontextmanager
    async def start(
        name: str = "data", **server: Any
    ) -> AsyncIterator[tuple[httpx.AsyncClient, ContextService]]:
        app = create_app(config_for(tmp_path / name, **server))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield http, app.state.service

    return start


async def _scrape(http: httpx.AsyncClient) -> Samples:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def _idle(service: ContextService) -> None:
    for _ in range(400):
        if await service.store.tasks.idle():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("tasks did not finish")


async def test_metrics_need_no_key_and_count_requests_by_route_template(client: Client) -> None:
    async with client(root_api_key=ROOT_KEY) as (http, _):
        assert (await http.get("/health")).status_code == 200
        refused = await http.get("/api/v1/observer/queue")
        assert refused.status_code == 401
        for name in ("a1", "b2", "c3"):
            await http.request("OPTIONS", f"/webdav/resources/docs/{name}.md")
        assert (await http.get("/no/such/route")).status_code == 404
        samples = await _scrape(http)
        requests = "openviking_http_requests_total"
        assert _value(samples, requests, method="GET", route="/health", status="200") == 1
        assert (
            _value(samples, requests, method="GET", route="/api/v1/observer/queue", status="401")
            == 1
        )
        templated = [
            labels
            for (name, labels), _ in samples.items()
            if name == requests and ("route", "/webdav/resources/{path:path}") in labels
        ]
        assert templated  # the template, never the raw ids
        assert sum(samples[(requests, labels)] for labels in templated) == 3
        assert not any("a1.md" in str(labels) for (_, labels) in samples)
        assert _value(samples, requests, method="GET", route="<unmatched>", status="404") == 1
        histogram = "openviking_http_request_duration_seconds"
        assert _value(samples, f"{histogram}_count", method="GET", route="/health") == 1
        inf = _value(samples, f"{histogram}_bucket", method="GET", route="/health", le="+Inf")
        assert inf == 1
        assert _value(samples, f"{histogram}_sum", method="GET", route="/health") > 0
        # the scrape itself is counted by the next one
        again = await _scrape(http)
        assert _value(again, requests, method="GET", route="/metrics", status="200") == 1


async def test_queue_depth_failures_and_index_rows_are_collected_at_scrape(
    client: Client,
) -> None:
    async with client() as (http, service):
        release = asyncio.Event()

        async def blocked(handle: TaskHandle) -> dict[str, Any]:
            await release.wait()
            return {}

        async def broken(handle: TaskHandle) -> dict[str, Any]:
            raise ValueError("this task always fails")

        service.store.tasks.register("metrics_block", blocked)
        service.store.tasks.register("metrics_fail", broken)
        await _idle(service)
        ctx = RequestContext("default", "default")
        base = await _scrape(http)
        failed_before = _value(base, "openviking_task_failures_total")
        failing = await service.store.tasks.submit("metrics_fail", ctx, {})
        assert (await service.store.tasks.wait(failing, timeout=10)).status == "failed"
        blocked_ids = [await service.store.tasks.submit("metrics_block", ctx, {}) for _ in range(3)]
        for _ in range(100):
            samples = await _scrape(http)
            if _value(samples, "openviking_task_queue_depth", status="running") == 1:
                break
            await asyncio.sleep(0.05)
        assert _value(samples, "openviking_task_queue_depth", status="running") == 1
        assert _value(samples, "openviking_task_queue_depth", status="pending") == 2
        assert _value(samples, "openviking_task_queue_depth", status="failed") >= 1
        assert _value(samples, "openviking_task_failures_total") == failed_before + 1
        release.set()
        for task_id in blocked_ids:
            await service.store.tasks.wait(task_id, timeout=10)

        user = await service.local_context()
        await service.write(user, "viking://resources/m.md", "metric rows", mode="create")
        await _idle(service)
        samples = await _scrape(http)
        assert _value(samples, "openviking_index_rows") == await service.store.index.count() > 0
        assert _value(samples, "openviking_task_queue_depth", status="pending") == 0
        assert _value(samples, "openviking_tasks_processed_total") >= 3
        await service.find(user, "metric rows")
        after = await _scrape(http)
        assert _value(after, "openviking_find_calls_total") == (
            _value(samples, "openviking_find_calls_total") + 1
        )


async def test_two_apps_in_one_process_have_separate_registries(client: Client) -> None:
    async with client("one") as (first, _), client("two") as (second, _):
        for _ in range(3):
            await first.get("/health")
        await second.get("/health")
        one, two = await _scrape(first), await _scrape(second)
        name = "openviking_http_requests_total"
        assert _value(one, name, method="GET", route="/health", status="200") == 3
        assert _value(two, name, method="GET", route="/health", status="200") == 1


async def test_openmetrics_is_served_when_asked_for(client: Client) -> None:
    async with client() as (http, _):
        response = await http.get(
            "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/openmetrics-text")
        assert response.text.rstrip().endswith("# EOF")
