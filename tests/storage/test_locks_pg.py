"""Path locks shared through PostgreSQL: two lock sets on one database behave as one process's
``PathLocks`` do, and a lock dies with its holder."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import AsyncIterator

import anyio
import psycopg
import pytest

from openviking_mcp.storage.postgres import PgDatabase
from openviking_mcp.storage.postgres.locks import PgPathLocks, advisory_plan
from tests.pg import fresh_database

pytestmark = pytest.mark.anyio


@pytest.fixture
async def dsn() -> AsyncIterator[str]:
    with fresh_database() as url:
        db = PgDatabase(url)
        await db.open()
        await db.close()
        yield url


@pytest.fixture
async def pair(dsn: str) -> AsyncIterator[tuple[PgPathLocks, PgPathLocks]]:
    """Two lock sets, as two server processes would hold."""
    first, second = PgPathLocks(dsn), PgPathLocks(dsn)
    await first.open()
    await second.open()
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def test_the_plan_takes_ancestors_shared_the_path_exclusive_in_key_order() -> None:
    plan = advisory_plan([("acme", "docs", "a.md"), ("acme", "docs")])
    assert [key for key, _ in plan] == sorted(key for key, _ in plan)
    assert len(plan) == 4  # (), acme, acme/docs, acme/docs/a.md
    assert sum(exclusive for _, exclusive in plan) == 2  # docs is wanted both ways: exclusive


async def test_a_folder_and_a_file_below_it_are_serialised_across_processes(
    pair: tuple[PgPathLocks, PgPathLocks],
) -> None:
    a, b = pair
    order: list[str] = []

    async def hold(locks: PgPathLocks, path: tuple[str, ...], tag: str, delay: float) -> None:
        async with locks.lock(path):
            order.append(f"{tag}+")
            await anyio.sleep(delay)
            order.append(f"{tag}-")

    async with anyio.create_task_group() as tg:
        tg.start_soon(hold, a, ("acme", "dir"), "parent", 0.3)
        await anyio.sleep(0.1)
        tg.start_soon(hold, b, ("acme", "dir", "file"), "child", 0.0)
    assert order == ["parent+", "parent-", "child+", "child-"]


async def test_siblings_do_not_wait_for_each_other(pair: tuple[PgPathLocks, PgPathLocks]) -> None:
    a, b = pair
    inside = peak = 0

    async def hold(locks: PgPathLocks, path: tuple[str, ...]) -> None:
        nonlocal inside, peak
        async with locks.lock(path):
            inside += 1
            peak = max(peak, inside)
            await anyio.sleep(0.2)
            inside -= 1

    async with anyio.create_task_group() as tg:
        tg.start_soon(hold, a, ("acme", "dir", "x"))
        tg.start_soon(hold, b, ("acme", "dir", "y"))
    assert peak == 2


async def test_crossed_multi_path_locks_do_not_deadlock(
    pair: tuple[PgPathLocks, PgPathLocks],
) -> None:
    a, b = pair
    done: list[str] = []

    async def hold(locks: PgPathLocks, first: str, second: str) -> None:
        for _ in range(5):
            async with locks.lock(("k", first), ("k", second)):
                await anyio.sleep(0.01)
        done.append(first)

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            tg.start_soon(hold, a, "x", "y")
            tg.start_soon(hold, b, "y", "x")
    assert sorted(done) == ["x", "y"]


async def _got_within(locks: PgPathLocks, path: tuple[str, ...], seconds: float) -> bool:
    with anyio.move_on_after(seconds):
        async with locks.lock(path):
            return True
    return False


async def test_a_lock_held_by_another_process_is_waited_for_and_freed_when_it_dies(
    dsn: str,
) -> None:
    """A real second process takes ``acme/dir`` and is killed while holding it."""
    holder = textwrap.dedent(
        f"""
        import asyncio, time
        from openviking_mcp.storage.postgres.locks import PgPathLocks
        async def main():
            locks = PgPathLocks({dsn!r})
            await locks.open()
            async with locks.lock(("acme", "dir")):
                print("held", flush=True)
                time.sleep(60)
        asyncio.run(main())
        """
    )
    locks = PgPathLocks(dsn)
    await locks.open()
    try:
        async with await anyio.open_process([sys.executable, "-c", holder]) as proc:
            assert proc.stdout is not None
            said = b""
            with anyio.fail_after(30):
                while b"held" not in said:
                    said += await proc.stdout.receive()
            assert not await _got_within(locks, ("acme", "dir", "file"), 0.5)
            proc.kill()
            assert await _got_within(locks, ("acme", "dir", "file"), 10)
    finally:
        await locks.close()
    with psycopg.connect(dsn) as conn:  # nothing is left held
        row = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()
    assert row is not None
    assert row[0] == 0
