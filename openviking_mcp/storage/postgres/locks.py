"""Per-path locks across processes and hosts: PostgreSQL advisory locks over the in-process
:class:`~openviking_mcp.storage.locks.PathLocks`.

The semantics are the in-process ones: a lock on a path conflicts with locks on the same
path, its ancestors and its descendants. Advisory locks are flat, so the hierarchy is built
with intention locks: locking ``a/b/c`` takes ``a`` and ``a/b`` *shared* and ``a/b/c``
*exclusive*. Two exclusive locks on one path conflict, and so does an exclusive lock on a
path with the shared lock that any lock below it holds there; siblings share their
ancestors' shared locks and never wait for each other.

A lock is first taken in process (cheap; one waiter per path per process reaches the
database), then in one transaction of a connection held for the lock's duration, from a
pool of its own so that held locks never starve queries. All the advisory keys of one call
are taken in key order, so two calls never wait for each other in a cycle. Keys are 64-bit
hashes of the paths: a collision can only make two unrelated paths wait for each other, never
let two conflicting ones through. Locks die with their connection, so a killed process
releases them.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from psycopg_pool import AsyncConnectionPool

from openviking_mcp.storage.locks import PathLocks

__all__ = ["PgPathLocks", "advisory_plan"]


def _key(path: tuple[str, ...]) -> int:
    digest = hashlib.blake2b("\x1f".join(path).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def advisory_plan(paths: Iterable[tuple[str, ...]]) -> list[tuple[int, bool]]:
    """The advisory locks for ``paths``: ``(key, exclusive)`` in key order, one per key (an
    exclusive lock where a key is wanted both ways)."""
    wanted: dict[int, bool] = {}
    for path in paths:
        for n in range(len(path)):
            key = _key(path[:n])
            wanted.setdefault(key, False)
        wanted[_key(path)] = True
    return sorted(wanted.items())


class PgPathLocks:
    """Drop-in for :class:`PathLocks` shared by every process on one database."""

    def __init__(self, dsn: str, *, max_held: int = 32) -> None:
        self._local = PathLocks()
        self._pool: AsyncConnectionPool | None = None
        self._dsn = dsn
        self._max_held = max_held

    async def open(self) -> None:
        pool = AsyncConnectionPool(
            self._dsn, min_size=1, max_size=self._max_held, open=False, kwargs={"autocommit": True}
        )
        await pool.open(wait=True, timeout=10)
        self._pool = pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    def is_locked(self, path: Iterable[str]) -> bool:
        """True if ``path`` or any of its ancestors is locked in this process."""
        return self._local.is_locked(path)

    @property
    def held(self) -> list[str]:
        """The paths this process holds."""
        return self._local.held

    @asynccontextmanager
    async def lock(self, *paths: Iterable[str]) -> AsyncIterator[None]:
        """Hold locks on all ``paths`` at once, in this process and in the database."""
        wanted = [tuple(p) for p in paths]
        if self._pool is None:
            raise RuntimeError("PgPathLocks is not open")
        async with (
            self._local.lock(*wanted),
            self._pool.connection() as conn,
            conn.transaction(),
        ):
            for key, exclusive in advisory_plan(wanted):
                fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
                await conn.execute(f"SELECT {fn}(%s)", (key,))
            yield
