"""A private event loop in a daemon thread, so sync clients can drive the async core.

Works from plain scripts and from places that already run a loop (Jupyter, async frameworks
calling sync code), because the coroutines never run on the caller's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

from openviking_mcp.contract.errors import NotInitializedError

__all__ = ["LoopThread", "blocking_iter"]

T = TypeVar("T")


class LoopThread:
    def __init__(self, name: str = "openviking-loop") -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._ready.set)
        self._loop.run_forever()
        self._loop.close()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if not self._thread.is_alive():
            coro.close()
            raise NotInitializedError("The client is closed: call initialize() to open it again")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)


def blocking_iter(loop: LoopThread, stream: AsyncIterator[T]) -> Iterator[T]:
    """Iterate an async iterator from sync code, each step on the client's loop thread.

    Closing the returned generator (or leaving a ``for`` loop early) closes ``stream`` too."""

    async def step() -> tuple[bool, T | None]:
        try:
            return True, await anext(stream)
        except StopAsyncIteration:
            return False, None

    try:
        while True:
            more, item = loop.run(step())
            if not more:
                return
            yield item  # type: ignore[misc]  # ``more`` means ``item`` is a T
    finally:
        aclose = getattr(stream, "aclose", None)
        # Not when the garbage collector finalises this generator on the loop thread itself
        # (waiting there would deadlock; asyncio then finalises ``stream`` on its own).
        if aclose is not None and getattr(loop, "_thread", None) is not threading.current_thread():
            with contextlib.suppress(NotInitializedError):  # the client was closed meanwhile
                loop.run(aclose())
