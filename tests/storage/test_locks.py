from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from openviking_mcp.storage import PathLocks

pytestmark = pytest.mark.anyio


async def test_overlapping_paths_are_serialised() -> None:
    locks = PathLocks()
    order: list[str] = []

    async def hold(path: tuple[str, ...], tag: str, delay: float) -> None:
        async with locks.lock(path):
            order.append(f"{tag}+")
            await anyio.sleep(delay)
            order.append(f"{tag}-")

    async with anyio.create_task_group() as tg:
        tg.start_soon(hold, ("a", "dir"), "parent", 0.05)
        await anyio.sleep(0.01)
        tg.start_soon(hold, ("a", "dir", "file"), "child", 0.0)
    assert order == ["parent+", "parent-", "child+", "child-"]


async def test_disjoint_paths_run_together() -> None:
    locks = PathLocks()
    inside = 0
    peak = 0

    async def hold(path: tuple[str, ...]) -> None:
        nonlocal inside, peak
        async with locks.lock(path):
            inside += 1
            peak = max(peak, inside)
            await anyio.sleep(0.02)
            inside -= 1

    async with anyio.create_task_group() as tg:
        for name in ("x", "y", "z"):
            tg.start_soon(hold, ("a", name))
    assert peak == 3


async def test_is_locked_sees_ancestors_and_release() -> None:
    locks = PathLocks()
    async with locks.lock(("a", "d")):
        assert locks.is_locked(("a", "d", "f"))
        assert locks.is_locked(("a", "d"))
        assert not locks.is_locked(("a",))
        assert locks.held == ["a/d"]
    assert not locks.is_locked(("a", "d", "f"))
    assert locks.held == []


async def test_lock_is_released_on_error() -> None:
    locks = PathLocks()
    with pytest.raises(RuntimeError):
        async with locks.lock(("a",)):
            raise RuntimeError("boom")
    with anyio.fail_after(1):
        async with locks.lock(("a",)):
            pass


async def test_a_folder_lock_waits_for_files_below_and_siblings_do_not_wait() -> None:
    locks = PathLocks()
    order: list[str] = []
    release = anyio.Event()

    async def hold(path: tuple[str, ...], tag: str, until: anyio.Event | None) -> None:
        async with locks.lock(path):
            order.append(f"{tag}+")
            if until is not None:
                await until.wait()
            order.append(f"{tag}-")

    async with anyio.create_task_group() as tg:
        tg.start_soon(hold, ("a", "d", "f1"), "f1", release)
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(hold, ("a", "d"), "dir", None)
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(hold, ("a", "e", "f2"), "f2", None)  # another folder: goes at once
        await anyio.wait_all_tasks_blocked()
        assert order == ["f1+", "f2+", "f2-"]  # the folder lock waits for f1
        release.set()
    assert order == ["f1+", "f2+", "f2-", "f1-", "dir+", "dir-"]
    assert locks.held == []


async def test_many_waiters_on_one_path_all_get_it_in_turn() -> None:
    locks = PathLocks()
    inside = 0
    done = 0

    async def hold() -> None:
        nonlocal inside, done
        async with locks.lock(("a", "f")):
            inside += 1
            assert inside == 1
            await anyio.lowlevel.checkpoint()
            inside -= 1
            done += 1

    async with anyio.create_task_group() as tg:
        for _ in range(30):
            tg.start_soon(hold)
    assert done == 30
    assert not locks.is_locked(("a", "f"))


async def test_a_cancelled_waiter_leaves_no_trace() -> None:
    locks = PathLocks()
    async with locks.lock(("a",)):
        with anyio.move_on_after(0.05):
            async with locks.lock(("a", "b")):
                pytest.fail("took a lock below a held one")
    async with locks.lock(("a", "b")):
        assert locks.held == ["a/b"]
