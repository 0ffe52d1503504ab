"""A private event loop in a daemon thread, so sync clients can drive the async core.

Works from plain scripts and from places that already run a loop (Jupyter, async frameworks
calling sync code), because the coroutines never run on the caller's loop.

A script may end without closing its client. The loop thread is a daemon, so it would go on
running the client's background work (the embedded store's task workers) while the interpreter
shuts down, after the standard library's thread pools stopped taking work: every file read of
those workers would then fail with ``cannot schedule new futures after interpreter shutdown``.
So each loop thread given an ``on_exit`` coroutine runs it (closing the client) and stops when
the interpreter starts shutting down, before those pools stop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures.thread  # noqa: F401  # registers its exit hook first (see below)
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, TypeVar

from openviking_mcp.contract.errors import NotInitializedError

__all__ = ["LoopThread", "blocking_iter"]

T = TypeVar("T")

logger = logging.getLogger("openviking_mcp.client")

_EXIT_SECONDS = 10.0
"""How long the closing of one client may hold up the interpreter's shutdown."""

_open_loops: set[LoopThread] = set()
"""Loop threads with an ``on_exit`` coroutine that are still running."""


class LoopThread:
    """An event loop running in a daemon thread. ``on_exit`` makes the coroutine to run there
    when the interpreter shuts down while the thread still runs (see the module docs)."""

    def __init__(
        self,
        name: str = "openviking-loop",
        on_exit: Callable[[], Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._on_exit = on_exit
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()
        if on_exit is not None:
            _open_loops.add(self)

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
        _open_loops.discard(self)
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def _shutdown(self) -> None:
        """Run ``on_exit`` (at most :data:`_EXIT_SECONDS`), then stop the thread."""
        if self._on_exit is not None and self._thread.is_alive():
            future = asyncio.run_coroutine_threadsafe(self._on_exit(), self._loop)
            try:
                future.result(timeout=_EXIT_SECONDS)
            except Exception:  # an unclosed client must not make the exit fail
                future.cancel()
                logger.warning("closing a client at interpreter exit failed", exc_info=True)
        self.stop()


def _close_open_loops() -> None:
    """Close the clients left open, while the interpreter starts shutting down."""
    for loop in list(_open_loops):
        loop._shutdown()


# ``threading`` runs these hooks before joining the non-daemon threads, newest first; the one of
# ``concurrent.futures.thread`` (imported above, so registered before this one) stops the
# standard thread pools, so this one runs while they still take work. ``atexit`` would be too
# late: its hooks run after that.
getattr(threading, "_register_atexit")(_close_open_loops)  # noqa: B009  # private, as in CPython


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
