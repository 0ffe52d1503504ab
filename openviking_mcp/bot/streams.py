"""Resumable turn streams: every event of a running (or recently finished) turn is kept, so a
client that lost its connection picks up where it left off.

A turn runs as its own task, independent of any connection; connections only *follow* its
:class:`TurnStream`. Finished turns stay available for ``retention`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from openviking_mcp.bot.events import ChatEvent, EventType, now_iso
from openviking_mcp.contract.errors import ConflictError

__all__ = ["StreamKey", "StreamRegistry", "TurnStream"]

#: ``(account_id, user_id, session_id)``: a stream is only visible to its own user.
StreamKey = tuple[str, str, str]

_MAX_EVENTS = 20_000


class TurnStream:
    """The events of one chat turn, in order, with waiters for new ones."""

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
        """Append an event (ignored once the turn is finished)."""
        self.last_progress = time.monotonic()
        item = ChatEvent(len(self.events), event, data, now_iso())
        if self.done or (len(self.events) >= _MAX_EVENTS and event != "response"):
            return item
        async with self._changed:
            self.events.append(item)
            self._changed.notify_all()
        return item

    async def finish(self, result: dict[str, Any]) -> None:
        """Mark the turn finished with its final result (the ``/chat`` response)."""
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

    async def follow(
        self, after: int = -1, *, heartbeat: float = 15.0
    ) -> AsyncIterator[ChatEvent | None]:
        """Events with an index above ``after``, then new ones as they come, until the turn
        is finished. ``None`` is yielded every ``heartbeat`` seconds without an event (an SSE
        comment keeps proxies from closing an idle connection)."""
        position = max(after + 1, 0)
        while True:
            async with self._changed:
                if position >= len(self.events) and not self.done:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), heartbeat)
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


class StreamRegistry:
    """The latest turn stream of each session, kept ``retention`` seconds after it ends."""

    def __init__(self, retention: float = 600.0) -> None:
        self.retention = retention
        self._streams: dict[StreamKey, TurnStream] = {}

    def open(self, key: StreamKey, response_id: str) -> TurnStream:
        """A new stream for the session's next turn; :class:`ConflictError` while one runs."""
        self._purge()
        current = self._streams.get(key)
        if current is not None and not current.done:
            raise ConflictError(
                f"A turn is already running in session {key[2]}; wait for it to finish or "
                "resume its stream",
                {"session_id": key[2], "response_id": current.response_id},
            )
        stream = TurnStream(key, response_id)
        self._streams[key] = stream
        return stream

    def get(self, key: StreamKey) -> TurnStream | None:
        self._purge()
        return self._streams.get(key)

    def running(self) -> list[TurnStream]:
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
