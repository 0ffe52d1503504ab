"""Per-path locks: two mutations of overlapping paths never interleave.

A lock on a path conflicts with locks on the same path, its ancestors and its descendants, so
moving a directory waits for writes inside it and vice versa. Locks are held only for the
duration of a storage operation.

Checking a path costs a few dictionary look-ups whatever the number of locks held: every
held path counts itself in ``_held`` and each of its proper prefixes in ``_below`` (how many
held paths lie beneath it). A release wakes only the waiters whose paths overlap the released
ones; a woken waiter that still conflicts waits again. Waiters are not queued in order.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

__all__ = ["PathLocks"]

_Path = tuple[str, ...]


def _overlaps(a: _Path, b: _Path) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


class PathLocks:
    """Hierarchical in-process locks keyed by path tuples."""

    def __init__(self) -> None:
        self._held: Counter[_Path] = Counter()
        self._below: Counter[_Path] = Counter()
        self._waiters: list[tuple[tuple[_Path, ...], asyncio.Future[None]]] = []

    def is_locked(self, path: Iterable[str]) -> bool:
        """True if ``path`` or any of its ancestors is locked."""
        parts = tuple(path)
        return any(parts[:n] in self._held for n in range(len(parts) + 1))

    @property
    def held(self) -> list[str]:
        return ["/".join(p) for p, count in self._held.items() for _ in range(count)]

    def _free(self, wanted: tuple[_Path, ...]) -> bool:
        """No held path is, contains or lies below any of ``wanted``."""
        return not any(self._below[w] or self.is_locked(w) for w in wanted)

    def _take(self, wanted: tuple[_Path, ...]) -> None:
        for w in wanted:
            self._held[w] += 1
            for n in range(len(w)):
                self._below[w[:n]] += 1

    def _give_back(self, wanted: tuple[_Path, ...]) -> None:
        for w in wanted:
            self._held[w] -= 1
            if not self._held[w]:
                del self._held[w]
            for n in range(len(w)):
                prefix = w[:n]
                self._below[prefix] -= 1
                if not self._below[prefix]:
                    del self._below[prefix]
        waiting = self._waiters
        for entry in list(waiting):
            paths, future = entry
            if any(_overlaps(p, w) for p in paths for w in wanted):
                waiting.remove(entry)
                if not future.done():
                    future.set_result(None)

    @asynccontextmanager
    async def lock(self, *paths: Iterable[str]) -> AsyncIterator[None]:
        """Hold locks on all ``paths`` at once (taken together, so no lock-order deadlocks)."""
        wanted = tuple(tuple(p) for p in paths)
        while not self._free(wanted):
            future = asyncio.get_running_loop().create_future()
            entry = (wanted, future)
            self._waiters.append(entry)
            try:
                await future
            finally:
                if entry in self._waiters:
                    self._waiters.remove(entry)
        self._take(wanted)
        try:
            yield
        finally:
            self._give_back(wanted)
