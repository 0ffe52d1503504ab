"""`/api/v1/stats`: memory health and a session's extraction record over REST."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.memory.memory_file import isoformat_utc, render_memory
from openviking_mcp.memory.stats import hotness_score
from openviking_mcp.storage.index import IndexRecord
from openviking_mcp.storage.queue import TaskHandle
from tests.http_api._routes import error_of, result_of

BASE = "/api/v1/stats"
MEMORIES = "default/user/default/memories"
CATEGORIES = [
    "cases",
    "entities",
    "events",
    "experiences",
    "identity",
    "patterns",
    "preferences",
    "profile",
    "skills",
    "tools",
]


def _config(workspace: Path, **server: Any) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
            "server": server,
        }
    )


def _service(client: TestClient) -> ContextService:
    service: ContextService = client.app.state.service  # type: ignore[attr-defined]
    return service


async def _phase2(task: TaskHandle) -> dict[str, Any]:
    """Commit phase 2 stand-in: a memory diff with two adds and an update, then ``.done``."""
    ctx = task.context
    archive = str(task.payload["archive_uri"]).removeprefix("viking://")
    key = f"{ctx.account_id}/{archive}"
    service = _PHASE2_SERVICE[0]
    ops = {
        "adds": [
            {"uri": "u1", "memory_type": "preferences", "after": "x"},
            {"uri": "u2", "memory_type": "events", "after": "y"},
        ],
        "updates": [{"uri": "u3", "memory_type": "preferences", "before": "a", "after": "b"}],
        "deletes": [{"uri": "u4", "memory_type": "cases", "deleted_content": "z"}],
    }
    diff = json.dumps({"operations": ops}).encode()
    await service.store.content.write_bytes(f"{key}/memory_diff.json", diff)
    await service.store.content.write_bytes(f"{key}/.done", b"")
    return {"archive_uri": task.payload["archive_uri"]}


_PHASE2_SERVICE: list[ContextService] = []


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_config(workspace))) as c:
        service = _service(c)
        _PHASE2_SERVICE[:] = [service]
        service.store.tasks.register("session_commit", _phase2)
        yield c


def _write_memory(client: TestClient, rel: str, memory_type: str | None, age_days: float) -> None:
    when = datetime.now(UTC) - timedelta(days=age_days)
    fields = {} if memory_type is None else {"memory_type": memory_type}
    if memory_type is not None:
        fields.update(created_at=isoformat_utc(when), updated_at=isoformat_utc(when))
    text = render_memory(f"memory {rel}", fields) if fields else f"memory {rel}\n"
    write = functools.partial(
        _service(client).store.content.write_bytes, f"{MEMORIES}/{rel}", text.encode()
    )
    client.portal.call(write)  # type: ignore[union-attr]


def test_memory_stats_empty(client: TestClient) -> None:
    stats = result_of(client.get(f"{BASE}/memories"))
    assert stats["total_memories"] == 0
    assert stats["by_category"] == {c: 0 for c in CATEGORIES}
    assert stats["hotness_distribution"] == {"cold": 0, "warm": 0, "hot": 0}
    assert stats["staleness"] == {
        "not_accessed_7d": 0,
        "not_accessed_30d": 0,
        "oldest_memory_age_days": 0,
    }


def test_memory_stats_counts_categories_and_staleness(client: TestClient) -> None:
    _write_memory(client, "preferences/coffee.md", "preferences", 0)
    _write_memory(client, "preferences/editor.md", "preferences", 10)
    _write_memory(client, "events/2026/01/02/launch.md", "events", 40)
    _write_memory(client, "profile.md", None, 0)  # no fields block: category from the path
    _write_memory(client, "entities/people/dana.md", None, 0)
    _write_memory(client, "preferences/.abstract.md", None, 0)  # sidecars are not memories
    stats = result_of(client.get(f"{BASE}/memories"))
    assert stats["total_memories"] == 5
    by = stats["by_category"]
    assert (by["preferences"], by["events"], by["profile"], by["entities"], by["cases"]) == (
        2,
        1,
        1,
        1,
        0,
    )
    assert stats["staleness"]["not_accessed_7d"] == 2  # updated_at 10 and 40 days ago
    assert stats["staleness"]["not_accessed_30d"] == 1
    assert 39.9 <= stats["staleness"]["oldest_memory_age_days"] <= 40.1
    # unused: fresh ones are warm (0.5), the 10- and 40-day-old ones cold
    assert stats["hotness_distribution"] == {"cold": 2, "warm": 3, "hot": 0}

    only = result_of(client.get(f"{BASE}/memories", params={"category": "preferences"}))
    assert only["total_memories"] == 2
    assert only["by_category"] == {"preferences": 2}
    for upstream_only in ("tools", "skills"):  # the original's categories, none stored here
        none = result_of(client.get(f"{BASE}/memories", params={"category": upstream_only}))
        assert none["total_memories"] == 0
        assert none["by_category"] == {upstream_only: 0}
    bad = error_of(client.get(f"{BASE}/memories", params={"category": "gadgets"}), 400)
    assert bad["code"] == "INVALID_ARGUMENT"
    assert {"preferences", "experiences", "tools", "skills"} <= set(bad["details"]["allowed"])
    # another user sees their own (empty) memories
    other = result_of(client.get(f"{BASE}/memories", headers={"X-OpenViking-User": "bob"}))
    assert other["total_memories"] == 0


def test_memory_stats_hotness_uses_active_count(client: TestClient) -> None:
    _write_memory(client, "preferences/coffee.md", "preferences", 0)
    _write_memory(client, "preferences/tea.md", "preferences", 0)
    service = _service(client)
    record = IndexRecord(
        uri="viking://user/default/memories/preferences/coffee.md",
        level=2,
        account_id="default",
        context_type="memory",
        vector=np.ones(64, dtype=np.float32) / 8.0,
        text="memory",
        owner_user_id="default",
        active_count=50,
    )
    client.portal.call(service.store.index.upsert, [record])  # type: ignore[union-attr]
    stats = result_of(client.get(f"{BASE}/memories"))
    assert stats["hotness_distribution"] == {"cold": 0, "warm": 1, "hot": 1}


def test_hotness_score() -> None:
    assert hotness_score(0, 0) == pytest.approx(0.5)
    assert hotness_score(0, 7) == pytest.approx(0.25)
    assert hotness_score(100, 0) > 0.95
    assert hotness_score(100, 365) < 0.2
    assert hotness_score(-3, -1) == pytest.approx(0.5)


def test_session_stats(client: TestClient) -> None:
    sessions = "/api/v1/sessions"
    result_of(client.post(sessions, json={"session_id": "chat"}))
    fresh = result_of(client.get(f"{BASE}/sessions/chat"))
    assert fresh["session_id"] == "chat"
    assert fresh["total_turns"] == fresh["commit_count"] == fresh["pending_tokens"] == 0
    assert fresh["memories_extracted"] == {"total": 0}
    assert fresh["archives"] == {"total": 0, "done": 0, "pending": 0, "failed": 0}

    for role, text in (("user", "I like dark roast"), ("assistant", "Noted"), ("user", "Thanks")):
        result_of(client.post(f"{sessions}/chat/messages", json={"role": role, "content": text}))
    used = {"contexts": ["viking://resources"], "skills": []}
    result_of(client.post(f"{sessions}/chat/used", json=used))
    before = result_of(client.get(f"{BASE}/sessions/chat"))
    assert before["total_turns"] == before["message_count"] == 3
    assert before["pending_tokens"] > 0
    assert before["contexts_used"] == 1

    commit = result_of(client.post(f"{sessions}/chat/commit", json={"wait": True}))
    assert commit["status"] == "accepted"
    after = result_of(client.get(f"{BASE}/sessions/chat"))
    assert after["commit_count"] == 1
    assert after["message_count"] == 0
    assert after["total_turns"] == 3
    assert after["pending_tokens"] == 0
    assert after["last_commit_at"]
    assert after["archives"] == {"total": 1, "done": 1, "pending": 0, "failed": 0}
    assert after["memories_extracted"] == {"events": 1, "preferences": 2, "total": 3}
    assert after["contexts_used"] == 1  # moved into the archive, still counted
    assert after["skills_used"] == 0


def test_session_stats_errors(client: TestClient) -> None:
    missing = error_of(client.get(f"{BASE}/sessions/nope"), 404)
    assert missing["details"] == {"type": "session", "resource": "nope"}
    error_of(client.get(f"{BASE}/sessions/bad%20id"), 400)
    result_of(client.post("/api/v1/sessions", json={"session_id": "mine"}))
    error_of(client.get(f"{BASE}/sessions/mine", headers={"X-OpenViking-User": "bob"}), 404)


def test_stats_need_a_user_space(workspace: Path) -> None:
    with TestClient(create_app(_config(workspace, root_api_key="root-key-stats"))) as client:
        root = {"X-API-Key": "root-key-stats"}
        assert error_of(client.get(f"{BASE}/memories", headers=root), 403)["code"] == (
            "PERMISSION_DENIED"
        )
        error_of(client.get(f"{BASE}/sessions/x", headers=root), 403)
        error_of(client.get(f"{BASE}/memories"), 401)
