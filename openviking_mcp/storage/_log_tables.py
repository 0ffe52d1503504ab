"""What the append-only log tables share: bounded pruning by age, and a buffered batch writer.

:class:`BatchedWriter` keeps records in memory and writes them in the background, one
transaction per batch: when ``buffer_max`` records wait, or ``flush_interval`` seconds after the
first. Past ten times ``buffer_max`` waiting records, new ones are dropped and counted (a
stalled database must not grow memory without bound). ``close`` writes what waits. After a
write, rows older than the retention are pruned, at most once an hour.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any, Generic, Protocol, TypeVar

from openviking_mcp._aio import wait_event
from openviking_mcp.storage.metadata import Connection, MetadataBackend

__all__ = ["BatchedWriter", "Row", "prune_older_than"]

_log = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600.0
PRUNE_BATCH = 1000


class Row(Protocol):
    def row(self) -> tuple[Any, ...]: ...


R = TypeVar("R", bound=Row)


def _storable(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """``row`` with text a database can hold: a lone surrogate (from a malformed request)
    becomes U+FFFD instead of failing the whole batch."""
    return tuple(
        v.encode("utf-8", "replace").decode("utf-8") if isinstance(v, str) else v for v in row
    )


async def prune_older_than(db: MetadataBackend, table: str, key: str, cutoff: float) -> int:
    """Delete the rows of ``table`` whose ``ts`` is before ``cutoff``, ``PRUNE_BATCH`` at a
    time in ``key`` order (short transactions); the number deleted."""
    sql = (
        f"DELETE FROM {table} WHERE {key} IN "
        f"(SELECT {key} FROM {table} WHERE ts < ? ORDER BY {key} LIMIT ?)"
    )

    def delete(conn: Connection) -> int:
        return conn.execute(sql, (cutoff, PRUNE_BATCH)).rowcount

    total = 0
    while (count := await db.transaction(delete)) > 0:
        total += count
        if count < PRUNE_BATCH:
            break
    return total


class BatchedWriter(Generic[R]):
    """A buffered writer of one log table (module docs). ``columns``: the inserted columns,
    in the order of each record's ``row()``; ``key``: the table's increasing id column."""

    def __init__(
        self,
        db: MetadataBackend,
        table: str,
        columns: Sequence[str],
        *,
        key: str = "seq",
        retention_days: float,
        flush_interval: float,
        buffer_max: int,
    ) -> None:
        self._db = db
        self.table = table
        self._key = key
        self._insert = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        )
        self.retention_days = retention_days
        self._interval = flush_interval
        self._max = buffer_max
        self._pending: list[R] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._write_lock: asyncio.Lock | None = None
        self._last_prune = 0.0
        #: Records not written because too many were waiting.
        self.dropped = 0

    def add(self, *records: R) -> None:
        """Queue ``records``; they are written in the background."""
        if len(self._pending) >= self._max * 10:
            self.dropped += len(records)
            _log.warning("%s queue full; %d records not written", self.table, self.dropped)
            return
        self._pending.extend(records)
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
        self._task = asyncio.create_task(self._write_loop(), name=f"{self.table}-writer")

    async def _write_loop(self) -> None:
        assert self._wake is not None
        while True:
            await wait_event(self._wake, self._interval)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                _log.exception("%s write failed", self.table)

    def _lock(self) -> asyncio.Lock:
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        return self._write_lock

    async def flush(self) -> None:
        """Write every queued record (one transaction), then prune when it is time."""
        async with self._lock():
            batch, self._pending = self._pending, []
            if batch:
                rows = [_storable(r.row()) for r in batch]
                await self._db.transaction(lambda conn: conn.executemany(self._insert, rows))
        if self.retention_days > 0 and time.time() - self._last_prune > PRUNE_EVERY_S:
            await self.prune()

    async def close(self) -> None:
        """Stop the background writer and write what waits."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:
                _log.exception("%s writer failed", self.table)
        if self._pending:
            await self.flush()
        self._write_lock = None

    async def prune(self, now: float | None = None) -> int:
        """Delete rows older than the retention (none when it is 0); the number deleted."""
        self._last_prune = time.time()
        if self.retention_days <= 0:
            return 0
        cutoff = (now if now is not None else time.time()) - self.retention_days * 86400
        return await prune_older_than(self._db, self.table, self._key, cutoff)
