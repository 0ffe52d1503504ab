from __future__ import annotations

import anyio
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
