"""The durable task queue: completion, retries, failures, cancellation, priorities, recovery."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp.contract.errors import (
    DeadlineExceededError,
    FailedPreconditionError,
    NotFoundError,
)
from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.storage.metadata import Connection, MetadataBackend
from openviking_mcp.storage.queue import (
    BULK,
    INTERACTIVE,
    TaskHandle,
    TaskQueue,
    TransientError,
)

pytestmark = pytest.mark.anyio

ALICE = RequestContext("acme", "alice", Role.USER)
BOB = RequestContext("acme", "bob", Role.USER)


async def _started(db: MetadataBackend, handlers: dict[str, Any], workers: int = 2) -> TaskQueue:
    queue = TaskQueue(db, workers=workers)
    for name, handler in handlers.items():
        queue.register(name, handler)
    await queue.start()
    return queue


async def test_submit_run_and_wait(db: MetadataBackend) -> None:
    async def echo(task: TaskHandle) -> dict[str, Any]:
        await task.report("working", items=3)
        return {"echo": task.payload["x"]}

    queue = await _started(db, {"echo": echo})
    try:
        task_id = await queue.submit("echo", ALICE, {"x": 42})
        record = await queue.wait(task_id, timeout=10)
        assert record.status == "completed"
        assert record.result == {"echo": 42}
        assert record.progress == {"items": 3}
        assert record.stage == "done"
        public = record.to_dict()
        assert public["created_at_iso"].endswith("Z")
        assert queue.stats["processed"] == 1
    finally:
        await queue.stop()


async def test_transient_errors_retry_then_succeed(
    db: MetadataBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("openviking_mcp.storage.queue._POLL_SECONDS", 0.05)
    monkeypatch.setattr("openviking_mcp.storage.queue._BACKOFF_MAX_SECONDS", 0.05)
    calls: list[int] = []

    async def flaky(task: TaskHandle) -> str:
        calls.append(1)
        await task.checkpoint("step", seen=len(calls))
        if len(calls) < 2:
            raise TransientError("model overloaded")
        return f"ok after {task.state['seen']}"

    queue = await _started(db, {"flaky": flaky})
    try:
        task_id = await queue.submit("flaky", ALICE, {})
        record = await queue.wait(task_id, timeout=20)
        assert record.status == "completed"
        assert record.result == "ok after 2"
        assert record.attempts == 2
        assert queue.stats["retried"] == 1
    finally:
        await queue.stop()


async def test_transient_errors_give_up_after_max_attempts(
    db: MetadataBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("openviking_mcp.storage.queue._POLL_SECONDS", 0.05)
    monkeypatch.setattr("openviking_mcp.storage.queue._BACKOFF_MAX_SECONDS", 0.05)

    async def always(task: TaskHandle) -> None:
        await task.report("embedding")
        raise TransientError("still down")

    queue = await _started(db, {"always": always})
    try:
        task_id = await queue.submit("always", ALICE, {}, max_attempts=2)
        record = await queue.wait(task_id, timeout=20)
        assert record.status == "failed"
        assert record.attempts == 2
        assert record.error == "[embedding] TransientError: still down"
    finally:
        await queue.stop()


async def test_permanent_failure_records_stage_and_does_not_block(db: MetadataBackend) -> None:
    async def broken(task: TaskHandle) -> None:
        await task.report("parsing")
        raise ValueError("bad input file")

    async def fine(task: TaskHandle) -> str:
        return "fine"

    queue = await _started(db, {"broken": broken, "fine": fine}, workers=1)
    try:
        bad = await queue.submit("broken", ALICE, {})
        good = await queue.submit("fine", ALICE, {})
        assert (await queue.wait(good, timeout=10)).status == "completed"
        failed = await queue.wait(bad, timeout=10)
        assert failed.status == "failed"
        assert failed.attempts == 1
        assert failed.error == "[parsing] ValueError: bad input file"
    finally:
        await queue.stop()


async def test_cancel_pending_and_running(db: MetadataBackend) -> None:
    started = asyncio.Event()

    async def slow(task: TaskHandle) -> str:
        started.set()
        for _ in range(200):
            await asyncio.sleep(0.01)
            await task.checkpoint("looping")
        return "finished"

    queue = await _started(db, {"slow": slow}, workers=1)
    try:
        running = await queue.submit("slow", ALICE, {})
        pending = await queue.submit("slow", ALICE, {})
        await asyncio.wait_for(started.wait(), 5)
        assert (await queue.cancel(pending, ALICE)).status == "cancelled"
        await queue.cancel(running, ALICE)
        assert (await queue.wait(running, timeout=10)).status == "cancelled"
        with pytest.raises(FailedPreconditionError):
            await queue.cancel(running, ALICE)
    finally:
        await queue.stop()


async def test_interactive_lane_is_not_starved_by_bulk_work(db: MetadataBackend) -> None:
    release = asyncio.Event()
    order: list[str] = []

    async def bulk(task: TaskHandle) -> None:
        order.append("bulk-start")
        await release.wait()

    async def write(task: TaskHandle) -> None:
        order.append("write")

    queue = await _started(db, {"bulk": bulk, "write": write}, workers=2)
    try:
        for _ in range(3):
            await queue.submit("bulk", ALICE, {}, priority=BULK)
        await asyncio.sleep(0.2)
        interactive = await queue.submit("write", ALICE, {}, priority=INTERACTIVE)
        assert (await queue.wait(interactive, timeout=5)).status == "completed"
        assert order.count("bulk-start") == 1  # one worker stays free for interactive work
        release.set()
    finally:
        await queue.stop()


async def test_wait_times_out(db: MetadataBackend) -> None:
    async def never(task: TaskHandle) -> None:
        await asyncio.sleep(30)

    queue = await _started(db, {"never": never})
    try:
        task_id = await queue.submit("never", ALICE, {})
        with pytest.raises(DeadlineExceededError):
            await queue.wait(task_id, timeout=0.3)
    finally:
        await queue.stop()


async def test_tasks_are_private_to_their_owner(db: MetadataBackend) -> None:
    async def noop(task: TaskHandle) -> None:
        return None

    queue = await _started(db, {"noop": noop})
    try:
        task_id = await queue.submit("noop", ALICE, {}, resource_id="viking://resources/x")
        await queue.wait(task_id, timeout=5)
        with pytest.raises(NotFoundError, match="Task not found"):
            await queue.get(task_id, BOB)
        assert [t.task_id for t in await queue.list(ALICE)] == [task_id]
        assert await queue.list(BOB) == []
        assert [t.task_id for t in await queue.list(RequestContext.root("acme"))] == [task_id]
        assert await queue.list(ALICE, resource_id="viking://resources/y") == []
        assert len(await queue.list(ALICE, status="completed", task_type="noop")) == 1
    finally:
        await queue.stop()


async def test_stop_returns_running_work_to_pending(db: MetadataBackend) -> None:
    started = asyncio.Event()

    async def slow(task: TaskHandle) -> None:
        started.set()
        await asyncio.sleep(30)

    queue = await _started(db, {"slow": slow})
    task_id = await queue.submit("slow", ALICE, {})
    await asyncio.wait_for(started.wait(), 5)
    await queue.stop()
    assert (await queue.get(task_id)).status == "pending"


async def test_tasks_of_a_dead_process_are_resumed(db: MetadataBackend, tmp_path: Path) -> None:
    now = time.time()
    dead_owner = f"{socket.gethostname()}:999999:deadbeef"

    def insert(conn: Connection) -> None:
        conn.execute(
            "INSERT INTO tasks(task_id, task_type, status, priority, account_id, user_id, role, "
            "payload, state, stage, lease_owner, lease_until, attempts, created_at, updated_at) "
            "VALUES ('t1', 'resume', 'running', 10, 'acme', 'alice', 'user', ?, ?, 'embedding', "
            "?, ?, 1, ?, ?)",
            (json.dumps({"n": 1}), json.dumps({"done": 5}), dead_owner, now + 3600, now, now),
        )

    db.run(insert)

    async def resume(task: TaskHandle) -> dict[str, Any]:
        return {"resumed_from": task.state["done"], "stage": task.record.stage}

    queue = await _started(db, {"resume": resume})
    try:
        record = await queue.wait("t1", timeout=10)
        assert record.status == "completed"
        assert record.result == {"resumed_from": 5, "stage": "embedding"}
        assert record.attempts == 2
    finally:
        await queue.stop()
