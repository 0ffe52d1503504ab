"""Run independent coroutines a few at a time.

Indexing a folder asks the chat model once per file it describes and once per folder whose
tiers it regenerates, and writes two summary files per folder: one after the other, an import
of many small files spends most of its time waiting for those calls. :func:`run_bounded` runs
such independent steps concurrently, at most ``limit`` at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

__all__ = ["CONCURRENCY", "run_bounded"]

CONCURRENCY = 8
"""Steps of one refresh or import in flight at a time: enough to overlap model calls and file
writes, few enough not to flood a model server with one import's requests."""


async def run_bounded(
    steps: Sequence[Callable[[], Awaitable[object]]], limit: int = CONCURRENCY
) -> None:
    """Await every step, at most ``limit`` at a time, started in order.

    The first failure is raised as it is (not wrapped in an exception group), after the steps
    still running were cancelled; steps not started by then are not started.
    """
    if len(steps) <= 1 or limit <= 1:
        for step in steps:
            await step()
        return
    todo = iter(steps)

    async def worker() -> None:
        for step in todo:
            await step()

    workers = [asyncio.ensure_future(worker()) for _ in range(min(limit, len(steps)))]
    try:
        await asyncio.gather(*workers)
    finally:
        for running in workers:
            running.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
