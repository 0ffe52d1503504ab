"""The audit log table: append-only entries, written in batches off the hot path.

:meth:`AuditLog.add` only queues an entry in memory; a background task writes the queue in
one transaction every ``flush_interval`` seconds, or at once when ``buffer_max`` entries wait.
The queue is bounded: beyond ten times ``buffer_max`` (a database that stopped answering) new
entries are counted in :attr:`AuditLog.dropped` and logged rather than held. :meth:`flush`
writes what waits (queries call it first, so a caller sees its own entries) and
:meth:`close` writes the rest. Entries older than ``retention_days`` are deleted after a flush,
at most once an hour and a bounded batch at a time (:meth:`prune`).

An entry holds who (account, user, role, key id), when, the surface, the operation, the URIs,
the outcome (``ok`` or an error code) and the request id: never content, messages or secrets.
The same SQL runs on SQLite and PostgreSQL (``uris`` is a JSON list as text).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from openviking_mcp.storage.metadata import Connection, MetadataBackend

__all__ = ["AuditFilter", "AuditLog", "AuditRecord"]

_log = logging.getLogger(__name__)

_PRUNE_EVERY_S = 3600.0
_PRUNE_BATCH = 1000
_COLUMNS = (
    "ts",
    "account_id",
    "user_id",
    "role",
    "key_id",
    "surface",
    "operation",
    "kind",
    "uris",
    "outcome",
    "request_id",
    "duration_ms",
)
_INSERT = f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One entry as it is written."""

    ts: float
    account_id: str
    user_id: str
    role: str
    key_id: str | None
    surface: str
    operation: str
    kind: str
    uris: tuple[str, ...]
    outcome: str
    request_id: str | None
    duration_ms: float | None = None

    def row(self) -> tuple[Any, ...]:
        uris = json.dumps(list(self.uris), ensure_ascii=False)
        return (
            self.ts,
            self.account_id,
            self.user_id,
            self.role,
            self.key_id,
            self.surface,
            self.operation,
            self.kind,
            uris,
            self.outcome,
            self.request_id,
            self.duration_ms,
        )


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries a query answers, newest first: ``before_seq`` is the paging cursor,
    ``outcome`` is ``ok``, ``error`` (any failure) or one error code."""

    account_id: str | None = None
    user_id: str | None = None
    operation: str | None = None
    uri_prefix: str | None = None
    since: float | None = None
    until: float | None = None
    outcome: str | None = None
    before_seq: int | None = None
    limit: int = 100


class AuditLog:
    """The buffered writer and the queries of the ``audit_log`` table (module docs)."""

    def __init__(
        self,
        db: MetadataBackend,
        *,
        retention_days: float = 90.0,
        flush_interval: float = 1.0,
        buffer_max: int = 1000,
    ) -> None:
        self._db = db
        self.retention_days = retention_days
        self._interval = flush_interval
        self._max = buffer_max
        self._pending: list[AuditRecord] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._write_lock: asyncio.Lock | None = None
        self._last_prune = 0.0
        #: Entries not recorded because the queue was full.
        self.dropped = 0

    def add(self, record: AuditRecord) -> None:
        """Queue ``record``; it is written in the background (module docs)."""
        if len(self._pending) >= self._max * 10:
            self.dropped += 1
            _log.warning("audit log queue full; %d entries not recorded", self.dropped)
            return
        self._pending.append(record)
        self._ensure_writer()
        if len(self._pending) >= self._max and self._wake is not None:
            self._wake.set()

    def _ensure_writer(self) -> None:
        if self._task is not None and not self._task.done():
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop: written by the next flush or close
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._writer(), name="audit-log-writer")

    async def _writer(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                _log.exception("audit log write failed")

    def _lock(self) -> asyncio.Lock:
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        return self._write_lock

    async def flush(self) -> None:
        """Write every queued entry (one transaction), then prune when it is time."""
        async with self._lock():
            batch, self._pending = self._pending, []
            if batch:
                rows = [r.row() for r in batch]
                await self._db.transaction(lambda conn: conn.executemany(_INSERT, rows))
        if self.retention_days > 0 and time.time() - self._last_prune > _PRUNE_EVERY_S:
            await self.prune()

    async def close(self) -> None:
        """Stop the writer and write what waits."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:
                _log.exception("audit log writer failed")
        if self._pending:
            await self.flush()
        self._write_lock = None

    async def prune(self, now: float | None = None) -> int:
        """Delete entries older than the retention, a bounded batch at a time (all of them
        when called directly); the number deleted."""
        self._last_prune = time.time()
        if self.retention_days <= 0:
            return 0
        cutoff = (now if now is not None else time.time()) - self.retention_days * 86400
        sql = (
            "DELETE FROM audit_log WHERE seq IN "
            "(SELECT seq FROM audit_log WHERE ts < ? ORDER BY seq LIMIT ?)"
        )

        def delete(conn: Connection) -> int:
            return conn.execute(sql, (cutoff, _PRUNE_BATCH)).rowcount

        total = 0
        while (count := await self._db.transaction(delete)) > 0:
            total += count
            if count < _PRUNE_BATCH:
                break
        return total

    async def query(self, where: AuditFilter) -> list[dict[str, Any]]:
        """The entries ``where`` selects, newest first (``seq`` included for paging)."""
        await self.flush()
        clauses, params = self._clauses(where)
        sql = (
            f"SELECT seq, {', '.join(_COLUMNS)} FROM audit_log"
            + (f" WHERE {' AND '.join(clauses)}" if clauses else "")
            + " ORDER BY seq DESC LIMIT ?"
        )
        rows = await self._db.fetchall(sql, (*params, where.limit))
        out = []
        for row in rows:
            entry = dict(zip(row.keys(), row, strict=True))
            entry["uris"] = json.loads(entry["uris"] or "[]")
            out.append(entry)
        return out

    def _clauses(self, where: AuditFilter) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("account_id", where.account_id),
            ("user_id", where.user_id),
            ("operation", where.operation),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        for clause, bound in (
            ("ts >= ?", where.since),
            ("ts < ?", where.until),
            ("seq < ?", where.before_seq),
        ):
            if bound is not None:
                clauses.append(clause)
                params.append(bound)
        if where.outcome == "error":
            clauses.append("outcome <> 'ok'")
        elif where.outcome is not None:
            clauses.append("outcome = ?")
            params.append(where.outcome)
        if where.uri_prefix:
            find = "instr(uris, ?)" if self._db.dialect == "sqlite" else "strpos(uris, ?)"
            clauses.append(f"{find} > 0")
            params.append(json.dumps(where.uri_prefix, ensure_ascii=False)[:-1])
        return clauses, params
