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
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from openviking_mcp.contract.errors import (
    DeadlineExceededError,
    EmbeddingFailedError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    OpenVikingError,
    PermissionDeniedError,
    UnavailableError,
    VLMFailedError,
)
from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.storage.metadata import MetadataDB

__all__ = [
    "BULK",
    "INTERACTIVE",
    "NORMAL",
    "TERMINAL",
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


class TransientError(Exception):
    """Raise from a handler for a failure worth retrying later."""


class TaskCancelled(Exception):
    """Raised inside a handler at a checkpoint when its task was cancelled."""


_TRANSIENT = (
    TransientError,
    EmbeddingFailedError,
    VLMFailedError,
    UnavailableError,
    DeadlineExceededError,
    TimeoutError,
    ConnectionError,
    httpx.TransportError,
)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


@dataclass(slots=True)
class TaskRecord:
    task_id: str
    task_type: str
    status: str
    priority: int
    account_id: str
    user_id: str
    role: str
    resource_id: str | None
    payload: dict[str, Any]
    state: dict[str, Any]
    stage: str
    progress: dict[str, Any]
    result: Any
    error: str | None
    attempts: int
    max_attempts: int
    created_at: float
    updated_at: float

    @property
    def context(self) -> RequestContext:
        return RequestContext(self.account_id, self.user_id, Role(self.role))

    def to_dict(self) -> dict[str, Any]:
        """The public shape (``GET /api/v1/tasks/{id}``)."""
        return {
            "task_id": self.task_id,
            "task_type": self.task_type,
            "status": self.status,
            "stage": self.stage,
            "progress": self.progress,
            "resource_id": self.resource_id,
            "result": self.result,
            "error": self.error,
            "attempts": self.attempts,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "created_at_iso": _iso(self.created_at),
            "updated_at_iso": _iso(self.updated_at),
        }


def _record(row: sqlite3.Row) -> TaskRecord:
    return TaskRecord(
        task_id=row["task_id"],
        task_type=row["task_type"],
        status=row["status"],
        priority=row["priority"],
        account_id=row["account_id"],
        user_id=row["user_id"],
        role=row["role"],
        resource_id=row["resource_id"],
        payload=json.loads(row["payload"]),
        state=json.loads(row["state"]),
        stage=row["stage"],
        progress=json.loads(row["progress"]),
        result=json.loads(row["result"]) if row["result"] is not None else None,
        error=row["error"],
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def is_transient(exc: BaseException) -> bool:
    """Whether the queue retries a task that raised ``exc`` (while attempts remain)."""
    return isinstance(exc, _TRANSIENT)


@dataclass
class TaskHandle:
    """What a handler gets: its record and ways to report and checkpoint."""

    record: TaskRecord
    _queue: TaskQueue
    _progress: dict[str, Any] = field(default_factory=dict)

    @property
    def payload(self) -> dict[str, Any]:
        return self.record.payload

    @property
    def state(self) -> dict[str, Any]:
        """Saved by :meth:`checkpoint`; survives a crash and a retry."""
        return self.record.state

    @property
    def context(self) -> RequestContext:
        return self.record.context

    async def checkpoint(self, stage: str | None = None, **state: Any) -> None:
        """Persist ``state`` (merged) and the current stage; raise if the task was cancelled."""
        self.record.state.update(state)
        if stage:
            self.record.stage = stage
        cancelled = await self._queue._save(self.record, progress=self._progress)
        if cancelled:
            raise TaskCancelled()

    async def report(self, stage: str | None = None, **progress: Any) -> None:
        """Update progress counters (persisted at most every 0.5 s unless the stage changes)."""
        self._progress.update(progress)
        changed = stage is not None and stage != self.record.stage
        if stage:
            self.record.stage = stage
        if changed or time.monotonic() - self._queue._last_report.get(self.record.task_id, 0) > 0.5:
            self._queue._last_report[self.record.task_id] = time.monotonic()
            if await self._queue._save(self.record, progress=self._progress):
                raise TaskCancelled()


Handler = Callable[[TaskHandle], Awaitable[Any]]


class TaskQueue:
    def __init__(self, db: MetadataDB, *, workers: int = 2) -> None:
        self._db = db
        self._handlers: dict[str, Handler] = {}
        self._workers_wanted = max(1, workers)
        self._workers: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._done: dict[str, asyncio.Event] = {}
        self._running: set[str] = set()
        self._last_report: dict[str, float] = {}
        self._lease_task: asyncio.Task[None] | None = None
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stopping = False
        self.stats: dict[str, int] = {"processed": 0, "failed": 0, "retried": 0}

    # -- lifecycle -------------------------------------------------------------------------

    def register(self, task_type: str, handler: Handler) -> None:
        self._handlers[task_type] = handler

    async def start(self) -> None:
        await self.recover()
        await self._expire_old()
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

        def release(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE tasks SET status='pending', lease_owner=NULL, lease_until=NULL "
                "WHERE status='running' AND lease_owner=?",
                (self.owner,),
            )

        await self._db.transaction(release)

    async def recover(self) -> int:
        """Put back tasks whose owner died (same host) or whose lease ran out."""
        host = socket.gethostname()
        now = time.time()

        def reclaim(conn: sqlite3.Connection) -> int:
            rows = conn.execute(
                "SELECT task_id, lease_owner, lease_until FROM tasks WHERE status='running'"
            ).fetchall()
            stale = [
                r["task_id"]
                for r in rows
                if (r["lease_until"] or 0) < now or _owner_dead(r["lease_owner"], host)
            ]
            for task_id in stale:
                conn.execute(
                    "UPDATE tasks SET status='pending', lease_owner=NULL, lease_until=NULL, "
                    "updated_at=? WHERE task_id=? AND status='running'",
                    (now, task_id),
                )
            return len(stale)

        count = await self._db.transaction(reclaim)
        if count:
            logger.warning("resuming %d interrupted task(s)", count)
        return count

    async def _expire_old(self) -> None:
        now = time.time()

        def expire(conn: sqlite3.Connection) -> None:
            conn.execute(
                "DELETE FROM tasks WHERE (status='completed' AND updated_at<?) OR "
                "(status IN ('failed','cancelled') AND updated_at<?)",
                (now - _COMPLETED_TTL, now - _FAILED_TTL),
            )

        await self._db.transaction(expire)

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
    ) -> str:
        if task_type not in self._handlers:
            raise InvalidArgumentError(f"Unknown task type: {task_type}")
        task_id = uuid.uuid4().hex
        now = time.time()
        body = json.dumps(dict(payload), ensure_ascii=False)

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO tasks(task_id, task_type, status, priority, account_id, user_id, "
                "role, resource_id, payload, max_attempts, created_at, updated_at) "
                "VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    task_id,
                    task_type,
                    priority,
                    ctx.account_id,
                    ctx.user_id,
                    ctx.role.value,
                    resource_id,
                    body,
                    max_attempts,
                    now,
                    now,
                ),
            )

        await self._db.transaction(insert)
        self._wake.set()
        return task_id

    async def get(self, task_id: str, ctx: RequestContext | None = None) -> TaskRecord:
        """A task record; with ``ctx``, only the owner (or ROOT of the account) may see it."""
        row = await self._db.fetchone("SELECT * FROM tasks WHERE task_id=?", (task_id,))
        if row is None or (ctx is not None and not _visible(ctx, row)):
            raise NotFoundError(task_id, "task", message="Task not found or expired")
        return _record(row)

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
        sql = "SELECT * FROM tasks WHERE account_id=?"
        params: list[Any] = [ctx.account_id]
        if not ctx.is_root:
            sql += " AND user_id=?"
            params.append(ctx.user_id)
        for column, value in (
            ("task_type", task_type),
            ("status", status),
            ("resource_id", resource_id),
        ):
            if value:
                sql += f" AND {column}=?"
                params.append(value)
        sql += " ORDER BY created_at DESC LIMIT ?"
        params.append(limit)
        return [_record(r) for r in await self._db.fetchall(sql, params)]

    async def active_resources(self, account_id: str, task_type: str) -> set[str]:
        """Resource ids of an account's pending or running tasks of one type, whoever owns them
        (imports reserve targets in shared folders)."""
        rows = await self._db.fetchall(
            "SELECT DISTINCT resource_id FROM tasks WHERE account_id=? AND task_type=? "
            "AND status IN ('pending','running') AND resource_id IS NOT NULL",
            (account_id, task_type),
        )
        return {r["resource_id"] for r in rows}

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
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), wait_for)
        finally:
            self._done.pop(task_id, None)

    async def cancel(self, task_id: str, ctx: RequestContext) -> TaskRecord:
        record = await self.get(task_id, ctx)
        if record.status not in _CANCELLABLE_STATES:
            raise FailedPreconditionError(
                f"Task {task_id} is {record.status} and cannot be cancelled",
                {"task_id": task_id, "status": record.status},
            )

        def mark(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE tasks SET cancel_requested=1, status=CASE WHEN status='pending' "
                "THEN 'cancelled' ELSE status END, updated_at=? WHERE task_id=?",
                (time.time(), task_id),
            )

        await self._db.transaction(mark)
        return await self.get(task_id)

    async def counts(self) -> dict[str, int]:
        rows = await self._db.fetchall("SELECT status, COUNT(*) AS n FROM tasks GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    async def idle(self) -> bool:
        row = await self._db.fetchone(
            "SELECT COUNT(*) AS n FROM tasks WHERE status IN ('pending','running')"
        )
        return row is None or row["n"] == 0

    # -- workers ---------------------------------------------------------------------------

    async def _claim(self, interactive_only: bool) -> TaskRecord | None:
        now = time.time()
        types = tuple(self._handlers)
        if not types:
            return None
        marks = ",".join("?" for _ in types)

        def claim(conn: sqlite3.Connection) -> sqlite3.Row | None:
            sql = (
                f"SELECT task_id FROM tasks WHERE status='pending' AND run_after<=? "
                f"AND task_type IN ({marks})"
            )
            params: list[Any] = [now, *types]
            if interactive_only:
                sql += " AND priority<=?"
                params.append(INTERACTIVE)
            sql += " ORDER BY priority, created_at LIMIT 1"
            row = conn.execute(sql, params).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE tasks SET status='running', lease_owner=?, lease_until=?, "
                "attempts=attempts+1, updated_at=? WHERE task_id=?",
                (self.owner, now + _LEASE_SECONDS, now, row["task_id"]),
            )
            claimed: sqlite3.Row | None = conn.execute(
                "SELECT * FROM tasks WHERE task_id=?", (row["task_id"],)
            ).fetchone()
            return claimed

        row = await self._db.transaction(claim)
        return _record(row) if row is not None else None

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
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), _POLL_SECONDS)
                continue
            await self._execute(record)

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
            await self._finish(record, "completed", result, None, handle._progress)
        finally:
            self._running.discard(record.task_id)
            self._last_report.pop(record.task_id, None)

    async def _failed(self, record: TaskRecord, exc: Exception, handle: TaskHandle) -> None:
        message = (
            exc.message if isinstance(exc, OpenVikingError) else f"{type(exc).__name__}: {exc}"
        )
        if isinstance(exc, _TRANSIENT) and record.attempts < record.max_attempts:
            delay = min(2.0**record.attempts, _BACKOFF_MAX_SECONDS)
            self.stats["retried"] += 1
            logger.warning(
                "task %s (%s) failed transiently, retry in %.0fs: %s",
                record.task_id,
                record.task_type,
                delay,
                message,
            )

            def retry(conn: sqlite3.Connection) -> None:
                conn.execute(
                    "UPDATE tasks SET status='pending', run_after=?, error=?, lease_owner=NULL, "
                    "lease_until=NULL, state=?, progress=?, updated_at=? WHERE task_id=?",
                    (
                        time.time() + delay,
                        message,
                        json.dumps(record.state),
                        json.dumps(handle._progress),
                        time.time(),
                        record.task_id,
                    ),
                )

            await self._db.transaction(retry)
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
        if status == "completed":
            self.stats["processed"] += 1
        elif status == "failed":
            self.stats["failed"] += 1

        def done(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE tasks SET status=?, result=?, error=?, lease_owner=NULL, "
                "lease_until=NULL, stage=?, progress=?, updated_at=? WHERE task_id=?",
                (
                    status,
                    json.dumps(result, ensure_ascii=False, default=str),
                    error,
                    "done" if status == "completed" else record.stage,
                    json.dumps(progress if progress is not None else record.progress),
                    time.time(),
                    record.task_id,
                ),
            )

        await self._db.transaction(done)
        event = self._done.get(record.task_id)
        if event is not None:
            event.set()

    async def _save(self, record: TaskRecord, *, progress: dict[str, Any]) -> bool:
        """Persist stage/state/progress; returns True if cancellation was requested."""

        def save(conn: sqlite3.Connection) -> bool:
            conn.execute(
                "UPDATE tasks SET stage=?, state=?, progress=?, updated_at=? WHERE task_id=?",
                (
                    record.stage,
                    json.dumps(record.state, ensure_ascii=False),
                    json.dumps(progress, ensure_ascii=False),
                    time.time(),
                    record.task_id,
                ),
            )
            row = conn.execute(
                "SELECT cancel_requested FROM tasks WHERE task_id=?", (record.task_id,)
            ).fetchone()
            return bool(row and row[0])

        return await self._db.transaction(save)

    async def _renew_leases(self) -> None:
        while True:
            await asyncio.sleep(_LEASE_SECONDS / 3)
            running = tuple(self._running)
            if not running:
                continue
            with contextlib.suppress(Exception):
                await self._db.transaction(self._renewal(running, time.time() + _LEASE_SECONDS))

    def _renewal(
        self, running: tuple[str, ...], until: float
    ) -> Callable[[sqlite3.Connection], None]:
        marks = ",".join("?" for _ in running)

        def renew(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"UPDATE tasks SET lease_until=? WHERE lease_owner=? AND task_id IN ({marks})",
                (until, self.owner, *running),
            )

        return renew


def _visible(ctx: RequestContext, row: sqlite3.Row) -> bool:
    if row["account_id"] != ctx.account_id:
        return False
    return ctx.is_root or row["user_id"] == ctx.user_id


def _owner_dead(owner: str | None, host: str) -> bool:
    """True when ``owner`` is a process on this host that no longer exists."""
    if not owner:
        return True
    parts = owner.split(":")
    if len(parts) < 3 or parts[0] != host:
        return False
    try:
        pid = int(parts[1])
    except ValueError:
        return True
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
