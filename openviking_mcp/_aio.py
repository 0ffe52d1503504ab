"""Small asyncio helpers shared by every layer."""

from __future__ import annotations

import asyncio

__all__ = ["wait_event"]


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set, at most ``seconds``; whether it was set.

    ``asyncio.timeout``, not ``asyncio.wait_for``: on Python 3.11 the latter can swallow a
    cancellation that arrives as the event is set, so a loop waiting this way would never stop
    (and ``asyncio.run``, or a service's close, would hang)."""
    try:
        async with asyncio.timeout(max(seconds, 0.0)):
            await event.wait()
    except TimeoutError:
        return event.is_set()
    return True
