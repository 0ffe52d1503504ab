"""`/api/v1/sessions`: the original's session routes, envelopes and bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.storage.queue import TaskHandle
from tests.http_api._routes import error_of, result_of

BASE = "/api/v1/sessions"


async def _phase2(task: TaskHandle) -> dict[str, Any]:
    return {"archive_uri": task.payload["archive_uri"], "stub": True}


@pytest.fixture
def client(config: OpenVikingConfig) -> Iterator[TestClient]:
    with TestClient(create_app(config)) as c:
        service: ContextService = c.app.state.service  # type: ignore[attr-defined]
        service.store.tasks.register("session_commit", _phase2)  # phase 2 stand-in
        yield c


def test_session_lifecycle(client: TestClient) -> None:
    created = result_of(client.post(BASE, json={"session_id": "s1"}))
    assert created["session_id"] == "s1"
    assert created["uri"] == "viking://user/default/sessions/s1"
    assert created["user"] == {"account_id": "default", "user_id": "default"}
    assert error_of(client.post(BASE, json={"session_id": "s1"}), 409)["code"] == "ALREADY_EXISTS"
    generated = result_of(client.post(BASE))  # body optional
    assert generated["session_id"] != "s1"

    listed = result_of(client.get(BASE))
    assert {s["session_id"] for s in listed} == {"s1", generated["session_id"]}

    assert result_of(client.get(f"{BASE}/s1"))["message_count"] == 0
    missing = error_of(client.get(f"{BASE}/nope"), 404)
    assert missing["code"] == "NOT_FOUND"
    assert missing["details"] == {"type": "session", "resource": "nope"}
    assert (
        result_of(client.get(f"{BASE}/made", params={"auto_create": True}))["session_id"] == "made"
    )

    assert result_of(client.delete(f"{BASE}/s1"))["session_id"] == "s1"
    error_of(client.delete(f"{BASE}/s1"), 404)


def test_messages_used_commit_context_and_archives(client: TestClient) -> None:
    added = result_of(client.post(f"{BASE}/chat/messages", json={"role": "user", "content": "hi"}))
    assert added["session_id"] == "chat"  # auto-created
    assert added["message_count"] == 1
    parts = [
        {"type": "text", "text": "done"},
        {"type": "tool", "tool_name": "ls", "tool_input": {"path": "."}, "tool_output": "a b"},
    ]
    result_of(client.post(f"{BASE}/chat/messages", json={"role": "assistant", "parts": parts}))
    batch = result_of(
        client.post(
            f"{BASE}/chat/messages/batch",
            json={
                "messages": [
                    {"role": "user", "content": "x"},
                    {"role": "assistant", "content": "y"},
                ]
            },
        )
    )
    assert batch["added"] == 2
    assert batch["message_count"] == 4

    used = result_of(
        client.post(f"{BASE}/chat/used", json={"contexts": ["viking://resources/a.md"]})
    )
    assert used == {"session_id": "chat", "contexts_used": 1, "skills_used": 0}

    context = result_of(client.get(f"{BASE}/chat/context", params={"token_budget": 100000}))
    assert len(context["messages"]) == 4
    assert context["stats"]["totalArchives"] == 0
    assert context["latest_archive_overview"] == ""  # no archive: "" (never null)
    assert context["pre_archive_abstracts"] == []

    commit = result_of(
        client.post(f"{BASE}/chat/commit", json={"keep_recent_count": 1, "wait": True})
    )
    assert commit["status"] == "accepted"
    assert commit["archive_uri"] == "viking://user/default/sessions/chat/history/archive_001"
    assert commit["task_status"] == "completed"
    assert commit["result"]["stub"] is True
    skipped = result_of(client.post(f"{BASE}/chat/commit", json={"keep_recent_count": 1}))
    assert skipped["status"] == "skipped"
    assert skipped["reason"] == "all_within_keep_window"

    archives = result_of(client.get(f"{BASE}/chat/archives"))
    assert [(a["archive_id"], a["status"]) for a in archives] == [("archive_001", "pending")]
    archive = result_of(client.get(f"{BASE}/chat/archives/archive_001"))
    assert len(archive["messages"]) == 3
    assert [c["uri"] for c in archive["meta"]["used"]["contexts"]] == ["viking://resources/a.md"]
    error_of(client.get(f"{BASE}/chat/archives/7"), 404)

    service: ContextService = client.app.state.service  # type: ignore[attr-defined]
    failed_key = "default/user/default/sessions/chat/history/archive_001/.failed.json"
    payload = json.dumps({"stage": "extracting", "error": "boom"}).encode()
    client.portal.call(service.store.content.write_bytes, failed_key, payload)  # type: ignore[union-attr]
    assert result_of(client.get(f"{BASE}/chat/archives/1"))["failure"]["error"] == "boom"
    retried = result_of(client.post(f"{BASE}/chat/archives/1/retry", json={"wait": True}))
    assert retried["task_status"] == "completed"
    assert result_of(client.get(f"{BASE}/chat/archives/1"))["status"] == "pending"


def test_bad_input(client: TestClient) -> None:
    bad_role = error_of(
        client.post(f"{BASE}/s/messages", json={"role": "robot", "content": "x"}), 400
    )
    assert bad_role["code"] == "INVALID_ARGUMENT"
    error_of(client.post(f"{BASE}/s/messages", json={"role": "user", "content": ""}), 400)
    error_of(client.post(f"{BASE}/s/messages", json={"role": "user", "parts": []}), 400)
    error_of(client.post(f"{BASE}/s/messages/batch", json={"messages": []}), 400)
    result_of(client.post(BASE, json={"session_id": "s"}))
    error_of(client.get(f"{BASE}/s/context", params={"token_budget": -1}), 400)
    error_of(client.post(f"{BASE}/nope/commit"), 404)
    error_of(client.post(f"{BASE}/nope/extract"), 404)
    error_of(client.post(f"{BASE}/nope/used", json={"contexts": []}), 404)
    error_of(client.get(f"{BASE}/nope/archives"), 404)
    error_of(client.post(BASE, json={"session_id": "../x"}), 400)


def test_session_config_patch(client: TestClient) -> None:
    created = result_of(client.post(BASE, json={"session_id": "cfg"}))
    assert created["llm_token_usage"]["total_tokens"] == 0  # the detail fields of GET
    assert created["last_commit_at"] == ""
    config = f"{BASE}/cfg/config"
    on = result_of(client.patch(config, json={"auto_commit_policy": {"keep_recent_count": 2}}))
    assert set(on) == {"session_id", "auto_commit_policy", "memory_extraction_config"}
    assert on["auto_commit_policy"]["keep_recent_count"] == 2
    assert on["auto_commit_policy"]["message_count_threshold"] == 100  # defaults filled in
    tags = {"events": {"tags": ["Team=Core"]}}
    tagged = result_of(client.patch(config, json={"memory_extraction_config": tags}))
    assert tagged["auto_commit_policy"]["keep_recent_count"] == 2  # absent: untouched
    assert tagged["memory_extraction_config"] == {"events": {"tags": ["team=core"]}}
    off = result_of(client.patch(config, json={"auto_commit_policy": None, "telemetry": True}))
    assert off["auto_commit_policy"] is None  # null: cleared
    assert off["memory_extraction_config"] == {"events": {"tags": ["team=core"]}}
    detail = result_of(client.get(f"{BASE}/cfg"))
    assert detail["auto_commit_policy"] is None
    assert detail["memory_extraction_config"] == {"events": {"tags": ["team=core"]}}
    assert result_of(client.patch(config)) == off  # body optional, nothing changes


def test_session_config_patch_refuses_bad_input(client: TestClient) -> None:
    result_of(client.post(BASE, json={"session_id": "cfg"}))
    config = f"{BASE}/cfg/config"
    unknown = error_of(client.patch(config, json={"memory_policy": {}}), 400)
    assert unknown["code"] == "INVALID_ARGUMENT"
    bad_key = error_of(client.patch(config, json={"auto_commit_policy": {"often": 1}}), 400)
    assert bad_key["details"]["field"] == "auto_commit_policy"
    null_field = error_of(
        client.patch(config, json={"auto_commit_policy": {"idle_timeout_seconds": None}}), 400
    )
    assert null_field["details"]["field"] == "auto_commit_policy.idle_timeout_seconds"
    bad_tag = error_of(
        client.patch(config, json={"memory_extraction_config": {"events": {"tags": ["x"]}}}), 400
    )
    assert bad_tag["details"]["field"] == "memory_extraction_config.events.tags"
    error_of(client.patch(config, json={"session_id": "other"}), 400)
    missing = error_of(client.patch(f"{BASE}/nope/config", json={"auto_commit_policy": None}), 404)
    assert missing["code"] == "NOT_FOUND"
