"""``openviking-mcp worker``: a process that only drains the task queue.

It opens the same service a server opens (so every task handler is registered), starts the
queue's workers and the session commit scanner, and serves no requests. SIGINT or SIGTERM
stops it: the tasks it was running go back to the queue, where other workers take them.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable

from openviking_mcp.config import OpenVikingConfig

__all__ = ["run_worker"]


async def run_worker(
    config: OpenVikingConfig,
    *,
    announce: Callable[[str], None] = lambda line: None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the queue until ``stop`` is set, SIGINT or SIGTERM (see the module docs)."""
    from openviking_mcp.service import ContextService

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    service = ContextService(config, background_tasks=True)
    await service.initialize()
    try:
        workers = service.store.tasks.live_workers
        backend = config.storage.backend
        announce(f"openviking-mcp worker: {workers} queue workers on the {backend} backend")
        await stop.wait()
        announce("openviking-mcp worker: stopping; running tasks go back to the queue")
    finally:
        await service.close()
