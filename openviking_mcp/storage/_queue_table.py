"""The ``tasks`` table of the metadata database: every SQL statement the task queue runs.

:class:`TaskTable` wraps a :class:`MetadataBackend` and offers one async method per operation
(insert, claim, checkpoint, finish, retry, lease release/renewal/recovery, expiry and
queries); each write runs in its own transaction. Scheduling decisions (priorities, lease
lengths, backoff) are made by the queue and passed in.

On SQLite a write transaction holds the whole database, so reading a row and then updating
it is atomic. On PostgreSQL the rows a claim or a reclaim reads are locked as they are read
(``FOR UPDATE SKIP LOCKED``): a row another process is claiming is skipped, so concurrent
workers of any process never take the same task.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.storage._queue_policy import owner_dead
from openviking_mcp.storage._queue_records import TaskRecord, record_from_row
from openviking_mcp.storage.metadata import Connection, MetadataBackend, Row

__all__ = ["INSERT_TASK", "TaskTable", "task_row"]

#: Adds one task row; its values are :func:`task_row`'s.
INSERT_TASK = (
    "INSERT INTO tasks(task_id, task_type, status, priority, account_id, user_id, role, "
    "resource_id, payload, state, max_attempts, lease_owner, lease_until, created_at, "
    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def task_row(
    task_id: str,
    task_type: str,
    ctx: RequestContext,
    payload: str,
    *,
    priority: int,
    resource_id: str | None,
    max_attempts: int,
    now: float,
    lease: tuple[str, float] | None = None,
    state: str = "{}",
) -> tuple[Any, ...]:
    """The values of :data:`INSERT_TASK` for a ``pending`` task (``running`` under ``lease``,
    an ``(owner, until)`` pair, when given); ``payload`` and ``state`` are already JSON."""
    owner, until = lease if lease is not None else (None, None)
    return (
        task_id,
        task_type,
        "running" if lease is not None else "pending",
        priority,
        ctx.account_id,
        ctx.user_id,
        ctx.role.value,
        resource_id,
        payload,
        state,
        max_attempts,
        owner,
        until,
        now,
        now,
    )


class TaskTable:
    """Reads and writes task rows; returns decoded :class:`TaskRecord` objects."""

    def __init__(self, db: MetadataBackend) -> None:
        self._db = db
        #: Appended to the reads of rows a transaction then updates (see the module docs).
        self._lock_rows = " FOR UPDATE SKIP LOCKED" if db.dialect == "postgres" else ""

    # -- leases ----------------------------------------------------------------------------

    async def release(self, owner: str) -> None:
        """Put the running tasks of ``owner`` back to ``pending``."""

        def release(conn: Connection) -> None:
            conn.execute(
                "UPDATE tasks SET status='pending', lease_owner=NULL, lease_until=NULL "
                "WHERE status='running' AND lease_owner=?",
                (owner,),
            )

        await self._db.transaction(release)

    async def release_held(self, task_id: str, owner: str) -> bool:
        """Put one held task of ``owner`` (never started: ``attempts`` 0) to ``pending``;
        ``False`` if it was no longer held (its lease was taken back and it ran)."""

        def release(conn: Connection) -> bool:
            cursor = conn.execute(
                "UPDATE tasks SET status='pending', lease_owner=NULL, lease_until=NULL, "
                "updated_at=? WHERE task_id=? AND status='running' AND lease_owner=? "
                "AND attempts=0",
                (time.time(), task_id, owner),
            )
            return cursor.rowcount > 0

        return await self._db.transaction(release)

    async def reclaim(self, host: str, now: float) -> int:
        """Put back running tasks whose lease ran out or whose owner on ``host`` is dead."""

        def reclaim(conn: Connection) -> int:
            rows = conn.execute(
                "SELECT task_id, lease_owner, lease_until FROM tasks WHERE status='running'"
                + self._lock_rows
            ).fetchall()
            stale = [
                r["task_id"]
                for r in rows
                if (r["lease_until"] or 0) < now or owner_dead(r["lease_owner"], host)
            ]
            for task_id in stale:
                conn.execute(
                    "UPDATE tasks SET status='pending', lease_owner=NULL, lease_until=NULL, "
                    "updated_at=? WHERE task_id=? AND status='running'",
                    (now, task_id),
                )
            return len(stale)

        return await self._db.transaction(reclaim)

    async def renew(self, owner: str, task_ids: Sequence[str], until: float) -> None:
        """Extend the leases ``owner`` holds on ``task_ids`` to ``until``."""
        marks = ",".join("?" for _ in task_ids)

        def renew(conn: Connection) -> None:
            conn.execute(
                f"UPDATE tasks SET lease_until=? WHERE lease_owner=? AND task_id IN ({marks})",
                (until, owner, *task_ids),
            )

        await self._db.transaction(renew)

    async def expire(self, completed_before: float, failed_before: float) -> None:
        """Delete completed tasks older than one cutoff, failed/cancelled older than another."""

        def expire(conn: Connection) -> None:
            conn.execute(
                "DELETE FROM tasks WHERE (status='completed' AND updated_at<?) OR "
                "(status IN ('failed','cancelled') AND updated_at<?)",
                (completed_before, failed_before),
            )

        await self._db.transaction(expire)

    # -- submitting and querying -----------------------------------------------------------

    async def insert(
        self,
        task_id: str,
        task_type: str,
        ctx: RequestContext,
        payload: str,
        *,
        priority: int,
        resource_id: str | None,
        max_attempts: int,
        now: float,
        lease: tuple[str, float] | None = None,
        state: str = "{}",
    ) -> None:
        """Add a ``pending`` task; ``payload`` and ``state`` are already JSON. With ``lease``
        (owner, until) the task is added as ``running`` under that lease instead (held)."""
        values = task_row(
            task_id,
            task_type,
            ctx,
            payload,
            priority=priority,
            resource_id=resource_id,
            max_attempts=max_attempts,
            now=now,
            lease=lease,
            state=state,
        )
        await self._db.transaction(lambda conn: conn.execute(INSERT_TASK, values))

    async def fetch(self, task_id: str) -> TaskRecord | None:
        row = await self._db.fetchone("SELECT * FROM tasks WHERE task_id=?", (task_id,))
        return record_from_row(row) if row is not None else None

    async def select(
        self,
        account_id: str,
        user_id: str | None,
        equal: Sequence[tuple[str, str | None]],
        limit: int,
    ) -> list[TaskRecord]:
        """Newest tasks of an account (of one user unless ``user_id`` is ``None``); ``equal``
        holds ``(column, value)`` conditions, skipped when the value is empty."""
        sql = "SELECT * FROM tasks WHERE account_id=?"
        params: list[Any] = [account_id]
        if user_id is not None:
            sql += " AND user_id=?"
            params.append(user_id)
        for column, value in equal:
            if value:
                sql += f" AND {column}=?"
                params.append(value)
        sql += " ORDER BY created_at DESC LIMIT ?"
        params.append(limit)
        return [record_from_row(r) for r in await self._db.fetchall(sql, params)]

    async def active_resources(self, account_id: str, task_type: str) -> set[str]:
        rows = await self._db.fetchall(
            "SELECT DISTINCT resource_id FROM tasks WHERE account_id=? AND task_type=? "
            "AND status IN ('pending','running') AND resource_id IS NOT NULL",
            (account_id, task_type),
        )
        return {r["resource_id"] for r in rows}

    async def request_cancel(self, task_id: str) -> None:
        """Flag the task for cancellation; a pending one is cancelled at once."""

        def mark(conn: Connection) -> None:
            conn.execute(
                "UPDATE tasks SET cancel_requested=1, status=CASE WHEN status='pending' "
                "THEN 'cancelled' ELSE status END, updated_at=? WHERE task_id=?",
                (time.time(), task_id),
            )

        await self._db.transaction(mark)

    async def counts(self) -> dict[str, int]:
        rows = await self._db.fetchall("SELECT status, COUNT(*) AS n FROM tasks GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    async def idle(self) -> bool:
        row = await self._db.fetchone(
            "SELECT COUNT(*) AS n FROM tasks WHERE status IN ('pending','running')"
        )
        return row is None or row["n"] == 0

    # -- running ---------------------------------------------------------------------------

    async def claim(
        self,
        types: Sequence[str],
        owner: str,
        now: float,
        lease_until: float,
        max_priority: int | None,
    ) -> TaskRecord | None:
        """Lease the next runnable task of ``types`` (lowest priority value, then oldest)."""
        marks = ",".join("?" for _ in types)

        def claim(conn: Connection) -> Row | None:
            sql = (
                f"SELECT task_id FROM tasks WHERE status='pending' AND run_after<=? "
                f"AND task_type IN ({marks})"
            )
            params: list[Any] = [now, *types]
            if max_priority is not None:
                sql += " AND priority<=?"
                params.append(max_priority)
            sql += " ORDER BY priority, created_at LIMIT 1" + self._lock_rows
            row = conn.execute(sql, params).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE tasks SET status='running', lease_owner=?, lease_until=?, "
                "attempts=attempts+1, updated_at=? WHERE task_id=?",
                (owner, lease_until, now, row["task_id"]),
            )
            claimed: Row | None = conn.execute(
                "SELECT * FROM tasks WHERE task_id=?", (row["task_id"],)
            ).fetchone()
            return claimed

        row = await self._db.transaction(claim)
        return record_from_row(row) if row is not None else None

    async def claim_like(
        self, first: TaskRecord, owner: str, now: float, lease_until: float, limit: int
    ) -> list[TaskRecord]:
        """Lease up to ``limit`` more runnable tasks like ``first`` (same type, priority and
        caller), oldest first, to run in one batch with it."""

        def claim(conn: Connection) -> list[Row]:
            ids = [
                row["task_id"]
                for row in conn.execute(
                    "SELECT task_id FROM tasks WHERE status='pending' AND run_after<=? "
                    "AND task_type=? AND priority=? AND account_id=? AND user_id=? AND role=? "
                    "ORDER BY created_at LIMIT ?" + self._lock_rows,
                    (
                        now,
                        first.task_type,
                        first.priority,
                        first.account_id,
                        first.user_id,
                        first.role,
                        limit,
                    ),
                )
            ]
            if not ids:
                return []
            marks = ",".join("?" for _ in ids)
            conn.execute(
                "UPDATE tasks SET status='running', lease_owner=?, lease_until=?, "
                f"attempts=attempts+1, updated_at=? WHERE task_id IN ({marks})",
                (owner, lease_until, now, *ids),
            )
            return conn.execute(f"SELECT * FROM tasks WHERE task_id IN ({marks})", ids).fetchall()

        if limit <= 0:
            return []
        rows = await self._db.transaction(claim)
        return [record_from_row(r) for r in rows]

    async def finish_many(
        self, task_ids: Sequence[str], status: str, result: Any, *, stage: str
    ) -> None:
        """:meth:`finish` of several tasks with one result, in one transaction."""
        body = json.dumps(result, ensure_ascii=False, default=str)
        now = time.time()

        def done(conn: Connection) -> None:
            conn.executemany(
                "UPDATE tasks SET status=?, result=?, error=NULL, lease_owner=NULL, "
                "lease_until=NULL, stage=?, updated_at=? WHERE task_id=?",
                [(status, body, stage, now, task_id) for task_id in task_ids],
            )

        await self._db.transaction(done)

    async def save(self, record: TaskRecord, progress: dict[str, Any]) -> bool:
        """Persist stage/state/progress; returns True if cancellation was requested."""

        def save(conn: Connection) -> bool:
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

    async def reschedule(
        self, record: TaskRecord, delay: float, error: str, progress: dict[str, Any]
    ) -> None:
        """Release the task back to ``pending`` for ``delay`` seconds, keeping its state."""

        def retry(conn: Connection) -> None:
            conn.execute(
                "UPDATE tasks SET status='pending', run_after=?, error=?, lease_owner=NULL, "
                "lease_until=NULL, state=?, progress=?, updated_at=? WHERE task_id=?",
                (
                    time.time() + delay,
                    error,
                    json.dumps(record.state),
                    json.dumps(progress),
                    time.time(),
                    record.task_id,
                ),
            )

        await self._db.transaction(retry)

    async def finish(
        self,
        task_id: str,
        status: str,
        result: Any,
        error: str | None,
        *,
        stage: str,
        progress: dict[str, Any],
    ) -> None:
        """Record a terminal ``status`` with its result or error and drop the lease."""

        def done(conn: Connection) -> None:
            conn.execute(
                "UPDATE tasks SET status=?, result=?, error=?, lease_owner=NULL, "
                "lease_until=NULL, stage=?, progress=?, updated_at=? WHERE task_id=?",
                (
                    status,
                    json.dumps(result, ensure_ascii=False, default=str),
                    error,
                    stage,
                    json.dumps(progress),
                    time.time(),
                    task_id,
                ),
            )

        await self._db.transaction(done)
