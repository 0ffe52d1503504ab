"""The event log table: an append-only record of what happened, for streams and webhooks.

Every event has an ``id`` that increases with each event of the database (SQLite
``AUTOINCREMENT``, a PostgreSQL ``BIGSERIAL``), its type, the account, the owning user
(``None`` for account-wide events), the URIs it names and a small JSON payload: never content
or secrets. :meth:`EventLog.append` writes the row at once, in the flow of the change it
reports, so an event is stored once its change is done; readers in the same process are woken
(:meth:`EventLog.changed`), readers in other processes find it when they poll. Events older
than ``retention_days`` are deleted after a write, at most once an hour, a bounded batch at a
time. The same SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openviking_mcp.storage._log_tables import prune_older_than
from openviking_mcp.storage.metadata import MetadataBackend, Row

__all__ = ["EventLog", "EventRecord", "StoredEvent", "settled_events"]

_PRUNE_EVERY_S = 3600.0
_SELECT = "SELECT id, ts, event_type, account_id, user_id, uris, payload FROM event_log"
_INSERT = (
    "INSERT INTO event_log (ts, event_type, account_id, user_id, uris, payload) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event as it is written."""

    event_type: str
    account_id: str
    user_id: str | None
    uris: tuple[str, ...] = ()
    payload: dict[str, Any] = field(default_factory=dict)
    ts: float = field(default_factory=time.time)

    def row(self) -> tuple[Any, ...]:
        return (
            self.ts,
            self.event_type,
            self.account_id,
            self.user_id,
            json.dumps(list(self.uris), ensure_ascii=False),
            json.dumps(self.payload, ensure_ascii=False, sort_keys=True),
        )


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event as it is read back, with its ``id``."""

    id: int
    ts: float
    event_type: str
    account_id: str
    user_id: str | None
    uris: tuple[str, ...]
    payload: dict[str, Any]


def settled_events(
    rows: Sequence[tuple[int, float]], cursor: int, now: float, gap_wait: float
) -> tuple[int, bool]:
    """How far the cursor may move over ``rows`` (``(id, ts)``, ascending): to the end, or to
    just before an id gap whose next event is younger than ``gap_wait`` seconds (the missing
    id may be a transaction still committing; an older gap is a rolled-back one). Returns the
    new cursor and whether it stopped at a gap."""
    for event_id, ts in rows:
        if event_id != cursor + 1 and now - ts < gap_wait:
            return cursor, True
        cursor = event_id
    return cursor, False


def _stored(row: Row) -> StoredEvent:
    return StoredEvent(
        id=int(row["id"]),
        ts=float(row["ts"]),
        event_type=str(row["event_type"]),
        account_id=str(row["account_id"]),
        user_id=row["user_id"],
        uris=tuple(json.loads(row["uris"] or "[]")),
        payload=json.loads(row["payload"] or "{}"),
    )


class EventLog:
    """The writer and the queries of the ``event_log`` table (module docs)."""

    def __init__(
        self, db: MetadataBackend, *, retention_days: float = 7.0, gap_wait: float = 2.0
    ) -> None:
        self._db = db
        #: On PostgreSQL, ids are taken before their transactions commit, so a reader may see
        #: id N+1 before N: readers stop short of such a gap for up to this many seconds.
        self.gap_wait = gap_wait if db.dialect == "postgres" else 0.0
        self.retention_days = retention_days
        self._last_prune = 0.0
        self._changed: asyncio.Event | None = None

    def changed(self) -> asyncio.Event:
        """An event set by the next :meth:`append` of this process."""
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    async def append(self, records: Sequence[EventRecord]) -> None:
        """Write ``records`` (one transaction), wake this process's readers, prune when due."""
        if not records:
            return
        rows = [r.row() for r in records]
        await self._db.transaction(lambda conn: conn.executemany(_INSERT, rows))
        waiting, self._changed = self._changed, None
        if waiting is not None:
            waiting.set()
        if self.retention_days > 0 and time.time() - self._last_prune > _PRUNE_EVERY_S:
            await self.prune()

    async def after(
        self,
        account_id: str,
        after_id: int,
        *,
        types: Sequence[str] = (),
        user_id: str | None = None,
        limit: int = 100,
    ) -> list[StoredEvent]:
        """The account's events with an id above ``after_id``, oldest first. ``user_id``: only
        that user's events and account-wide ones (the rest of the read check is the caller's).
        Never past a recent gap in the ids (:attr:`gap_wait`), so that an event committed late
        is not skipped by a reader that resumes after a later id."""
        clauses = ["account_id = ?", "id > ?"]
        params: list[Any] = [account_id, after_id]
        if self.gap_wait > 0:
            clauses.append("id <= ?")
            params.append(await self._settled_up_to(after_id))
        if types:
            clauses.append(f"event_type IN ({', '.join('?' * len(types))})")
            params.extend(types)
        if user_id is not None:
            clauses.append("(user_id = ? OR user_id IS NULL)")
            params.append(user_id)
        sql = f"{_SELECT} WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?"
        rows = await self._db.fetchall(sql, (*params, limit))
        return [_stored(row) for row in rows]

    async def _settled_up_to(self, after_id: int) -> int:
        """The highest id up to which every id is present or long past (module docs)."""
        rows = await self._db.fetchall(
            "SELECT id, ts FROM event_log WHERE id > ? ORDER BY id LIMIT 1000", (after_id,)
        )
        ids = [(int(r["id"]), float(r["ts"])) for r in rows]
        horizon, _ = settled_events(ids, after_id, time.time(), self.gap_wait)
        return horizon

    async def get(self, event_id: int) -> StoredEvent | None:
        """One event by id (``None`` once pruned)."""
        rows = await self._db.fetchall(f"{_SELECT} WHERE id = ?", (event_id,))
        return _stored(rows[0]) if rows else None

    async def last_id(self) -> int:
        """The highest id written so far (0 when the log is empty)."""
        rows = await self._db.fetchall("SELECT MAX(id) AS top FROM event_log", ())
        top = rows[0]["top"] if rows else None
        return int(top) if top is not None else 0

    async def prune(self, now: float | None = None) -> int:
        """Delete events older than the retention, a bounded batch at a time; the count."""
        self._last_prune = time.time()
        if self.retention_days <= 0:
            return 0
        cutoff = (now if now is not None else time.time()) - self.retention_days * 86400
        return await prune_older_than(self._db, "event_log", "id", cutoff)
