"""The finish listeners of :class:`~openviking_mcp.storage.queue.TaskQueue`: callbacks told
when a task ends, after its final record is saved."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from openviking_mcp.storage._queue_records import TaskRecord

__all__ = ["FinishListener", "FinishListeners"]

logger = logging.getLogger("openviking_mcp.tasks")

FinishListener = Callable[[TaskRecord, str, Any], Awaitable[None]]
"""Called with ``(record, status, result)``; ``status`` is ``completed``, ``failed`` or
``cancelled``."""


class FinishListeners(list[FinishListener]):
    """The listeners, called in the order they were added; a listener's error is logged,
    never raised, and the others still run."""

    async def notify(self, record: TaskRecord, status: str, result: Any) -> None:
        for listener in self:
            try:
                await listener(record, status, result)
            except Exception:
                logger.exception("task finish listener failed")
