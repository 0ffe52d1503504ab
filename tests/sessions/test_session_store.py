"""Sessions in the store: lifecycle, messages, used, context, commit phase 1, retry, auto-commit.

Phase 2 is replaced by a recording stub (registered on the task queue), so these tests see
exactly what phase 1 writes and queues, whether or not the memory engine is present.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.contract.errors import (
    AlreadyExistsError,
    ConflictError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    OpenVikingError,
    PermissionDeniedError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.sessions.messages import TOOL_OUTPUT_PREVIEW
from openviking_mcp.storage.queue import TaskHandle

pytestmark = [pytest.mark.anyio, pytest.mark.both_backends]

SESSIONS = "default/user/default/sessions"


class Phase2Stub:
    """Stands in for commit phase 2: records the payloads it gets."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []

    async def __call__(self, task: TaskHandle) -> dict[str, Any]:
        self.payloads.append(dict(task.payload))
        return {"archive_uri": task.payload["archive_uri"], "stub": True}


@pytest.fixture
def svc(service: ContextService) -> ContextService:
    return service


@pytest.fixture
def phase2(service: ContextService) -> Phase2Stub:
    stub = Phase2Stub()
    service.store.tasks.register("session_commit", stub)
    return stub


@pytest.fixture
def ctx(service: ContextService) -> RequestContext:
    return service.dev_context()


async def _lines(svc: ContextService, key: str) -> list[dict[str, Any]]:
    raw = (await svc.store.content.read_bytes(key)).decode()
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


