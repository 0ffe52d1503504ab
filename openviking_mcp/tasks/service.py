"""The task service: the public view of the durable task queue.

Features queue their work as tasks on :attr:`Store.tasks <openviking_mcp.store.Store.tasks>`
and register the handler of each task type (:meth:`TaskService.register`). Callers read a task
record, list their tasks, cancel one, or wait until every queue is idle. A user sees their own
tasks; ROOT sees every user's tasks of its account.

A failed or cancelled task can be retried (:meth:`TaskService.retry_task`) when its feature
registered a *retry* function with its handler: the function queues the work again as a new
task (of the same owner) and answers its id; the old record stays as it was. The service only
checks who may see the task and its status, and dispatches on the task type.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from openviking_mcp.contract.errors import DeadlineExceededError, FailedPreconditionError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.tasks import (
    ListTasksRequest,
    TaskFailures,
    TaskInfo,
    TaskRequest,
    WaitProcessingRequest,
    WaitProcessingResult,
)
from openviking_mcp.storage.queue import Handler, TaskRecord
from openviking_mcp.store import Store
from openviking_mcp.tasks.failures import failure_summary, queue_counters

__all__ = ["Retry", "TaskService"]

Retry = Callable[[TaskRecord], Awaitable[str]]
"""Queue a failed or cancelled task's work again; the new task's id. It raises a typed error
(e.g. ``FAILED_PRECONDITION``, ``CONFLICT``) when the task cannot be retried."""

_IDLE_POLL_SECONDS = 0.1
_RETRYABLE = frozenset({"failed", "cancelled"})


def _info(record: TaskRecord) -> TaskInfo:
    return TaskInfo.model_validate(record.to_dict())


class TaskService:
    """See the module docs."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._retries: dict[str, Retry] = {}

    def register(self, task_type: str, handler: Handler, *, retry: Retry | None = None) -> None:
        """Run ``handler`` for tasks of ``task_type``; ``retry`` queues a failed or cancelled
        task of that type again (without it, such tasks cannot be retried)."""
        self._store.tasks.register(task_type, handler)
        if retry is not None:
            self._retries[task_type] = retry

    async def get_task(self, ctx: RequestContext, req: TaskRequest) -> TaskInfo:
        """One task record (``NOT_FOUND`` for another user's task or an unknown one)."""
        self._store.require_open()
        return _info(await self._store.tasks.get(req.task_id, ctx))

    async def list_tasks(self, ctx: RequestContext, req: ListTasksRequest) -> list[TaskInfo]:
        """The caller's task records (ROOT: the account's), newest first."""
        self._store.require_open()
        records = await self._store.tasks.list(
            ctx,
            task_type=req.task_type,
            status=req.status,
            resource_id=req.resource_id,
            limit=req.limit,
        )
        return [_info(r) for r in records]

    async def cancel_task(self, ctx: RequestContext, req: TaskRequest) -> TaskInfo:
        """Cancel a pending or running task; returns its record (``cancelling`` while a
        running task stops, ``cancelled`` for a pending one)."""
        self._store.require_open()
        return _info(await self._store.tasks.cancel(req.task_id, ctx))

    async def retry_task(self, ctx: RequestContext, req: TaskRequest) -> TaskInfo:
        """Queue a failed or cancelled task again as a new task of its owner; the new task's
        record. ``NOT_FOUND`` for a task the caller may not see; ``FAILED_PRECONDITION`` for a
        task in another status or of a type that has no retry."""
        store = self._store
        store.require_open()
        record = await store.tasks.get(req.task_id, ctx)
        if record.status not in _RETRYABLE:
            raise FailedPreconditionError(
                f"Task {record.task_id} is {record.status}; only a failed or cancelled task "
                "can be retried",
                {"task_id": record.task_id, "status": record.status},
            )
        retry = self._retries.get(record.task_type)
        if retry is None:
            raise FailedPreconditionError(
                f"Tasks of type {record.task_type} cannot be retried",
                {"task_id": record.task_id, "task_type": record.task_type},
            )
        return _info(await store.tasks.get(await retry(record)))

    async def wait_processing(
        self, ctx: RequestContext, req: WaitProcessingRequest
    ) -> WaitProcessingResult:
        """Wait until no task is pending or running (all queues idle); ``DEADLINE_EXCEEDED``
        after ``timeout`` seconds. The answer carries the per-queue counters (see
        :func:`~openviking_mcp.tasks.failures.queue_counters`)."""
        store = self._store
        store.require_open()
        loop = asyncio.get_running_loop()
        deadline = None if req.timeout is None else loop.time() + req.timeout
        while not await store.tasks.idle():
            if deadline is not None and loop.time() > deadline:
                raise DeadlineExceededError("queue processing", req.timeout)
            await asyncio.sleep(_IDLE_POLL_SECONDS)
        queues = await queue_counters(store, ctx)
        per_queue = {name: counters.wire() for name, counters in queues.items()}
        return WaitProcessingResult.model_validate(
            {
                **per_queue,
                "tasks": await store.tasks.counts(),
                **store.tasks.stats,
                "queues": queues,
            }
        )

    async def failures(self, ctx: RequestContext | None) -> TaskFailures:
        """Failed tasks retained and the newest failure (its id and message only when ``ctx``
        may see that task; ``None``: an anonymous caller)."""
        self._store.require_open()
        return await failure_summary(self._store, ctx)
