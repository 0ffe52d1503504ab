"""A failed import leaves the server healthy, with the failure visible, for the upstream SDK, the
upstream ``ov`` binary and plain HTTP (a live server in api_key mode)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.compat._clients import Live, run_ov, run_sdk

pytestmark = pytest.mark.slow


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["result"]


@pytest.fixture(scope="module")
def failed_task(live: Live) -> str:
    """An import by ``ben`` that fails in the background (an upload that is not a zip)."""
    headers = {"X-API-Key": live.user_key}
    with httpx.Client(base_url=live.url, headers=headers, timeout=30) as http:
        files = {"file": ("broken.zip", b"this is not a zip archive", "application/zip")}
        upload = _ok(http.post("/api/v1/resources/temp_upload", files=files))
        body = {"temp_file_id": upload["temp_file_id"], "wait": False}
        task_id = str(_ok(http.post("/api/v1/resources", json=body))["task_id"])
        deadline = time.monotonic() + 30
        while _ok(http.get(f"/api/v1/tasks/{task_id}"))["status"] != "failed":
            assert time.monotonic() < deadline, "the import did not fail"
            time.sleep(0.1)
        return task_id


def test_http_reports_the_failure_and_stays_healthy(live: Live, failed_task: str) -> None:
    headers = {"X-API-Key": live.user_key}
    with httpx.Client(base_url=live.url, headers=headers, timeout=60) as http:
        health = http.get("/health").json()
        assert (health["healthy"], health["account_id"], health["user_id"]) == (True, "acme", "ben")
        last = health["tasks"]["last_error"]
        assert (last["task_id"], last["task_type"]) == (failed_task, "add_resource")
        assert "zip" in last["message"].lower()
        assert live.home.parent.as_posix() not in last["message"]  # no server path
        status = _ok(http.get("/api/v1/system/status"))
        assert (status["user"], status["healthy"]) == ("ben", True)
        assert status["tasks"]["failed"] >= 1
        waited = _ok(http.post("/api/v1/system/wait", json={}))
        assert waited["AddResource"]["error_count"] >= 1
        assert waited["AddResource"]["errors"][0]["message"] == last["message"]
        assert {"Embedding", "Semantic"} <= set(waited["queues"])


def test_sdk_sees_a_healthy_server(live: Live, failed_task: str) -> None:
    got = run_sdk(
        live,
        "status = client.get_status()\n"
        "result = {'healthy': client.is_healthy(), 'health': client.health(), "
        "'queue': status['components']['queue'], 'wait': client.wait_processed()}",
    )
    assert got["ok"], got
    result = got["result"]
    assert result["healthy"] is True
    assert result["health"] is True
    assert (result["queue"]["is_healthy"], result["queue"]["has_errors"]) == (True, True)
    assert result["wait"]["AddResource"]["error_count"] >= 1


def test_ov_status_and_health_show_the_state_and_identity(live: Live, failed_task: str) -> None:
    status = run_ov(live, "status", json_output=False)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "Connected (Healthy)" in status.stdout
    errors = next(line for line in status.stdout.splitlines() if line.strip().startswith("Errors"))
    assert int(errors.split()[-1]) >= 1
    health = run_ov(live, "health", json_output=False)
    assert health.returncode == 0, health.stdout + health.stderr
    words = [line.split() for line in health.stdout.splitlines()]
    lines = {w[0]: w[-1] for w in words if len(w) >= 2}
    assert (lines.get("Account"), lines.get("User"), lines.get("Role")) == ("acme", "ben", "user")
    assert "Connected (Healthy)" in health.stdout