async def _json(svc: ContextService, key: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(await svc.store.content.read_bytes(key))
    return doc


# -- lifecycle -------------------------------------------------------------------------------


async def test_create_list_get_delete(svc: ContextService, ctx: RequestContext) -> None:
    created = await svc.create_session(ctx, "chat-1")
    assert created["session_id"] == "chat-1"
    assert created["uri"] == "viking://user/default/sessions/chat-1"
    assert created["user"] == {"account_id": "default", "user_id": "default"}
    assert created["message_count"] == 0
    assert created["auto_commit_policy"] is None
    with pytest.raises(AlreadyExistsError):
        await svc.create_session(ctx, "chat-1")

    generated = await svc.create_session(ctx)
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{16}", generated["session_id"])

    listed = await svc.list_sessions(ctx)
    assert {s["session_id"] for s in listed} == {"chat-1", generated["session_id"]}
    assert all(
        s["is_dir"] and s["uri"].startswith("viking://user/default/sessions/") for s in listed
    )
    await svc.add_message(ctx, "chat-1", "user", "touch it")
    assert (await svc.list_sessions(ctx))[0]["session_id"] == "chat-1"  # newest change first

    got = await svc.get_session(ctx, "chat-1")
    assert got["message_count"] == 1
    assert got["total_message_count"] == 1
    assert got["last_message_at"]

    with pytest.raises(NotFoundError) as info:
        await svc.get_session(ctx, "nope")
    assert info.value.details == {"type": "session", "resource": "nope"}
    assert info.value.http_status == 404
    auto = await svc.get_session(ctx, "auto", auto_create=True)
    assert auto["session_id"] == "auto"

    assert (await svc.delete_session(ctx, "chat-1"))["session_id"] == "chat-1"
    with pytest.raises(NotFoundError):
        await svc.get_session(ctx, "chat-1")
    with pytest.raises(NotFoundError):
        await svc.delete_session(ctx, "chat-1")


async def test_bad_ids_and_root(svc: ContextService, ctx: RequestContext) -> None:
    for bad in ("../x", "a/b", ".hidden", "x" * 200):
        with pytest.raises(InvalidArgumentError):
            await svc.create_session(ctx, bad)
    with pytest.raises(PermissionDeniedError):
        await svc.create_session(RequestContext.root("default"), "s")
    with pytest.raises(InvalidArgumentError):
        await svc.create_session(ctx, "p", auto_commit_policy={"bogus": 1})


# -- messages --------------------------------------------------------------------------------


async def test_add_message_content_and_parts(svc: ContextService, ctx: RequestContext) -> None:
    first = await svc.add_message(ctx, "s1", "user", "I prefer green tea")  # auto-creates
    assert first["session_id"] == "s1"
    assert first["message_count"] == 1
    assert first["pending_tokens"] > 0
    parts = [
        {"type": "text", "text": "Looked it up."},
        {
            "type": "context",
            "uri": "viking://~/memories/tea.md",
            "context_type": "memory",
            "abstract": "tea facts",
        },
        {
            "type": "tool",
            "tool_id": "t1",
            "tool_name": "search",
            "tool_input": {"q": "tea"},
            "tool_output": "3 hits",
            "tool_status": "completed",
        },
        {"type": "image_url", "image_url": "https://example.com/tea.png"},
    ]
    second = await svc.add_message(ctx, "s1", "assistant", "ignored", parts, turn_id="t-1")
    assert second["message_count"] == 2
    assert second["pending_tokens"] > first["pending_tokens"]

    lines = await _lines(svc, f"{SESSIONS}/s1/messages.jsonl")
    assert [m["role"] for m in lines] == ["user", "assistant"]
    assert lines[0]["parts"] == [{"type": "text", "text": "I prefer green tea"}]
    assert re.fullmatch(r"msg_[0-9a-f]{32}", lines[0]["id"])
    assert lines[0]["created_at"].endswith("Z")
    stored = lines[1]["parts"]
    assert [p["type"] for p in stored] == ["text", "context", "tool", "image_url"]
    assert stored[1]["uri"] == "viking://user/default/memories/tea.md"  # ~ expanded
    assert stored[2]["tool_input"] == {"q": "tea"}
    assert stored[3]["image_url"] == {"url": "https://example.com/tea.png"}
    assert lines[1]["turn_id"] == "t-1"
    meta = await _json(svc, f"{SESSIONS}/s1/.meta.json")
    assert meta["message_count"] == meta["total_message_count"] == 2
    assert meta["pending_tokens"] == second["pending_tokens"]


@pytest.mark.parametrize(
    ("role", "content", "parts"),
    [
        ("robot", "hi", None),
        ("", "hi", None),
        ("user", "", None),
        ("user", "   ", None),
        ("user", None, None),
        ("user", None, []),
        ("user", None, [{"type": "text", "text": ""}]),
        ("user", None, [{"type": "video", "url": "x"}]),
        ("user", None, [{"type": "context"}]),
        ("user", None, [{"type": "context", "uri": "https://not-viking"}]),
    ],
)
async def test_bad_messages_are_400(
    svc: ContextService, ctx: RequestContext, role: str, content: str | None, parts: Any
) -> None:
    with pytest.raises(OpenVikingError) as info:  # INVALID_ARGUMENT, or INVALID_URI
        await svc.add_message(ctx, "s1", role, content, parts)
    assert info.value.http_status == 400


async def test_system_and_tool_roles_are_accepted(svc: ContextService, ctx: RequestContext) -> None:
    await svc.add_message(ctx, "s1", "system", "You are helpful.")
    result = await svc.add_message(ctx, "s1", "tool", "42")
    assert result["message_count"] == 2


async def test_long_tool_output_is_externalised(svc: ContextService, ctx: RequestContext) -> None:
    output = "".join(f"line {i}\n" for i in range(4000))
    assert len(output) > 20_000
    part = {"type": "tool", "tool_id": "t1", "tool_name": "cat", "tool_output": output}
    await svc.add_message(ctx, "s1", "assistant", parts=[part])
    small = {"type": "tool", "tool_id": "t2", "tool_name": "cat", "tool_output": "x" * 20_000}
    await svc.add_message(ctx, "s1", "assistant", parts=[small])

    big, kept = (m["parts"][0] for m in await _lines(svc, f"{SESSIONS}/s1/messages.jsonl"))
    assert big["tool_output"] == output[:TOOL_OUTPUT_PREVIEW]
    assert big["tool_output_chars"] == len(output)
    assert big["tool_output_truncated"] is True
    uri = big["tool_output_uri"]
    assert re.fullmatch(r"viking://user/default/sessions/s1/tool-results/tr_[0-9a-f]{32}\.txt", uri)
    key = "default/" + uri.removeprefix("viking://")
    assert (await svc.store.content.read_bytes(key)).decode() == output
    assert kept["tool_output"] == "x" * 20_000  # at the limit: kept inline
    assert "tool_output_uri" not in kept


async def test_batch(svc: ContextService, ctx: RequestContext) -> None:
    result = await svc.add_messages(
        ctx,
        "b",
        [
            {"role": "user", "content": "one"},
            {"role": "assistant", "parts": [{"type": "text", "text": "two"}]},
            {"role": "user", "content": "three", "peer_id": "bob"},
        ],
    )
    assert result["added"] == 3
    assert result["message_count"] == 3
    lines = await _lines(svc, f"{SESSIONS}/b/messages.jsonl")
    assert lines[2]["peer_id"] == "bob"
    with pytest.raises(InvalidArgumentError):
        await svc.add_messages(ctx, "b", [])
    with pytest.raises(InvalidArgumentError):
        await svc.add_messages(ctx, "b", [{"role": "user", "content": "x"}] * 101)
    with pytest.raises(InvalidArgumentError) as info:
        await svc.add_messages(ctx, "b", [{"role": "user", "content": "ok"}, {"role": "bad"}])
    assert info.value.details["index"] == 1
    assert (await svc.get_session(ctx, "b"))["message_count"] == 3  # all or nothing


# -- used ------------------------------------------------------------------------------------


async def test_used_is_persisted_and_moves_into_the_archive(
    config: OpenVikingConfig, svc: ContextService, ctx: RequestContext, phase2: Phase2Stub
) -> None:
    await svc.add_message(ctx, "u", "user", "hello")
    result = await svc.record_used(
        ctx, "u", ["viking://resources/a.md", "viking://~/memories/b.md"]
    )
    assert result == {"session_id": "u", "contexts_used": 2, "skills_used": 0}
    skill = {
        "uri": "viking://agent/skills/greeter",
        "input": "hi",
        "output": "hello",
        "success": True,
    }
    result = await svc.record_used(ctx, "u", skill=skill)
    assert result["skills_used"] == 1
    with pytest.raises(NotFoundError):
        await svc.record_used(ctx, "missing", ["viking://resources/a.md"])
    with pytest.raises(InvalidArgumentError):
        await svc.record_used(ctx, "u", skill={"input": "no uri"})

    other = ContextService(config)  # another process opening the same workspace
    await other.initialize()
    try:
        meta = await other.get_session(other.dev_context(), "u")
    finally:
        await other.close()
    contexts = meta["used"]["contexts"]  # the original's usage records
    assert [c["uri"] for c in contexts] == [
        "viking://resources/a.md",
        "viking://user/default/memories/b.md",
    ]
    assert all(
        set(c) == {"uri", "type", "contribution", "input", "output", "success", "timestamp"}
        and (c["type"], c["contribution"], c["input"], c["output"], c["success"])
        == ("context", 0.0, "", "", True)
        for c in contexts
    )
    recorded = dict(meta["used"]["skills"][0])
    assert recorded.pop("timestamp").endswith("Z")
    assert recorded == {
        "uri": "viking://agent/skills/greeter",
        "type": "skill",
        "contribution": 0.0,
        "input": "hi",
        "output": "hello",
        "success": True,
    }

    commit = await svc.commit_session(ctx, "u")
    archive_meta = await _json(svc, f"{SESSIONS}/u/history/archive_001/.meta.json")
    assert archive_meta["used"] == meta["used"]
    assert (await svc.get_session(ctx, "u"))["used"] == {"contexts": [], "skills": []}
    assert commit["status"] == "accepted"


# -- context ---------------------------------------------------------------------------------


async def test_context_fits_the_budget(
    svc: ContextService, ctx: RequestContext, phase2: Phase2Stub
) -> None:
    for i in range(6):
        await svc.add_message(ctx, "c", "user", f"message number {i} " + "word " * 20)
    full = await svc.session_context(ctx, "c")
    assert len(full["messages"]) == 6
    assert full["pre_archive_abstracts"] == []
    assert full["latest_archive_overview"] == ""
    per_message = full["stats"]["activeTokens"] // 6
    tight = await svc.session_context(ctx, "c", token_budget=per_message * 2 + 1)
    assert [m["parts"][0]["text"].split()[2] for m in tight["messages"]] == ["4", "5"]
    assert tight["estimatedTokens"] <= per_message * 2 + 1
    assert (await svc.session_context(ctx, "c", token_budget=0))["messages"] == []
    with pytest.raises(InvalidArgumentError):
        await svc.session_context(ctx, "c", token_budget=-1)
    with pytest.raises(NotFoundError):
        await svc.session_context(ctx, "nope")

    # archive 1 finished (overview), archive 2 not: its messages still count as context
    await svc.commit_session(ctx, "c", keep_recent_count=4)
    base = f"{SESSIONS}/c/history/archive_001"
    await svc.store.content.write_bytes(f"{base}/.overview.md", b"# Session Summary\n\nTea talk.")
    await svc.store.content.write_bytes(f"{base}/.done", b"x")
    await svc.commit_session(ctx, "c", keep_recent_count=2)
    result = await svc.session_context(ctx, "c")
    assert "Tea talk." in result["latest_archive_overview"]
    assert len(result["messages"]) == 4  # 2 of the pending archive_002 + 2 live
    assert result["stats"]["totalArchives"] == 2
    assert result["stats"]["archiveTokens"] > 0
    assert result["estimatedTokens"] == (
        result["stats"]["activeTokens"] + result["stats"]["archiveTokens"]
    )
    no_room = await svc.session_context(ctx, "c", token_budget=result["stats"]["activeTokens"])
    assert no_room["latest_archive_overview"] == ""
    assert no_room["stats"]["droppedArchives"] == 1


# -- commit phase 1 --------------------------------------------------------------------------


async def test_commit_archives_and_keeps_the_tail(
    svc: ContextService, ctx: RequestContext, phase2: Phase2Stub
) -> None:
    for i in range(5):
        await svc.add_message(ctx, "k", "user" if i % 2 == 0 else "assistant", f"m{i}")
    result = await svc.commit_session(ctx, "k", keep_recent_count=2)
    archive_uri = "viking://user/default/sessions/k/history/archive_001"
    assert result["session_id"] == "k"
    assert result["status"] == "accepted"
    assert result["archived"] is True
    assert result["archive_uri"] == archive_uri
    assert result["task_id"]

    archived = await _lines(svc, f"{SESSIONS}/k/history/archive_001/messages.jsonl")
    assert [m["parts"][0]["text"] for m in archived] == ["m0", "m1", "m2"]
    live = await _lines(svc, f"{SESSIONS}/k/messages.jsonl")
    assert [m["parts"][0]["text"] for m in live] == ["m3", "m4"]
    archive_meta = await _json(svc, f"{SESSIONS}/k/history/archive_001/.meta.json")
    assert archive_meta["message_count"] == 3
    assert archive_meta["created_at"].endswith("Z")
    meta = await svc.get_session(ctx, "k")
    assert meta["message_count"] == 2
    assert meta["total_message_count"] == 5
    assert meta["commit_count"] == 1
    assert meta["last_commit_at"]

    record = await svc.store.tasks.get(result["task_id"])
    assert record.task_type == "session_commit"
    assert record.resource_id == archive_uri
    assert record.payload == {
        "session_id": "k",
        "archive": "archive_001",
        "archive_uri": archive_uri,
    }

    again = await svc.commit_session(ctx, "k", keep_recent_count=2)
    assert again == {
        "session_id": "k",
        "status": "skipped",
        "reason": "all_within_keep_window",
        "task_id": None,
        "archive_uri": None,
        "archived": False,
    }
    second = await svc.commit_session(ctx, "k")
    assert second["archive_uri"].endswith("/archive_002")
    empty = await svc.commit_session(ctx, "k")
    assert empty["status"] == "skipped"
    assert empty["reason"] == "no_messages"
    with pytest.raises(NotFoundError):
        await svc.commit_session(ctx, "nope")
    with pytest.raises(InvalidArgumentError):
        await svc.commit_session(ctx, "k", keep_recent_count=-1)

    archives = await svc.list_archives(ctx, "k")
    assert [a["archive_id"] for a in archives] == ["archive_001", "archive_002"]
    assert [a["message_count"] for a in archives] == [3, 2]


async def test_commit_wait_returns_the_phase2_result(
    svc: ContextService, ctx: RequestContext, phase2: Phase2Stub
) -> None:
    await svc.add_message(ctx, "w", "user", "hello")
    result = await svc.commit_session(ctx, "w", wait=True, timeout=30)
    assert result["task_status"] == "completed"
    assert result["result"]["stub"] is True
    assert phase2.payloads[0]["archive"] == "archive_001"


async def test_a_failed_archive_does_not_block_and_can_be_retried(
    svc: ContextService, ctx: RequestContext, phase2: Phase2Stub
) -> None:
    await svc.add_message(ctx, "f", "user", "first")
    first = await svc.commit_session(ctx, "f", wait=True, timeout=30)
    failure = {"stage": "extracting", "error": "model said nonsense"}
    archive_key = f"{SESSIONS}/f/history/archive_001"
    await svc.store.content.write_bytes(f"{archive_key}/.failed.json", json.dumps(failure).encode())

    got = await svc.get_archive(ctx, "f", 1)
    assert got["status"] == "failed"
    assert got["failure"] == failure
    assert [m["parts"][0]["text"] for m in got["messages"]] == ["first"]
    assert got["task"]["task_id"] == first["task_id"]

    await svc.add_message(ctx, "f", "user", "second")
    second = await svc.commit_session(ctx, "f")  # not blocked (the original answers 412)
    assert second["status"] == "accepted"
    assert second["archive_uri"].endswith("/archive_002")
    assert (await svc.session_context(ctx, "f"))["stats"]["failedArchives"] == 1

    retried = await svc.retry_archive(ctx, "f", "archive_001", wait=True, timeout=30)
    assert retried["status"] == "accepted"
    assert retried["task_status"] == "completed"
    assert retried["archive_uri"].endswith("/archive_001")
    assert not await svc.store.content.exists(f"{archive_key}/.failed.json")
    assert (await svc.get_archive(ctx, "f", "001"))[
        "status"
    ] == "pending"  # the stub writes no .done
    assert phase2.payloads[-1]["archive"] == "archive_001"

    assert got["memory_diff"] is None  # phase 2 has not written it
    diff = {"operations": {"adds": [{"uri": "viking://user/u/memories/x.md"}]}}
    await svc.store.content.write_bytes(
        f"{archive_key}/memory_diff.json", json.dumps(diff).encode()
    )
    await svc.store.content.write_bytes(f"{archive_key}/.done", b"x")
    done = await svc.get_archive(ctx, "f", 1)
    assert done["status"] == "done"
    assert done["memory_diff"] == diff
    with pytest.raises(FailedPreconditionError):
        await svc.retry_archive(ctx, "f", 1)
    with pytest.raises(NotFoundError):
        await svc.retry_archive(ctx, "f", 9)
    with pytest.raises(NotFoundError):
        await svc.get_archive(ctx, "f", 9)
    with pytest.raises(InvalidArgumentError):
        await svc.get_archive(ctx, "f", "latest")


async def test_retry_of_a_queued_archive_conflicts(
    svc: ContextService, ctx: RequestContext
) -> None:
    gate = asyncio.Event()

    async def slow(task: TaskHandle) -> dict[str, Any]:
        await gate.wait()
        return {}

    svc.store.tasks.register("session_commit", slow)
    await svc.add_message(ctx, "q", "user", "hello")
    result = await svc.commit_session(ctx, "q")
    try:
        with pytest.raises(ConflictError) as info:
            await svc.retry_archive(ctx, "q", 1)
        assert info.value.details["task_id"] == result["task_id"]
    finally:
        gate.set()
    await svc.store.tasks.wait(result["task_id"], 30)


async def test_commit_without_a_phase2_handler_keeps_the_archive_pending(
    svc: ContextService, ctx: RequestContext
) -> None:
    svc.store.tasks._handlers.pop("session_commit", None)  # a build without the memory engine
    await svc.add_message(ctx, "n", "user", "hello")
    result = await svc.commit_session(ctx, "n")
    assert result["status"] == "accepted"
    assert result["task_id"] is None
    assert (await svc.list_archives(ctx, "n"))[0]["status"] == "pending"


# -- auto-commit -----------------------------------------------------------------------------


async def test_auto_commit_by_message_count(
    svc: ContextService, ctx: RequestContext, phase2: Phase2Stub
) -> None:
    policy = {"message_count_threshold": 2, "keep_recent_count": 1}
    created = await svc.create_session(ctx, "a", auto_commit_policy=policy)
    assert created["auto_commit_policy"]["message_count_threshold"] == 2
    assert created["auto_commit_policy"]["pending_token_threshold"] == 150_000
    await svc.add_message(ctx, "a", "user", "one")
    second = await svc.add_message(ctx, "a", "assistant", "two")
    assert "auto_commit" not in second  # 2 is not greater than 2
    third = await svc.add_message(ctx, "a", "user", "three")
    auto = third["auto_commit"]
    assert auto["status"] == "accepted"
    assert auto["reason"] == "message_count"
    assert auto["archive_uri"].endswith("/archive_001")
    meta = await svc.get_session(ctx, "a")
    assert meta["message_count"] == 1  # keep_recent_count of the policy
    assert meta["last_auto_commit_at"]

    plain = await svc.add_message(ctx, "plain", "user", "no policy")  # off by default
    assert "auto_commit" not in plain


async def test_policy_values_are_clamped(svc: ContextService, ctx: RequestContext) -> None:
    created = await svc.create_session(
        ctx, "p", auto_commit_policy={"message_count_threshold": 10**9, "keep_recent_count": -5}
    )
    assert created["auto_commit_policy"]["message_count_threshold"] == 1000
    assert created["auto_commit_policy"]["keep_recent_count"] == 0


async def test_idle_sessions_are_committed(
    svc: ContextService, ctx: RequestContext, phase2: Phase2Stub
) -> None:
    await svc.create_session(ctx, "idle", auto_commit_policy={"idle_timeout_seconds": 60})
    await svc.add_message(ctx, "idle", "user", "hello")
    await svc.create_session(ctx, "fresh", auto_commit_policy={"idle_timeout_seconds": 60})
    await svc.add_message(ctx, "fresh", "user", "hello")
    await svc.add_message(ctx, "nopolicy", "user", "hello")
    key = f"{SESSIONS}/idle/.meta.json"
    meta = await _json(svc, key)
    meta["last_message_at"] = "2020-01-01T00:00:00Z"
    await svc.store.content.write_bytes(key, json.dumps(meta).encode())

    commits = await svc.check_idle_sessions(ctx)
    assert [c["session_id"] for c in commits] == ["idle"]
    assert await svc.commits.scan_idle_sessions() == 0  # nothing left to commit


# -- extract ---------------------------------------------------------------------------------


async def test_extract_runs_without_archiving(svc: ContextService, ctx: RequestContext) -> None:
    await svc.add_message(ctx, "e", "user", "Remember that my dog is called Rex.")
    result = await svc.extract(ctx, "e")
    assert result["session_id"] == "e"
    assert result["message_count"] == 1
    assert await svc.list_archives(ctx, "e") == []
    assert (await svc.get_session(ctx, "e"))["message_count"] == 1


async def test_extract_of_an_unknown_session_is_404(
    svc: ContextService, ctx: RequestContext
) -> None:
    with pytest.raises(NotFoundError):
        await svc.extract(ctx, "nope")
