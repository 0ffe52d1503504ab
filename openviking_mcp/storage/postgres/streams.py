"""The bot's turn streams shared through PostgreSQL: a turn started on one server is followed
(and resumed with ``Last-Event-ID``) on any other, and a session runs one turn at a time
across all of them.

A turn is a row of ``ov_streams`` (see :mod:`._schema_streams`); opening one is a single
insert that the partial unique index refuses while the session has a running turn. The owning
server refreshes the turn's ``heartbeat`` every ``heartbeat`` seconds; a running turn whose
heartbeat is older than ``stale_after`` seconds belongs to a server that stopped, and is
ended as failed (with a final ``response`` event carrying the error) by the next server that
opens a turn in the session or follows it. Events are rows of ``ov_stream_events`` numbered
from 0, the same ids the in-memory streams give, so event ids carry over between servers.
Each emit and finish ``NOTIFY``s the channel ``ov_streams`` with the turn's response id; one
dedicated ``LISTEN`` connection per registry wakes this server's followers, which then read
the new rows. Followers also re-read every ``heartbeat`` they wait, so a lost notification
only delays them. Finished turns are deleted ``retention`` seconds after they end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.types.json import Json

from openviking_mcp._aio import wait_event
from openviking_mcp.contract.chat_events import ChatEvent, EventType, now_iso, turn_conflict
from openviking_mcp.contract.errors import NotFoundError
from openviking_mcp.storage.postgres._db import PgDatabase, Row

__all__ = ["PgStreamRegistry", "PgTurnStream"]

logger = logging.getLogger("openviking_mcp.storage.postgres.streams")

CHANNEL = "ov_streams"
_MAX_EVENTS = 20_000
_PAGE = 500
_RECONNECT_S = 1.0

StreamKey = tuple[str, str, str]

_OPEN = """
INSERT INTO ov_streams (response_id, account_id, user_id, session_id, owner)
VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (account_id, user_id, session_id) WHERE state = 'running' DO NOTHING
RETURNING response_id
"""
_RUNNING_OF = """
SELECT response_id FROM ov_streams
WHERE account_id = %s AND user_id = %s AND session_id = %s AND state = 'running'
"""
_EXPIRE = """
UPDATE ov_streams SET state = 'failed', finished = clock_timestamp()
WHERE {where} AND state = 'running' AND heartbeat < now() - make_interval(secs => %s)
RETURNING response_id, session_id
"""
_EXPIRED_RESULT = "UPDATE ov_streams SET result = %s WHERE response_id = %s"
_LAST_EVENT = """
INSERT INTO ov_stream_events (response_id, seq, event, data, ts)
SELECT %s, coalesce(max(seq), -1) + 1, 'response', %s, %s
FROM ov_stream_events WHERE response_id = %s
"""
_NOTIFY = f"SELECT pg_notify('{CHANNEL}', %s)"
_EMIT = f"""
WITH s AS (
    SELECT response_id FROM ov_streams
    WHERE response_id = %s AND state = 'running' FOR SHARE
), ins AS (
    INSERT INTO ov_stream_events (response_id, seq, event, data, ts)
    SELECT response_id, %s, %s, %s, %s FROM s
    ON CONFLICT DO NOTHING RETURNING response_id
)
SELECT pg_notify('{CHANNEL}', response_id) FROM ins
"""
_FINISH = f"""
WITH up AS (
    UPDATE ov_streams SET state = %s, finished = clock_timestamp(), result = %s
    WHERE response_id = %s AND state = 'running' RETURNING response_id
)
SELECT pg_notify('{CHANNEL}', response_id) FROM up
"""
_HEARTBEAT = """
UPDATE ov_streams SET heartbeat = clock_timestamp() WHERE response_id = %s AND state = 'running'
"""
_READ = """
SELECT s.state, e.seq, e.event, e.data, e.ts
FROM ov_streams s
LEFT JOIN ov_stream_events e ON e.response_id = s.response_id AND e.seq >= %s
WHERE s.response_id = %s ORDER BY e.seq LIMIT %s
"""
_RESULT = "SELECT state, result FROM ov_streams WHERE response_id = %s"
_GET = """
SELECT response_id FROM ov_streams
WHERE account_id = %s AND user_id = %s AND session_id = %s
  AND (state = 'running' OR finished >= now() - make_interval(secs => %s))
