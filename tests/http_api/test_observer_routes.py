"""``GET /api/v1/observer/*`` over ASGI: every component, real figures, no secrets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from http_api import create_app
from openviking_mcp import ContextService, OpenVikingConfig, RequestContext
from openviking_mcp.storage.queue import NORMAL, TaskHandle

pytestmark = pytest.mark.anyio

ROOT_KEY = "root-key-for-observer-tests"
COMPONENTS = ("queue", "vikingdb", "models", "lock", "retrieval", "filesystem")

Client = Callable[..., AbstractAsyncContextManager[tuple[httpx.AsyncClient, ContextService]]]


def _config(workspace: Path, **extra: Any) -> OpenVikingConfig:
    data: dict[str, Any] = {
        "storage": {"workspace": str(workspace)},
        "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
    }
    for section, values in extra.items():
        data[section] = {**data.get(section, {}), **values}
    return OpenVikingConfig.from_dict(data)


@pytest.fixture
def client(workspace: Path) -> Client:
    @asynccontextmanager
    async def start(**extra: Any) -> AsyncIterator[tuple[httpx.AsyncClient, ContextService]]:
        app = create_app(_config(workspace, **extra))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield http, app.state.service

    return start


async def _idle(service: ContextService) -> None:
    for _ in range(300):
        if await service.store.tasks.idle():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("task queue did not drain")


async def _get(http: httpx.AsyncClient, name: str, **kwargs: Any) -> dict[str, Any]:
    response = await http.get(f"/api/v1/observer/{name}", **kwargs)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    result: dict[str, Any] = body["result"]
    return result


async def test_every_component_has_the_original_shape(client: Client) -> None:
    """``status`` is text in the original's layout, which ``ov status`` summarises."""
    marks = {
        "queue": "| TOTAL",
        "vikingdb": "| TOTAL",
        "models": "Embedding Models:",
        "lock": "active locks",
        "retrieval": "Zero-Result Rate",
        "filesystem": "Mount: ",
    }
    async with client() as (http, _):
        for name in COMPONENTS:
            component = await _get(http, name)
            assert component["name"] == name
            assert isinstance(component["is_healthy"], bool)
            assert isinstance(component["has_errors"], bool)
            assert isinstance(component["details"], dict)
            assert marks[name] in component["status"], (name, component["status"])
        models = (await _get(http, "models"))["status"]
        assert "VLM Models:" not in models  # only configured models get a section


async def test_queue_reports_depth_per_status_and_priority(client: Client) -> None:
    async with client() as (http, service):
        release = asyncio.Event()

        async def blocked(handle: TaskHandle) -> dict[str, Any]:
            await release.wait()
            return {}

        service.store.tasks.register("observer_test", blocked)
        await _idle(service)
        ctx = RequestContext("default", "default")
        ids = [await service.store.tasks.submit("observer_test", ctx, {}) for _ in range(3)]
        # worker 0 only takes interactive work, so exactly one NORMAL task runs
        for _ in range(100):
            details = (await _get(http, "queue"))["details"]
            if details["running"] == 1:
                break
            await asyncio.sleep(0.05)
        assert (details["pending"], details["running"]) == (2, 1)
        assert details["by_status"]["pending"] == 2
        active = {
            (a["status"], a["priority"], a["task_type"]): a["count"] for a in details["active"]
        }
        assert active == {
            ("pending", NORMAL, "observer_test"): 2,
            ("running", NORMAL, "observer_test"): 1,
        }
        assert details["workers"]["configured"] == service.config.processing.workers
        assert details["workers"]["running_here"] == 1
        assert {"processed", "failed", "retried"} <= set(details["stats"])
        release.set()
        for task_id in ids:
            assert (await service.store.tasks.wait(task_id, timeout=10)).status == "completed"
        details = (await _get(http, "queue"))["details"]
        assert (details["pending"], details["running"]) == (0, 0)


async def test_vikingdb_reports_the_real_table(client: Client) -> None:
    async with client() as (http, service):
        ctx = await service.local_context()
        await service.write(
            ctx, "viking://resources/obs.md", "observer notes", mode="create", wait=True
        )
        component = await _get(http, "vikingdb")
        details = component["details"]
        assert component["is_healthy"] is True
        assert details["open"] is True
        assert details["rows"] == await service.store.index.count() > 0
        assert details["model_id"] == "hashing:v1-64"
        assert details["dimension"] == 64
        assert details["size_bytes"] > 0
        assert details["fragments"] >= 1
        assert details["version"] >= 1
        assert any(i["type"] == "FTS" for i in details["indexes"])
        # a non-ROOT caller also gets its own account's share
        assert details["account_rows"] == details["rows"]


