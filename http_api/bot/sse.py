"""Server-sent events for a chat turn: ``id:`` + ``data:`` per event, comments as heartbeats."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from fastapi.responses import StreamingResponse

from openviking_mcp.bot.streams import TurnStream

__all__ = ["HEARTBEAT_SECONDS", "last_event_id", "sse_response"]

HEARTBEAT_SECONDS = 15.0


def last_event_id(value: str | None) -> int | None:
    """The index in a ``Last-Event-ID`` header (``None`` when absent or not a number)."""
    text = (value or "").strip()
    if not re.fullmatch(r"-?[0-9]{1,18}", text):  # ASCII digits: "³" passes isdigit()
        return None
    return int(text)


async def _frames(stream: TurnStream, after: int) -> AsyncIterator[str]:
    async for event in stream.follow(after, heartbeat=HEARTBEAT_SECONDS):
        yield ": keep-alive\n\n" if event is None else event.sse()


def sse_response(stream: TurnStream, after: int = -1) -> StreamingResponse:
    """Follow ``stream`` from the event after ``after``; the turn keeps running if the client
    goes away, and can be resumed."""
    return StreamingResponse(
        _frames(stream, after),
        media_type="text/event-stream",
        headers={
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            "X-VikingBot-Session-ID": stream.session_id,
            "X-VikingBot-Response-ID": stream.response_id,
        },
    )