ORDER BY started DESC LIMIT 1
"""
_RUNNING = """
SELECT response_id, account_id, user_id, session_id FROM ov_streams
WHERE state = 'running' AND heartbeat >= now() - make_interval(secs => %s)
ORDER BY started
"""
_PURGE = """
DELETE FROM ov_streams
WHERE state <> 'running' AND finished < now() - make_interval(secs => %s)
"""


def _event(row: Row) -> ChatEvent:
    return ChatEvent(int(row["seq"]), row["event"], row["data"], row["ts"])


class _Listener:
    """One ``LISTEN`` connection of its own, waking this process's waiters by response id;
    it reconnects after a failure (waking everyone, so nothing waits on a lost notice)."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    @asynccontextmanager
    async def watch(self, response_id: str) -> AsyncIterator[asyncio.Event]:
        """An event set whenever the turn ``response_id`` changes (clear it, then read)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        await self._ready.wait()
        signal = asyncio.Event()
        self._waiters.setdefault(response_id, set()).add(signal)
        try:
            yield signal
        finally:
            waiters = self._waiters.get(response_id, set())
            waiters.discard(signal)
            if not waiters:
                self._waiters.pop(response_id, None)

    async def _run(self) -> None:
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._dsn, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._ready.set()
                    self._wake_all()
                    async for note in conn.notifies():
                        for signal in self._waiters.get(note.payload, ()):
                            signal.set()
            except psycopg.Error as exc:
                logger.warning("stream notifications lost, reconnecting: %s", exc)
            self._ready.set()  # followers fall back to re-reading every heartbeat
            self._wake_all()
            await asyncio.sleep(_RECONNECT_S)

    def _wake_all(self) -> None:
        for waiters in self._waiters.values():
            for signal in waiters:
                signal.set()

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class PgTurnStream:
    """A turn's stream in PostgreSQL. The handle :meth:`PgStreamRegistry.open` returns owns
    the turn (emits, finishes and heartbeats it); handles from ``get``/``running`` read it."""

    def __init__(
        self, registry: PgStreamRegistry, key: StreamKey, response_id: str, *, owned: bool
    ) -> None:
        self._registry = registry
        self.key = key
        self.response_id = response_id
        self.last_progress = time.monotonic()
        self._owned = owned
        self._emitted: list[ChatEvent] = []
        self._result: dict[str, Any] | None = None
        self._finished = asyncio.Event()
        self._lock = asyncio.Lock()
        self._beating: asyncio.Task[None] | None = None

    @property
    def session_id(self) -> str:
        return self.key[2]

    def _require_owner(self) -> None:
        if not self._owned:
            raise RuntimeError("Only the server running a turn writes its stream")

    async def emit(self, event: EventType, data: Any) -> ChatEvent:
        """Append an event (ignored once the turn is finished, here or by expiry)."""
        self._require_owner()
        self.last_progress = time.monotonic()
        async with self._lock:
            item = ChatEvent(len(self._emitted), event, data, now_iso())
            if self._finished.is_set() or (
                len(self._emitted) >= _MAX_EVENTS and event != "response"
            ):
                return item
            async with self._registry.db.connection() as conn:
                cur = await conn.execute(
                    _EMIT, (self.response_id, item.index, event, Json(data), item.timestamp)
                )
                if await cur.fetchone() is not None:
                    self._emitted.append(item)
            return item

    async def finish(self, result: dict[str, Any]) -> None:
        self._require_owner()
        async with self._lock:
            if self._finished.is_set():
                return
            state = "failed" if result.get("error") else "done"
            await self._registry.db.execute(_FINISH, (state, Json(result), self.response_id))
            self._result = result
            self._finished.set()
            self._registry._forget(self)

    async def wait(self) -> dict[str, Any]:
        if self._owned:
            await self._finished.wait()
            assert self._result is not None
            return self._result
        registry = self._registry
        async with registry.listener.watch(self.response_id) as signal:
            while True:
                signal.clear()
                rows = await registry.db.fetchall(_RESULT, (self.response_id,))
                if not rows:
                    raise NotFoundError(self.response_id, "stream")
                if rows[0]["state"] != "running" and rows[0]["result"] is not None:
                    result: dict[str, Any] = rows[0]["result"]
                    return result
                if not await wait_event(signal, registry.stale_after):
                    await registry.expire_stale(response_id=self.response_id)

    async def history(self) -> list[ChatEvent]:
        if self._owned:
            return list(self._emitted)
        events: list[ChatEvent] = []
        async for item in self.follow(-1, heartbeat=0.0, until_now=True):
            if item is not None:
                events.append(item)
        return events

    async def follow(
        self, after: int = -1, *, heartbeat: float = 15.0, until_now: bool = False
    ) -> AsyncIterator[ChatEvent | None]:
        """Events with an index above ``after``, then new ones as they come (read after each
        notice, and every ``heartbeat`` s without one), until the turn is finished; ``None``
        after each quiet ``heartbeat``. ``until_now``: only the events stored already."""
        registry = self._registry
        position = max(after + 1, 0)
        async with registry.listener.watch(self.response_id) as signal:
            while True:
                signal.clear()
                rows = await registry.db.fetchall(_READ, (position, self.response_id, _PAGE))
                events = [_event(row) for row in rows if row["seq"] is not None]
                for item in events:
                    yield item
                if events:
                    position = events[-1].index + 1
                finished = not rows or rows[0]["state"] != "running"
                if len(events) == _PAGE:
                    continue
                if finished or until_now:
                    return
                if events:
                    continue
                woken = await wait_event(signal, heartbeat)
                if not woken and not await registry.expire_stale(response_id=self.response_id):
                    yield None

    def _start_heartbeat(self, every: float) -> None:
        self._beating = asyncio.create_task(self._heartbeat(every))

    async def _heartbeat(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                if await self._registry.db.execute(_HEARTBEAT, (self.response_id,)) == 0:
                    return  # finished, or ended as stale by another server
            except psycopg.Error as exc:
                logger.warning("turn %s heartbeat failed: %s", self.response_id, exc)

    async def _stop_heartbeat(self) -> None:
        task, self._beating = self._beating, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class PgStreamRegistry:
    """A ``StreamRegistry`` shared by every server on ``db`` (see the module docs).

    ``retention``: seconds a finished turn stays resumable; ``heartbeat``: seconds between
    the owner's heartbeats; ``stale_after``: seconds without a heartbeat after which a running
    turn is taken for dead; ``owner``: this server's name in ``ov_streams.owner``. Call
    :meth:`close` before closing ``db``."""

    def __init__(
        self,
        db: PgDatabase,
        retention: float = 600.0,
        *,
        heartbeat: float = 5.0,
        stale_after: float = 30.0,
        owner: str | None = None,
    ) -> None:
        self.db = db
        self.retention = retention
        self.heartbeat = heartbeat
        self.stale_after = stale_after
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.listener = _Listener(db.dsn)
        self._mine: dict[str, PgTurnStream] = {}

    async def open(self, key: StreamKey, response_id: str) -> PgTurnStream:
        """A new turn for the session; :class:`ConflictError` while one runs on any server
        (a turn whose owner stopped heartbeating is ended first)."""
        await self.purge()
        async with self.db.connection() as conn, conn.transaction():
            await self._expire(conn, "account_id = %s AND user_id = %s AND session_id = %s", key)
            cur = await conn.execute(_OPEN, (response_id, *key, self.owner))
            if await cur.fetchone() is None:
                current = await (await conn.execute(_RUNNING_OF, key)).fetchone()
                running = str(current["response_id"]) if current else "?"
                raise turn_conflict(key[2], running)
        stream = PgTurnStream(self, key, response_id, owned=True)
        self._mine[response_id] = stream
        stream._start_heartbeat(self.heartbeat)
        return stream

    async def get(self, key: StreamKey) -> PgTurnStream | None:
        """The session's running or recently finished turn, whichever server runs it."""
        await self.purge()
        rows = await self.db.fetchall(_GET, (*key, self.retention))
        if not rows:
            return None
        response_id = str(rows[0]["response_id"])
        mine = self._mine.get(response_id)
        return mine or PgTurnStream(self, key, response_id, owned=False)

    async def running(self) -> list[PgTurnStream]:
        """The turns running now on any server (those still heartbeating)."""
        rows = await self.db.fetchall(_RUNNING, (self.stale_after,))
        return [self._handle(row) for row in rows]

    def _handle(self, row: Mapping[str, Any]) -> PgTurnStream:
        response_id = str(row["response_id"])
        key = (str(row["account_id"]), str(row["user_id"]), str(row["session_id"]))
        return self._mine.get(response_id) or PgTurnStream(self, key, response_id, owned=False)

    async def purge(self) -> int:
        """Delete the turns finished more than ``retention`` s ago (with their events)."""
        return await self.db.execute(_PURGE, (self.retention,))

    async def expire_stale(self, *, response_id: str) -> bool:
        """End the turn as failed if its owner stopped heartbeating; whether it did."""
        async with self.db.connection() as conn, conn.transaction():
            return bool(await self._expire(conn, "response_id = %s", (response_id,)))

    async def _expire(
        self, conn: psycopg.AsyncConnection[Row], where: str, params: tuple[str, ...]
    ) -> list[str]:
        """Fail the stale running turns matching ``where`` (inside the caller's transaction):
        each gets an error result and a last ``response`` event, and its followers a notice."""
        cur = await conn.execute(_EXPIRE.format(where=where), (*params, self.stale_after))
        expired = await cur.fetchall()
        for row in expired:
            response_id, session_id = str(row["response_id"]), str(row["session_id"])
            error = "The server running this turn stopped before it finished"
            timestamp = now_iso()
            result = {
                "session_id": session_id,
                "response_id": response_id,
                "message": None,
                "timestamp": timestamp,
                "error": error,
            }
            data = {"error": error, "response_id": response_id, "session_id": session_id}
            await conn.execute(_EXPIRED_RESULT, (Json(result), response_id))
            await conn.execute(_LAST_EVENT, (response_id, Json(data), timestamp, response_id))
            await conn.execute(_NOTIFY, (response_id,))
            logger.warning("ended turn %s of a server that stopped heartbeating", response_id)
        return [str(row["response_id"]) for row in expired]

    def _forget(self, stream: PgTurnStream) -> None:
        self._mine.pop(stream.response_id, None)
        task = stream._beating
        stream._beating = None
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        """Stop listening and heartbeating (turns still running here are left to expire)."""
        for stream in list(self._mine.values()):
            await stream._stop_heartbeat()
        self._mine.clear()
        await self.listener.close()
