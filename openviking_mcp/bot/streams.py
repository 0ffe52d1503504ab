"""Resumable turn streams: every event of a running (or recently finished) turn is kept, so a
client that lost its connection picks up where it left off.

A turn runs as its own task, independent of any connection; connections only *follow* its
:class:`TurnStream`. Finished turns stay available for ``retention`` seconds.

:class:`StreamRegistry` and :class:`TurnStream` are the interface; every method that may
reach a shared database is async. :class:`LocalStreamRegistry` keeps the streams in this
process (the default); ``openviking_mcp.storage.postgres.streams.PgStreamRegistry`` shares
them through PostgreSQL, so a turn started on one server is resumed on another and a session
runs one turn at a time across all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from openviking_mcp.bot.events import ChatEvent, EventType, now_iso
from openviking_mcp.contract.chat_events import turn_conflict

__all__ = [
    "LocalStreamRegistry",
    "LocalTurnStream",
    "StreamKey",
    "StreamRegistry",
    "TurnStream",
]

#: ``(account_id, user_id, session_id)``: a stream is only visible to its own user.
StreamKey = tuple[str, str, str]

_MAX_EVENTS = 20_000


class TurnStream(Protocol):
    """The events of one chat turn, in order. The server running the turn emits and
    finishes it; any holder follows or waits for it."""

    @property
    def key(self) -> StreamKey: ...

    @property
    def response_id(self) -> str: ...

    @property
    def session_id(self) -> str: ...

    @property
    def last_progress(self) -> float:
        """``time.monotonic()`` of the last event emitted through this handle."""
        ...

    async def emit(self, event: EventType, data: Any) -> ChatEvent:
        """Append an event (ignored once the turn is finished)."""
        ...

    async def finish(self, result: dict[str, Any]) -> None:
        """Mark the turn finished with its final result (the ``/chat`` response)."""
        ...

    async def wait(self) -> dict[str, Any]:
        """The final result, once the turn is finished."""
        ...

    async def history(self) -> list[ChatEvent]:
        """The events so far, in order."""
        ...

    def follow(
        self, after: int = -1, *, heartbeat: float = 15.0
    ) -> AsyncIterator[ChatEvent | None]:
        """Events with an index above ``after``, then new ones as they come, until the turn
        is finished. ``None`` is yielded every ``heartbeat`` seconds without an event (an SSE
        comment keeps proxies from closing an idle connection)."""
        ...


class StreamRegistry(Protocol):
    """The latest turn stream of each session, kept ``retention`` seconds after it ends."""

    async def open(self, key: StreamKey, response_id: str) -> TurnStream:
        """A new stream for the session's next turn; :class:`ConflictError` while one runs."""
        ...

    async def get(self, key: StreamKey) -> TurnStream | None:
        """The session's running or recently finished stream."""
        ...

    async def running(self) -> Sequence[TurnStream]:
        """The streams of the turns running now."""
        ...


class LocalTurnStream:
    """A :class:`TurnStream` in this process's memory, with waiters for new events."""

    def __init__(self, key: StreamKey, response_id: str) -> None:
        self.key = key
        self.response_id = response_id
        self.events: list[ChatEvent] = []
        self.result: dict[str, Any] | None = None
        self.finished_at: float | None = None
        self.last_progress = time.monotonic()
        self._changed = asyncio.Condition()
        self._done = asyncio.Event()

    @property
    def session_id(self) -> str:
        return self.key[2]

    @property
    def done(self) -> bool:
        return self._done.is_set()

    async def emit(self, event: EventType, data: Any) -> ChatEvent:
        self.last_progress = time.monotonic()
        item = ChatEvent(len(self.events), event, data, now_iso())
        if self.done or (len(self.events) >= _MAX_EVENTS and event != "response"):
            return item
        async with self._changed:
            self.events.append(item)
            self._changed.notify_all()
        return item

    async def finish(self, result: dict[str, Any]) -> None:
        async with self._changed:
            if self.done:
                return
            self.result = result
            self.finished_at = time.monotonic()
            self._done.set()
            self._changed.notify_all()

    async def wait(self) -> dict[str, Any]:
        await self._done.wait()
        assert self.result is not None
        return self.result

    async def history(self) -> list[ChatEvent]:
        return list(self.events)

    async def follow(
        self, after: int = -1, *, heartbeat: float = 15.0
    ) -> AsyncIterator[ChatEvent | None]:
        position = max(after + 1, 0)
        while True:
            async with self._changed:
                if position >= len(self.events) and not self.done:
                    with contextlib.suppress(TimeoutError):  # not wait_for: see _aio.wait_event
                        async with asyncio.timeout(heartbeat):
                            await self._changed.wait()
                pending = self.events[position:]
                finished = self.done
            if not pending and not finished:
                yield None
                continue
            for item in pending:
                yield item
            position += len(pending)
            if finished and position >= len(self.events):
                return


class LocalStreamRegistry:
    """A :class:`StreamRegistry` in this process's memory (one server)."""

    def __init__(self, retention: float = 600.0) -> None:
        self.retention = retention
        self._streams: dict[StreamKey, LocalTurnStream] = {}

    async def open(self, key: StreamKey, response_id: str) -> LocalTurnStream:
        self._purge()
        current = self._streams.get(key)
        if current is not None and not current.done:
            raise turn_conflict(key[2], current.response_id)
        stream = LocalTurnStream(key, response_id)
        self._streams[key] = stream
        return stream

    async def get(self, key: StreamKey) -> LocalTurnStream | None:
        self._purge()
        return self._streams.get(key)

    async def running(self) -> list[LocalTurnStream]:
        return [s for s in self._streams.values() if not s.done]

    def _purge(self) -> None:
        now = time.monotonic()
        expired = [
            key
            for key, stream in self._streams.items()
            if stream.finished_at is not None and now - stream.finished_at > self.retention
        ]
        for key in expired:
            del self._streams[key]
