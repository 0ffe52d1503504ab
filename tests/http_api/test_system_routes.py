"""`/api/v1/system`: status, wait (and its timeout) and consistency, with their envelopes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import ContextService, OpenVikingConfig, RequestContext
from openviking_mcp.processing.tasks import TaskHandle

BASE = "/api/v1/system"
ROOT_KEY = "root-key-for-system-route-tests"
Keyed = tuple[TestClient, dict[str, str], dict[str, str]]


def _config(workspace: Path, **server: Any) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "server": server,
        }
    )


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_config(workspace))) as c:
        yield c


@pytest.fixture
def keyed(workspace: Path) -> Iterator[Keyed]:
    """api_key mode with ann (ADMIN of acme) and ben (USER of acme): client and their headers."""
    with TestClient(create_app(_config(workspace, root_api_key=ROOT_KEY))) as c:
        service: ContextService = c.app.state.service  # type: ignore[attr-defined]
        assert c.portal is not None
        ann = c.portal.call(service.create_account, RequestContext.root(), "acme", "ann")
        ann_ctx = c.portal.call(service.resolve_api_key, ann["user_key"])
        ben = c.portal.call(service.create_user, ann_ctx, "acme", "ben")
        yield c, {"X-API-Key": ann["user_key"]}, {"Authorization": f"Bearer {ben['user_key']}"}


def _result(response: Any) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"status", "result", "time"}
    assert body["status"] == "ok"
    assert isinstance(body["time"], float)
    return body["result"]


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error"
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    return error


def test_status(client: TestClient) -> None:
    assert _result(client.get(f"{BASE}/status")) == {"initialized": True, "user": "default"}


def test_status_needs_a_key_in_api_key_mode(
    keyed: Keyed,
) -> None:
    client, ann, ben = keyed
    _error(client.get(f"{BASE}/status"), 401, "UNAUTHENTICATED")
    _error(client.get(f"{BASE}/status", headers={"X-API-Key": "nope"}), 401, "UNAUTHENTICATED")
    assert _result(client.get(f"{BASE}/status", headers=ann))["user"] == "ann"
    assert _result(client.get(f"{BASE}/status", headers=ben))["user"] == "ben"


def test_wait_returns_when_the_queues_are_idle(client: TestClient) -> None:
    write = client.post(
        "/api/v1/content/write",
        json={"uri": "viking://resources/w/a.md", "content": "hello\n", "mode": "create"},
    )
    assert _result(write)["semantic_status"] == "queued"
    result = _result(client.post(f"{BASE}/wait", json={"timeout": 60}))
    assert result["tasks"].get("pending", 0) == 0
    assert result["tasks"].get("running", 0) == 0
    assert result["tasks"]["completed"] >= 1
    assert _result(client.post(f"{BASE}/wait"))["tasks"]  # the body is optional


def test_wait_times_out_with_504(client: TestClient) -> None:
    service: ContextService = client.app.state.service  # type: ignore[attr-defined]
    release = asyncio.Event()

    async def slow(task: TaskHandle) -> dict[str, Any]:
        await release.wait()
        return {}

    assert client.portal is not None
    service.tasks.register("slow_test_task", slow)
    client.portal.call(service.tasks.submit, "slow_test_task", service.dev_context(), {})
    error = _error(client.post(f"{BASE}/wait", json={"timeout": 0.3}), 504, "DEADLINE_EXCEEDED")
    assert "timed out" in error["message"]
    client.portal.call(release.set)
    _result(client.post(f"{BASE}/wait", json={"timeout": 30}))


def test_wait_bad_timeout(client: TestClient) -> None:
    error = _error(client.post(f"{BASE}/wait", json={"timeout": -1}), 400, "INVALID_ARGUMENT")
    assert error["details"]["validation_errors"][0]["loc"] == ["body", "timeout"]


def test_consistency(client: TestClient) -> None:
    write = client.post(
        "/api/v1/content/write",
        json={
            "uri": "viking://resources/c/a.md",
            "content": "consistency check\n",
            "mode": "create",
            "wait": True,
        },
    )
    assert _result(write)["vector_status"] == "complete"
    result = _result(client.post(f"{BASE}/consistency", json={"uri": "viking://resources/c"}))
    assert set(result) == {
        "ok",
        "expected_count",
        "missing_record_count",
        "missing_records",
        "missing_records_truncated",
    }
    assert result["ok"] is True
    assert result["missing_record_count"] == 0
    assert result["expected_count"] >= 1
    bad = _error(client.post(f"{BASE}/consistency", json={"uri": "nope"}), 400, "INVALID_URI")
    assert bad["details"]["uri"] == "nope"


def test_consistency_of_another_users_space_is_403(
    keyed: Keyed,
) -> None:
    client, ann, ben = keyed
    own = client.post(f"{BASE}/consistency", json={"uri": "viking://user/ann"}, headers=ann)
    assert _result(own)["expected_count"] >= 1
    other = client.post(f"{BASE}/consistency", json={"uri": "viking://user/ann"}, headers=ben)
    _error(other, 403, "PERMISSION_DENIED")


def test_root_key_may_wait_but_not_read_tenant_data(keyed: Keyed) -> None:
    client, _, _ = keyed
    root = {"X-API-Key": ROOT_KEY}
    assert _result(client.get(f"{BASE}/status", headers=root))["initialized"] is True
    assert "tasks" in _result(client.post(f"{BASE}/wait", json={"timeout": 30}, headers=root))
    refused = client.post(f"{BASE}/consistency", json={"uri": "viking://resources"}, headers=root)
    _error(refused, 403, "PERMISSION_DENIED")
