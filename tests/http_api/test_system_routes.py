"""`/api/v1/system`: status, wait (and its timeout) and consistency, with their envelopes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import ContextService
from openviking_mcp.storage.queue import TaskHandle
from tests.http_api._routes import ROOT_KEY, Keyed, config_for, error_of, keyed_client, result_of

BASE = "/api/v1/system"


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    with TestClient(create_app(config_for(workspace))) as c:
        yield c


@pytest.fixture
def keyed(workspace: Path) -> Iterator[Keyed]:
    with keyed_client(workspace) as k:
        yield k


def test_status(client: TestClient) -> None:
    result = result_of(client.get(f"{BASE}/status"))
    assert (result["initialized"], result["user"]) == (True, "default")  # the original's keys
    assert (result["healthy"], result["account_id"], result["role"]) == (True, "default", "admin")
    assert result["tasks"] == {"failed": 0, "failed_since_start": 0, "last_error": None}
    assert "problems" not in result


def test_status_needs_a_key_in_api_key_mode(
    keyed: Keyed,
) -> None:
    client, ann, ben = keyed
    error_of(client.get(f"{BASE}/status"), 401, "UNAUTHENTICATED")
    error_of(client.get(f"{BASE}/status", headers={"X-API-Key": "nope"}), 401, "UNAUTHENTICATED")
    assert result_of(client.get(f"{BASE}/status", headers=ann))["user"] == "ann"
    assert result_of(client.get(f"{BASE}/status", headers=ben))["user"] == "ben"


def test_wait_returns_when_the_queues_are_idle(client: TestClient) -> None:
    write = client.post(
        "/api/v1/content/write",
        json={"uri": "viking://resources/w/a.md", "content": "hello\n", "mode": "create"},
    )
    assert result_of(write)["semantic_status"] == "queued"
    result = result_of(client.post(f"{BASE}/wait", json={"timeout": 60}))
    assert result["tasks"].get("pending", 0) == 0
    assert result["tasks"].get("running", 0) == 0
    assert result["tasks"]["completed"] >= 1
    assert result_of(client.post(f"{BASE}/wait"))["tasks"]  # the body is optional


def test_wait_times_out_with_504(client: TestClient) -> None:
    service: ContextService = client.app.state.service  # type: ignore[attr-defined]
    release = asyncio.Event()

    async def slow(task: TaskHandle) -> dict[str, Any]:
        await release.wait()
        return {}

    assert client.portal is not None
    service.store.tasks.register("slow_test_task", slow)
    client.portal.call(service.store.tasks.submit, "slow_test_task", service.dev_context(), {})
    error = error_of(client.post(f"{BASE}/wait", json={"timeout": 0.3}), 504, "DEADLINE_EXCEEDED")
    assert "timed out" in error["message"]
    client.portal.call(release.set)
    result_of(client.post(f"{BASE}/wait", json={"timeout": 30}))


def test_wait_bad_timeout(client: TestClient) -> None:
    error = error_of(client.post(f"{BASE}/wait", json={"timeout": -1}), 400, "INVALID_ARGUMENT")
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
    assert result_of(write)["vector_status"] == "complete"
    result = result_of(client.post(f"{BASE}/consistency", json={"uri": "viking://resources/c"}))
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
    bad = error_of(client.post(f"{BASE}/consistency", json={"uri": "nope"}), 400, "INVALID_URI")
    assert bad["details"]["uri"] == "nope"


def test_consistency_of_another_users_space_is_403(
    keyed: Keyed,
) -> None:
    client, ann, ben = keyed
    own = client.post(f"{BASE}/consistency", json={"uri": "viking://user/ann"}, headers=ann)
    assert result_of(own)["expected_count"] >= 1
    other = client.post(f"{BASE}/consistency", json={"uri": "viking://user/ann"}, headers=ben)
    error_of(other, 403, "PERMISSION_DENIED")


def test_root_key_may_wait_but_not_read_tenant_data(keyed: Keyed) -> None:
    client, _, _ = keyed
    root = {"X-API-Key": ROOT_KEY}
    assert result_of(client.get(f"{BASE}/status", headers=root))["initialized"] is True
    assert "tasks" in result_of(client.post(f"{BASE}/wait", json={"timeout": 30}, headers=root))
    refused = client.post(f"{BASE}/consistency", json={"uri": "viking://resources"}, headers=root)
    error_of(refused, 403, "PERMISSION_DENIED")