async def test_models_report_ids_without_secrets(client: Client) -> None:
    secret_base = "http://someone:hunter2@127.0.0.1:9/v1?key=querysecret"
    async with client(
        embedding={"dense": {"provider": "hashing", "dimension": 64, "api_key": "sk-embed-x"}},
        vlm={
            "provider": "openai",
            "model": "gpt-test",
            "api_key": "sk-vlm-secret",
            "api_base": secret_base,
            "extra_headers": {"X-Token": "headersecret"},
        },
        rerank={"provider": "cohere", "model": "rerank-test", "api_key": "sk-rerank-secret"},
    ) as (http, _):
        response = await http.get("/api/v1/observer/models")
        text = response.text
        for secret in ("sk-embed-x", "sk-vlm-secret", "sk-rerank-secret", "hunter2"):
            assert secret not in text
        assert "querysecret" not in text
        assert "headersecret" not in text
        details = response.json()["result"]["details"]
        assert details["embedding"]["model_id"] == "hashing:v1-64"
        assert details["embedding"]["index_model_id"] == "hashing:v1-64"
        assert details["embedding"]["api_key_set"] is True
        vlm = details["vlm"]
        assert vlm["configured"] is True
        assert vlm["model"] == "gpt-test"
        assert vlm["model_id"] == "litellm:openai/gpt-test"
        assert vlm["api_base"] == "http://127.0.0.1:9/v1"
        assert vlm["extra_headers"] == ["X-Token"]
        assert details["rerank"]["configured"] is True
        assert details["rerank"]["model_id"].endswith("rerank-test")
        # the bot chats with vlm unless bot.model is set
        assert details["bot"]["configured"] is True
        assert details["bot"]["model_id"] == "litellm:openai/gpt-test"
        assert details["bot"]["enabled"] is False


async def test_models_when_nothing_optional_is_configured(client: Client) -> None:
    async with client() as (http, _):
        details = (await _get(http, "models"))["details"]
        assert details["vlm"]["configured"] is False
        assert details["vlm"]["model_id"] is None
        assert details["rerank"]["configured"] is False
        assert details["embedding"]["configured"] is True
        assert details["bot"]["configured"] is False  # retrieval-only answers


async def test_lock_lists_held_paths_of_the_callers_account(client: Client) -> None:
    async with client(server={"root_api_key": ROOT_KEY}) as (http, service):
        user_key = (await service.create_account(RequestContext.root(), "acme", "ann"))["user_key"]
        root = {"X-API-Key": ROOT_KEY}
        await _idle(service)  # background refreshes hold locks while they run
        assert (await _get(http, "lock", headers=root))["details"]["held"] == []
        async with service.store.locks.lock(
            ("acme", "resources", "docs"), ("default", "resources", "other")
        ):
            seen = (await _get(http, "lock", headers=root))["details"]
            assert {h["uri"] for h in seen["held"]} == {
                "viking://resources/docs",
                "viking://resources/other",
            }
            mine = (await _get(http, "lock", headers={"X-API-Key": user_key}))["details"]
            assert mine["held"] == [{"account_id": "acme", "uri": "viking://resources/docs"}]
        assert (await _get(http, "lock", headers=root))["details"]["count"] == 0


async def test_retrieval_reports_config_and_find_latency(client: Client) -> None:
    async with client(retrieval={"default_limit": 7}) as (http, service):
        before = (await _get(http, "retrieval"))["details"]
        assert before["available"] is True
        assert before["config"]["default_limit"] == 7
        assert before["rerank"] is False
        ctx = await service.local_context()
        for query in ("alpha", "beta", "gamma"):
            await service.find(ctx, query)
        with pytest.raises(Exception, match="empty"):
            await service.find(ctx, "  ")
        latency = (await _get(http, "retrieval"))["details"]["find_latency"]
        assert latency["calls"] == before["find_latency"]["calls"] + 4
        assert latency["errors"] == before["find_latency"]["errors"] + 1
        assert latency["window"] >= 4
        assert 0 <= latency["p50_ms"] <= latency["p95_ms"] <= latency["max_ms"]
        assert latency["last_at"] is not None


async def test_system_combines_components_and_host_facts(client: Client, workspace: Path) -> None:
    async with client() as (http, _):
        result = await _get(http, "system")
        assert result["is_healthy"] is True
        assert result["errors"] == []
        assert set(result["components"]) == set(COMPONENTS)
        system = result["system"]
        assert system["version"]
        assert system["python"].count(".") == 2
        assert system["platform"]
        assert system["cpu"]["count"] >= 1
        assert system["uptime_seconds"] >= 0
        assert system["disk"]["total"] >= system["disk"]["free"] > 0
        assert system["workspace"] == str(workspace)
        json.dumps(result)  # plain JSON all the way down


async def test_filesystem_measures_the_workspace(client: Client) -> None:
    async with client() as (http, service):
        ctx = await service.local_context()
        await service.write(ctx, "viking://resources/big.md", "x" * 50_000, mode="create")
        details = (await _get(http, "filesystem"))["details"]
        assert details["workspace_size"]["bytes"] >= 50_000
        assert details["workspace_size"]["files"] > 0
        assert details["volume"]["free"] > 0


async def test_observer_needs_a_key_in_api_key_mode(client: Client) -> None:
    async with client(server={"root_api_key": ROOT_KEY}) as (http, _):
        response = await http.get("/api/v1/observer/queue")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"
        ok = await http.get(
            "/api/v1/observer/queue", headers={"Authorization": f"Bearer {ROOT_KEY}"}
        )
        assert ok.status_code == 200
