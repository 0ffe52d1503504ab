"""Batches of the task queue: tasks of one type and caller run in one handler call."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.storage.metadata import MetadataBackend
from openviking_mcp.storage.queue import INTERACTIVE, TaskHandle, TaskQueue

pytestmark = pytest.mark.anyio

ALICE = RequestContext("acme", "alice", Role.USER)
BOB = RequestContext("acme", "bob", Role.USER)


async def test_pending_tasks_of_one_caller_run_in_one_batch(db: MetadataBackend) -> None:
    batches: list[list[tuple[str, int]]] = []

    async def handler(tasks: list[TaskHandle]) -> dict[str, Any]:
        batches.append([(t.context.user_id, t.payload["n"]) for t in tasks])
        return {"items": sum(t.payload["n"] for t in tasks)}

    queue = TaskQueue(db, workers=1)
    queue.register_batch("sum", handler, max_tasks=4, linger=0)
    alice = [await queue.submit("sum", ALICE, {"n": n}, priority=INTERACTIVE) for n in range(6)]
    bob = await queue.submit("sum", BOB, {"n": 100}, priority=INTERACTIVE)
    await queue.start()
    try:
        records = [await queue.wait(task_id, timeout=10) for task_id in [*alice, bob]]
    finally:
        await queue.stop()
    assert [len(b) for b in batches] == [4, 2, 1]  # at most 4; never two callers together
    assert {user for batch in batches for user, _ in batch[:1]} == {"alice", "bob"}
    assert all(len({user for user, _ in batch}) == 1 for batch in batches)
    assert [r.status for r in records] == ["completed"] * 7
    assert records[0].result == {"items": 0 + 1 + 2 + 3}  # the batch's result
    assert records[5].result == {"items": 4 + 5}
    assert records[6].result == {"items": 100}


async def test_a_failing_batch_runs_again_task_by_task(db: MetadataBackend) -> None:
    sizes: list[int] = []

    async def handler(tasks: list[TaskHandle]) -> str:
        sizes.append(len(tasks))
        if any(t.payload["bad"] for t in tasks):
            raise ValueError("a bad task")
        return "ok"

    queue = TaskQueue(db, workers=1)
    queue.register_batch("job", handler, max_tasks=8, linger=0)
    ids = [await queue.submit("job", ALICE, {"bad": i == 1}, max_attempts=1) for i in range(3)]
    await queue.start()
    try:
        records = [await queue.wait(task_id, timeout=10) for task_id in ids]
    finally:
        await queue.stop()
    assert sizes == [3, 1, 1, 1]
    assert [r.status for r in records] == ["completed", "failed", "completed"]
    assert "a bad task" in (records[1].error or "")


async def test_held_tasks_make_a_worker_linger_for_more(db: MetadataBackend) -> None:
    """While a task is held (a write in flight), a batch that is not full waits ``linger``
    once and takes the tasks released meanwhile."""
    sizes: list[int] = []

    async def handler(tasks: list[TaskHandle]) -> None:
        sizes.append(len(tasks))

    queue = TaskQueue(db, workers=1)
    queue.register_batch("job", handler, max_tasks=8, linger=0.5)
    held = await queue.submit("job", ALICE, {}, hold=True)
    first = await queue.submit("job", ALICE, {})
    await queue.start()
    try:
        await queue.release(held)  # released while the worker lingers on ``first``
        for task_id in (first, held):
            assert (await queue.wait(task_id, timeout=10)).status == "completed"
    finally:
        await queue.stop()
    assert sizes == [2]


async def test_batches_of_one_kind_run_one_at_a_time(db: MetadataBackend) -> None:
    """With two workers, the tasks queued while a batch runs wait and form the next batch."""
    sizes: list[int] = []
    running = 0
    peak = 0
    first_started = asyncio.Event()
    go_on = asyncio.Event()

    async def handler(tasks: list[TaskHandle]) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        sizes.append(len(tasks))
        first_started.set()
        await go_on.wait()
        running -= 1

    queue = TaskQueue(db, workers=2)
    queue.register_batch("job", handler, max_tasks=16, linger=0)
    ids = [await queue.submit("job", ALICE, {}, priority=INTERACTIVE)]
    await queue.start()
    try:
        await asyncio.wait_for(first_started.wait(), 10)
        ids += [await queue.submit("job", ALICE, {}, priority=INTERACTIVE) for _ in range(5)]
        await asyncio.sleep(0.3)  # both workers have had time to claim
        go_on.set()
        for task_id in ids:
            assert (await queue.wait(task_id, timeout=10)).status == "completed"
    finally:
        await queue.stop()
    assert peak == 1
    assert sizes == [1, 5]
