"""The durable task queue: background work that survives crashes.

Task records live in the metadata database; workers are asyncio tasks in the process that owns
the service. A task is *claimed* with a lease (owner id + expiry, renewed while it runs), so:

* killing the process loses no accepted work: on the next start, tasks whose owner process is
  dead (same host) or whose lease expired (any host) go back to ``pending`` and run again;
  handlers are written to be re-runnable from their last recorded ``state``;
* several processes sharing one workspace never run the same task twice at once.

A handler that raises a *transient* error (model or network trouble) is retried with
exponential backoff up to ``max_attempts``; any other error fails the task with its message.
A failed task never blocks the queue. Priorities: lower runs first, and one worker is reserved
for interactive work (priority ≤ :data:`INTERACTIVE`), so a big import cannot starve writes
or session commits.

This module holds the scheduling (workers, leases, retries) and the handler API; the SQL
lives in :mod:`openviking_mcp.storage._queue_table`, the record shape in
:mod:`openviking_mcp.storage._queue_records` and the retry/lease rules in
:mod:`openviking_mcp.storage._queue_policy`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from openviking_mcp import faults
from openviking_mcp.contract.errors import (
    DeadlineExceededError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    OpenVikingError,
    PermissionDeniedError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.storage._queue_batch import BatchHandler, Batching, batch_key, gather_batch
from openviking_mcp.storage._queue_handle import TaskHandle
from openviking_mcp.storage._queue_listeners import FinishListeners
from openviking_mcp.storage._queue_policy import (
    TaskCancelled,
    TransientError,
    failure_message,
    is_transient,
    new_owner_id,
    retry_delay,
    wait_event,
)
from openviking_mcp.storage._queue_records import TaskRecord, visible_to
from openviking_mcp.storage._queue_table import INSERT_TASK, TaskTable, task_row
from openviking_mcp.storage.metadata import Connection, MetadataBackend

__all__ = [
    "BULK",
    "INTERACTIVE",
    "NORMAL",
    "TERMINAL",
    "BatchHandler",
    "Handler",
    "TaskCancelled",
    "TaskHandle",
    "TaskQueue",
    "TaskRecord",
    "TransientError",
    "is_transient",
]

logger = logging.getLogger("openviking_mcp.tasks")

INTERACTIVE = 0
"""Priority of work a user is waiting on (content writes, session commits)."""
NORMAL = 10
BULK = 20
TERMINAL = frozenset({"completed", "failed", "cancelled"})
_CANCELLABLE_STATES = frozenset({"pending", "running"})
_LEASE_SECONDS = 30.0
_POLL_SECONDS = 1.0
_BACKOFF_MAX_SECONDS = 300.0
_COMPLETED_TTL = 24 * 3600.0
_FAILED_TTL = 7 * 24 * 3600.0


Handler = Callable[[TaskHandle], Awaitable[Any]]


class TaskQueue:
    def __init__(self, db: MetadataBackend, *, workers: int = 2) -> None:
        self._tasks = TaskTable(db)
        self._handlers: dict[str, Handler] = {}
        self._batching: dict[str, Batching] = {}
        self._batch_waiting: dict[tuple[Any, ...], list[TaskRecord]] = {}
        self._batch_active: set[tuple[Any, ...]] = set()
        self._workers_wanted = max(1, workers)
        self._workers: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._done: dict[str, asyncio.Event] = {}
        self._running: set[str] = set()
        self._held: set[str] = set()
        self._last_report: dict[str, float] = {}
        self._lease_task: asyncio.Task[None] | None = None
        #: How often a running queue puts back the tasks of dead owners and expired leases.
        self.reclaim_seconds = _LEASE_SECONDS / 3
        self.owner = new_owner_id()
        self._stopping = False
        self.stats: dict[str, int] = {"processed": 0, "failed": 0, "retried": 0}
        self.finish_listeners = FinishListeners()  # told when a task ends

    # -- lifecycle -------------------------------------------------------------------------

    def register(self, task_type: str, handler: Handler) -> None:
        self._handlers[task_type] = handler

    def register_batch(
        self, task_type: str, handler: BatchHandler, *, max_tasks: int = 64, linger: float = 0.01
    ) -> None:
        """Run tasks of ``task_type`` in batches (see :mod:`._queue_batch`)."""
        self._handlers[task_type] = lambda handle: handler([handle])
        self._batching[task_type] = Batching(handler, max(1, max_tasks), max(0.0, linger))

    async def start(self) -> None:
        """Start the workers (once: a second call while they run changes nothing)."""
        if any(not task.done() for task in self._workers):
            return
        await self.recover()
        now = time.time()
        await self._tasks.expire(now - _COMPLETED_TTL, now - _FAILED_TTL)
        self._stopping = False
        self._workers = [
            asyncio.create_task(self._worker(i), name=f"openviking-worker-{i}")
            for i in range(self._workers_wanted)
        ]
        self._lease_task = asyncio.create_task(self._renew_leases(), name="openviking-leases")

    async def stop(self) -> None:
        """Stop workers; tasks they were running go back to ``pending`` for the next start."""
        self._stopping = True
        tasks = [*self._workers, *([self._lease_task] if self._lease_task else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._workers, self._lease_task = [], None
        self._held.clear()
        await self._tasks.release(self.owner)

    async def recover(self) -> int:
        """Put back tasks whose owner died (same host) or whose lease ran out."""
        count = await self._tasks.reclaim(socket.gethostname(), time.time())
        if count:
            logger.warning("resuming %d interrupted task(s)", count)
        return count

    # -- submitting and querying -----------------------------------------------------------

    async def submit(
        self,
        task_type: str,
        ctx: RequestContext,
        payload: Mapping[str, Any],
        *,
        priority: int = NORMAL,
        resource_id: str | None = None,
        max_attempts: int = 4,
        hold: bool = False,
        state: Mapping[str, Any] | None = None,
    ) -> str:
        """Queue a task; returns its id.

        With ``hold`` the task is recorded *before* the work it follows up on is done: it is
        stored as running under this queue's lease, so no worker starts it, until
        :meth:`release`. If this process dies first, the lease makes the task run anyway (on
        the next start, or in any live process on the store), and its handler finds the work
        half done. That is how a write and its follow-up work are made durable together.
        ``state``: the task's initial :attr:`TaskHandle.state`.
        """
        if task_type not in self._handlers:
            raise InvalidArgumentError(f"Unknown task type: {task_type}")
        task_id = uuid.uuid4().hex
        body = json.dumps(dict(payload), ensure_ascii=False)
        now = time.time()
        await self._tasks.insert(
            task_id,
            task_type,
            ctx,
            body,
            priority=priority,
            resource_id=resource_id,
            max_attempts=max_attempts,
            now=now,
            lease=(self.owner, now + _LEASE_SECONDS) if hold else None,
            state=json.dumps(dict(state or {}), ensure_ascii=False),
        )
        if hold:
            self._held.add(task_id)
        else:
            self._wake.set()
        return task_id

    def stage(
        self,
        conn: Connection,
        task_type: str,
        ctx: RequestContext,
        payload: Mapping[str, Any],
        *,
        priority: int = NORMAL,
        resource_id: str | None = None,
        max_attempts: int = 4,
    ) -> str:
        """Queue a task inside the caller's open transaction ``conn``: it exists once that
        transaction commits, together with whatever else it wrote. Call :meth:`wake` after
        the commit so this process's workers look at once. Returns the task's id."""
        if task_type not in self._handlers:
            raise InvalidArgumentError(f"Unknown task type: {task_type}")
        task_id = uuid.uuid4().hex
        body = json.dumps(dict(payload), ensure_ascii=False)
        values = task_row(
            task_id,
            task_type,
            ctx,
            body,
            priority=priority,
            resource_id=resource_id,
            max_attempts=max_attempts,
            now=time.time(),
        )
        conn.execute(INSERT_TASK, values)
        return task_id

    def wake(self) -> None:
        """Have this process's idle workers look for pending tasks now."""
        self._wake.set()

    async def release(self, task_id: str) -> bool:
        """Let workers run a task submitted with ``hold``. ``False``: it was no longer held
        (held past its lease, it was taken back and may have run before the work it follows
        up on was done; the caller submits the follow-up again)."""
        try:
            released = await self._tasks.release_held(task_id, self.owner)
        finally:
            self._held.discard(task_id)  # after the update: a lingering batch waits for it
        self._wake.set()
        return released

    async def get(self, task_id: str, ctx: RequestContext | None = None) -> TaskRecord:
        """A task record; with ``ctx``, only the owner (or ROOT of the account) may see it."""
        record = await self._tasks.fetch(task_id)
        if record is None or (ctx is not None and not visible_to(ctx, record)):
            raise NotFoundError(task_id, "task", message="Task not found or expired")
        return record

    async def list(
        self,
        ctx: RequestContext,
        *,
        task_type: str | None = None,
        status: str | None = None,
        resource_id: str | None = None,
        limit: int = 50,
    ) -> list[TaskRecord]:
        if not 1 <= limit <= 200:
            raise InvalidArgumentError("limit must be between 1 and 200", {"limit": limit})
        return await self._tasks.select(
            ctx.account_id,
            None if ctx.is_root else ctx.user_id,
            (("task_type", task_type), ("status", status), ("resource_id", resource_id)),
            limit,
        )

    async def active_resources(self, account_id: str, task_type: str) -> set[str]:
        """Resource ids of an account's pending or running tasks of one type, whoever owns them
        (imports reserve targets in shared folders)."""
        return await self._tasks.active_resources(account_id, task_type)

    async def wait(self, task_id: str, timeout: float | None = None) -> TaskRecord:
        """Wait until the task is terminal; :class:`DeadlineExceededError` after ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        event = self._done.setdefault(task_id, asyncio.Event())
        try:
            while True:
                record = await self.get(task_id)
                if record.status in TERMINAL:
                    return record
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise DeadlineExceededError("task", timeout)
                wait_for = _POLL_SECONDS if remaining is None else min(_POLL_SECONDS, remaining)
                await wait_event(event, wait_for)
        finally:
            self._done.pop(task_id, None)

    async def cancel(self, task_id: str, ctx: RequestContext) -> TaskRecord:
        record = await self.get(task_id, ctx)
        if record.status not in _CANCELLABLE_STATES:
            raise FailedPreconditionError(
                f"Task {task_id} is {record.status} and cannot be cancelled",
                {"task_id": task_id, "status": record.status},
            )
        await self._tasks.request_cancel(task_id)
        return await self.get(task_id)

    async def counts(self) -> dict[str, int]:
        return await self._tasks.counts()

    @property
    def live_workers(self) -> int:
        """Workers of this queue that are running (0 before :meth:`start` or if all died)."""
        return sum(not worker.done() for worker in self._workers)

    async def idle(self) -> bool:
        return await self._tasks.idle()

    # -- workers ---------------------------------------------------------------------------

    async def _claim(self, interactive_only: bool) -> TaskRecord | None:
        now = time.time()
        types = tuple(self._handlers)
        if not types:
            return None
        return await self._tasks.claim(
            types,
            self.owner,
            now,
            now + _LEASE_SECONDS,
            INTERACTIVE if interactive_only else None,
        )

    async def _worker(self, index: int) -> None:
        interactive_only = index == 0 and self._workers_wanted > 1
        while not self._stopping:
            try:
                record = await self._claim(interactive_only)
            except Exception:  # database busy or closed: back off, never die
                logger.exception("task claim failed")
                record = None
            if record is None:
                self._wake.clear()
                await wait_event(self._wake, _POLL_SECONDS)
                continue
            try:
                await self._run(record)
            except Exception:  # its record could not be saved (the database closed at shutdown)
                logger.exception("task %s could not be finished", record.task_id)

    async def _run(self, record: TaskRecord) -> None:
        batching = self._batching.get(record.task_type)
        if batching is None:
            await self._execute(record)
        else:
            await self._run_batches(batching, record)

    async def _run_batches(self, batching: Batching, record: TaskRecord) -> None:
        """Run ``record`` in a batch of its kind, one batch at a time (see ``_queue_batch``)."""
        key = batch_key(record)
        waiting = self._batch_waiting.setdefault(key, [])
        waiting.append(record)
        self._running.add(record.task_id)  # its lease is renewed while it waits
        if key in self._batch_active:
            return  # the worker running this kind takes it into its next batch
        self._batch_active.add(key)
        try:
            while waiting:
                seed, waiting[:] = list(waiting), []
                batch = await gather_batch(
                    self._tasks, self.owner, _LEASE_SECONDS, self._held, batching, seed
                )
                await self._execute_batch(batching, batch)
        finally:
            self._batch_active.discard(key)

    async def _execute_batch(self, batching: Batching, records: Sequence[TaskRecord]) -> None:
        """Run one batch (see :meth:`register_batch`)."""
        if len(records) == 1:
            await self._execute(records[0])
            return
        handles = [TaskHandle(r, self, dict(r.progress)) for r in records]
        ids = [r.task_id for r in records]
        self._running.update(ids)
        try:
            result = await batching.handler(handles)
        except Exception:  # not a shutdown (CancelledError): stop() puts those tasks back
            logger.info("a batch of %d tasks failed; running them one by one", len(ids))
            for record in records:
                await self._execute(record)
            return
        finally:
            self._running.difference_update(ids)
            for task_id in ids:
                self._last_report.pop(task_id, None)
        faults.point(f"{records[0].task_type}:finish")
        self.stats["processed"] += len(ids)
        await self._tasks.finish_many(ids, "completed", result, stage="done")
        for event in filter(None, map(self._done.get, ids)):
            event.set()

    async def _execute(self, record: TaskRecord) -> None:
        handler = self._handlers[record.task_type]
        handle = TaskHandle(record, self, dict(record.progress))
        self._running.add(record.task_id)
        try:
            result = await handler(handle)
        except asyncio.CancelledError:
            raise  # shutdown: stop() puts the task back to pending
        except TaskCancelled:
            await self._finish(record, "cancelled", None, "cancelled")
        except Exception as exc:
            await self._failed(record, exc, handle)
        else:
            faults.point(f"{record.task_type}:finish")
            await self._finish(record, "completed", result, None, handle._progress)
        finally:
            self._running.discard(record.task_id)
            self._last_report.pop(record.task_id, None)

    async def _failed(self, record: TaskRecord, exc: Exception, handle: TaskHandle) -> None:
        message = failure_message(exc)
        if is_transient(exc) and record.attempts < record.max_attempts:
            wanted = exc.retry_after if isinstance(exc, TransientError) else None
            delay = (
                wanted if wanted is not None else retry_delay(record.attempts, _BACKOFF_MAX_SECONDS)
            )
            self.stats["retried"] += 1
            logger.warning(
                "task %s (%s) failed transiently, retry in %.0fs: %s",
                record.task_id,
                record.task_type,
                delay,
                message,
            )
            await self._tasks.reschedule(record, delay, message, handle._progress)
            return
        if not isinstance(exc, OpenVikingError | PermissionDeniedError):
            logger.error(
                "task %s (%s) failed at stage %s",
                record.task_id,
                record.task_type,
                record.stage,
                exc_info=exc,
            )
        await self._finish(record, "failed", None, f"[{record.stage}] {message}", handle._progress)

    async def _finish(
        self,
        record: TaskRecord,
        status: str,
        result: Any,
        error: str | None,
        progress: dict[str, Any] | None = None,
    ) -> None:
        if status in ("completed", "failed"):
            self.stats["processed" if status == "completed" else "failed"] += 1
        await self._tasks.finish(
            record.task_id,
            status,
            result,
            error,
            stage="done" if status == "completed" else record.stage,
            progress=progress if progress is not None else record.progress,
        )
        await self.finish_listeners.notify(record, status, result)
        event = self._done.get(record.task_id)
        if event is not None:
            event.set()

    async def _save(self, record: TaskRecord, *, progress: dict[str, Any]) -> bool:
        """Persist stage/state/progress; returns True if cancellation was requested."""
        return await self._tasks.save(record, progress)

    async def _renew_leases(self) -> None:
        """Keep this queue's leases alive and, every :attr:`reclaim_seconds`, put back the
        tasks other processes left behind (dead owner, expired lease), so a long-running
        process picks up the work of one that was killed."""
        renew_every = _LEASE_SECONDS / 3
        last_renew = last_reclaim = time.monotonic()
        while True:
            await asyncio.sleep(min(renew_every, self.reclaim_seconds))
            now = time.monotonic()
            if now - last_reclaim >= self.reclaim_seconds:
                last_reclaim = now
                with contextlib.suppress(Exception):
                    if await self.recover():
                        self._wake.set()
            if now - last_renew < renew_every:
                continue
            last_renew = now
            leased = (*self._running, *self._held)
            if leased:
                with contextlib.suppress(Exception):
                    await self._tasks.renew(self.owner, leased, time.time() + _LEASE_SECONDS)
