"""Batches of the task queue: tasks of one type and caller that run in one handler call.

A task type registered with :meth:`~openviking_mcp.storage.queue.TaskQueue.register_batch`
runs in batches: a worker that claims one task also claims up to ``max_tasks - 1`` more of the
same priority and caller (:func:`gather_batch`), and the handler gets them all at once; every
task of the batch ends with the handler's result. While tasks are held (writes in flight), a
worker whose batch is not full waits ``linger`` seconds once for more. Batches of one kind run
one at a time: a worker that claims a task while one runs hands it to the worker running it,
whose next batch takes it and the tasks released meanwhile, so batches grow with the load
(group commit). A batch that fails is run again one task at a time, so a bad task fails alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openviking_mcp.storage._queue_records import TaskRecord
from openviking_mcp.storage._queue_table import TaskTable

if TYPE_CHECKING:
    from openviking_mcp.storage.queue import TaskHandle

__all__ = ["BatchHandler", "Batching", "batch_key", "gather_batch"]

logger = logging.getLogger("openviking_mcp.tasks")

BatchHandler = Callable[[list["TaskHandle"]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Batching:
    """How a task type runs in batches: its handler, the most tasks of one batch, and how
    long a worker whose batch is not full waits once for more while writes are in flight."""

    handler: BatchHandler
    max_tasks: int
    linger: float


def batch_key(record: TaskRecord) -> tuple[str, int, str, str, str]:
    """What the tasks of one batch share: type, priority and caller."""
    return (record.task_type, record.priority, record.account_id, record.user_id, record.role)


async def gather_batch(
    tasks: TaskTable,
    owner: str,
    lease_seconds: float,
    held: Collection[str],
    batching: Batching,
    seed: list[TaskRecord],
) -> list[TaskRecord]:
    """``seed`` (claimed tasks of one kind) and the tasks like them leased to run in their
    batch; a second look after ``linger`` only while ``held`` tasks (writes) are in flight."""
    records = list(seed)
    for attempt in range(2):
        wanted = batching.max_tasks - len(records)
        if wanted <= 0 or (attempt and (not held or not batching.linger)):
            break
        if attempt:
            await asyncio.sleep(batching.linger)
        now = time.time()
        try:
            records += await tasks.claim_like(seed[0], owner, now, now + lease_seconds, wanted)
        except Exception:  # database busy: run what we have
            logger.exception("task batch claim failed")
            break
    return records
