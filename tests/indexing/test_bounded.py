"""run_bounded: independent steps a few at a time, the first failure raised as it is."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

import pytest

from openviking_mcp.indexing.bounded import run_bounded

pytestmark = pytest.mark.anyio


async def test_every_step_runs_at_most_limit_at_a_time() -> None:
    running, peak, done = 0, 0, []

    async def step(n: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        done.append(n)

    await run_bounded([partial(step, n) for n in range(20)], limit=3)
    assert sorted(done) == list(range(20))
    assert peak == 3


async def test_the_first_failure_is_raised_and_the_rest_stop() -> None:
    started: list[int] = []
    cancelled: list[int] = []

    async def step(n: int) -> None:
        started.append(n)
        try:
            if n == 1:
                raise KeyError("step 1")
            await asyncio.sleep(1.0)
        except asyncio.CancelledError:
            cancelled.append(n)
            raise

    with pytest.raises(KeyError, match="step 1"):
        await run_bounded([partial(step, n) for n in range(10)], limit=2)
    assert started == [0, 1]  # nothing new starts after the failure
    assert cancelled == [0]


async def test_one_step_or_a_limit_of_one_runs_in_order() -> None:
    order: list[int] = []

    async def step(n: int) -> None:
        await asyncio.sleep(0.001 * (5 - n))
        order.append(n)

    steps: list[Callable[[], Awaitable[None]]] = [partial(step, n) for n in range(5)]
    await run_bounded(steps, limit=1)
    await run_bounded(steps[:1])
    assert order == [0, 1, 2, 3, 4, 0]
