"""The task queue on PostgreSQL shared by several processes: each process has its own pool
(here: its own :class:`PgMetadataDB`), and no task is ever claimed by two of them."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.storage._queue_table import TaskTable
from openviking_mcp.storage.metadata import MetadataBackend
from openviking_mcp.storage.queue import TaskHandle, TaskQueue
from tests.pg import fresh_database
from tests.storage.conftest import pg_metadata

pytestmark = pytest.mark.anyio

ALICE = RequestContext("acme", "alice", Role.USER)


@pytest.fixture
async def two() -> AsyncIterator[list[MetadataBackend]]:
    """Two metadata databases on one PostgreSQL database: two processes' views."""
    with fresh_database() as dsn:
        async with pg_metadata(dsn, instances=2) as databases:
            yield databases


async def test_concurrent_claims_of_two_processes_take_each_task_once(
    two: list[MetadataBackend],
) -> None:
    tables = [TaskTable(db) for db in two]
    now = time.time()
    ids = [f"t{i:03d}" for i in range(60)]
    for i, task_id in enumerate(ids):
        await tables[0].insert(
            task_id, "job", ALICE, "{}", priority=i % 3, resource_id=None, max_attempts=4, now=now
        )

    async def drain(table: TaskTable, owner: str, batch: bool) -> list[str]:
        claimed: list[str] = []
        while (record := await table.claim(("job",), owner, now, now + 30, None)) is not None:
            claimed.append(record.task_id)
            if batch:  # and the tasks like it, as a batch worker does
                more = await table.claim_like(record, owner, now, now + 30, 3)
                claimed += [r.task_id for r in more]
        return claimed

    drains = [drain(tables[i % 2], f"host{i % 2}:{i}:x", i >= 4) for i in range(8)]
    claimed = [task_id for part in await asyncio.gather(*drains) for task_id in part]
    assert Counter(claimed) == Counter(ids)  # every task, each exactly once
    rows = await two[1].fetchall("SELECT status, attempts, COUNT(*) AS n FROM tasks GROUP BY 1, 2")
    assert [(r["status"], r["attempts"], r["n"]) for r in rows] == [("running", 1, 60)]


async def test_two_running_queues_share_the_work_and_run_each_task_once(
    two: list[MetadataBackend],
) -> None:
    ran: list[tuple[str, str]] = []

    def make_handler(name: str) -> Any:
        async def job(task: TaskHandle) -> str:
            ran.append((name, task.record.task_id))
            await asyncio.sleep(0.01)
            return name

        return job

    queues = [TaskQueue(db, workers=3) for db in two]
    for name, queue in zip("ab", queues, strict=True):
        queue.register("job", make_handler(name))
    ids = [await queues[0].submit("job", ALICE, {"n": n}) for n in range(30)]
    for queue in queues:
        await queue.start()
    try:
        records = [await queues[1].wait(task_id, timeout=20) for task_id in ids]
    finally:
        for queue in queues:
            await queue.stop()
    assert Counter(task_id for _, task_id in ran) == Counter(ids)
    assert {r.status for r in records} == {"completed"}
    assert {r.attempts for r in records} == {1}
    assert {r.result for r in records} == {name for name, _ in ran}
