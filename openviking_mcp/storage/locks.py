"""Per-path locks: two mutations of overlapping paths never interleave.

A lock on a path conflicts with locks on the same path, its ancestors and its descendants, so
moving a directory waits for writes inside it and vice versa. Locks are fair enough for our
use (waiters retry when any lock is released) and are held only for the duration of a storage
operation.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

__all__ = ["PathLocks"]


def _overlaps(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


class PathLocks:
    """Hierarchical in-process locks keyed by path tuples."""

    def __init__(self) -> None:
        self._held: list[tuple[str, ...]] = []
        self._changed = asyncio.Condition()

    def is_locked(self, path: Iterable[str]) -> bool:
        """True if ``path`` or any of its ancestors is locked."""
        parts = tuple(path)
        return any(held == parts[: len(held)] for held in self._held)

    @property
    def held(self) -> list[str]:
        return ["/".join(p) for p in self._held]

    @asynccontextmanager
    async def lock(self, *paths: Iterable[str]) -> AsyncIterator[None]:
        """Hold locks on all ``paths`` at once (taken together, so no lock-order deadlocks)."""
        wanted = [tuple(p) for p in paths]
        async with self._changed:
            await self._changed.wait_for(
                lambda: not any(_overlaps(w, h) for w in wanted for h in self._held)
            )
            self._held.extend(wanted)
        try:
            yield
        finally:
            async with self._changed:
                for w in wanted:
                    self._held.remove(w)
                self._changed.notify_all()
