"""Work a process leaves behind is picked up by the processes that keep running.

A process killed while it runs (or holds) a task leaves that task ``running`` under its lease.
A queue that is already running must put such tasks back and run them, not only a queue that
starts later; and a task submitted with ``hold`` runs only once released, or once its owner
is gone.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from typing import Any

import pytest

from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.storage.metadata import Connection, MetadataBackend
from openviking_mcp.storage.queue import TaskHandle, TaskQueue

pytestmark = pytest.mark.anyio

ALICE = RequestContext("acme", "alice", Role.USER)


def _dead_owner() -> str:
    """The lease owner id of a process of this host that has exited."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return f"{socket.gethostname()}:{int(child.stdout)}:deadbeef"


async def _echo(task: TaskHandle) -> dict[str, Any]:
    return {"echo": task.payload["x"]}


async def test_a_running_queue_takes_over_the_tasks_of_a_killed_process(
    db: MetadataBackend,
) -> None:
    survivor = TaskQueue(db)
    survivor.register("echo", _echo)
    survivor.reclaim_seconds = 0.2
    await survivor.start()
    try:
        task_id = "left-behind"
        lease = (_dead_owner(), time.time() + 3600)  # the lease has long to run

        def insert(conn: Connection) -> None:
            conn.execute(
                "INSERT INTO tasks(task_id, task_type, status, account_id, user_id, role, "
                "payload, lease_owner, lease_until, attempts, created_at, updated_at) "
                "VALUES (?, 'echo', 'running', 'acme', 'alice', 'user', ?, ?, ?, 1, ?, ?)",
                (task_id, json.dumps({"x": 7}), *lease, time.time(), time.time()),
            )

        db.run(insert)
        record = await survivor.wait(task_id, timeout=10)
        assert record.status == "completed"
        assert record.result == {"echo": 7}
    finally:
        await survivor.stop()


async def test_a_held_task_of_a_killed_process_runs_anyway(db: MetadataBackend) -> None:
    survivor = TaskQueue(db)
    survivor.register("echo", _echo)
    survivor.reclaim_seconds = 0.2
    await survivor.start()
    try:
        killed = TaskQueue(db)  # never started: it only records, as a process about to die
        killed.register("echo", _echo)
        killed.owner = _dead_owner()
        task_id = await killed.submit("echo", ALICE, {"x": 8}, hold=True)
        record = await survivor.wait(task_id, timeout=10)
        assert (record.status, record.result) == ("completed", {"echo": 8})
    finally:
        await survivor.stop()


async def test_a_held_task_runs_only_once_released(db: MetadataBackend) -> None:
    ran = asyncio.Event()

    async def mark(task: TaskHandle) -> None:
        ran.set()

    queue = TaskQueue(db)
    queue.register("mark", mark)
    queue.reclaim_seconds = 0.1
    await queue.start()
    try:
        task_id = await queue.submit("mark", ALICE, {}, hold=True)
        await asyncio.sleep(0.6)  # several claim and reclaim rounds
        assert not ran.is_set()
        record = await queue.get(task_id)
        assert (record.status, record.attempts) == ("running", 0)
        await queue.release(task_id)
        assert (await queue.wait(task_id, timeout=10)).status == "completed"
    finally:
        await queue.stop()


async def test_releasing_a_task_held_past_its_lease_reports_it(db: MetadataBackend) -> None:
    """A held task whose lease ran out was taken back (it may have run before the work it
    follows up on): ``release`` says so, and leaves the task to the queue that took it."""
    queue = TaskQueue(db)  # never started: nothing renews the lease
    queue.register("echo", _echo)
    task_id = await queue.submit("echo", ALICE, {"x": 9}, hold=True)
    db.run(lambda conn: conn.execute("UPDATE tasks SET lease_until=0 WHERE task_id=?", (task_id,)))
    assert await queue.recover() == 1
    assert await queue.release(task_id) is False
    kept = await queue.submit("echo", ALICE, {"x": 10}, hold=True)
    assert await queue.release(kept) is True
    assert (await queue.get(kept)).status == "pending"


async def test_a_lease_of_another_host_is_taken_over_only_once_expired(
    db: MetadataBackend,
) -> None:
    """An owner on another host cannot be checked for life: its lease decides."""
    foreign = "some-other-host:1:cafebabe"  # pid 1 lives here too: it must not matter
    now = time.time()

    def insert(conn: Connection) -> None:
        conn.execute(
            "INSERT INTO tasks(task_id, task_type, status, account_id, user_id, role, payload, "
            "state, stage, lease_owner, lease_until, attempts, created_at, updated_at) "
            "VALUES ('far', 'echo', 'running', 'acme', 'alice', 'user', ?, ?, 'embedding', "
            "?, ?, 1, ?, ?)",
            (json.dumps({"x": 11}), json.dumps({"done": 3}), foreign, now + 3600, now, now),
        )

    db.run(insert)
    survivor = TaskQueue(db)
    survivor.register("echo", _echo)
    survivor.reclaim_seconds = 0.1
    await survivor.start()
    try:
        await asyncio.sleep(0.4)  # several reclaim rounds: a live lease stays with its owner
        record = await survivor.get("far")
        assert (record.status, record.attempts) == ("running", 1)
        db.run(
            lambda c: c.execute("UPDATE tasks SET lease_until=? WHERE task_id='far'", (now - 1,))
        )
        record = await survivor.wait("far", timeout=10)
        assert (record.status, record.result, record.attempts) == ("completed", {"echo": 11}, 2)
        assert record.state == {"done": 3}  # resumed from its checkpoint
    finally:
        await survivor.stop()
