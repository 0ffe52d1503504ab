"""What a task's handler gets: :class:`TaskHandle`, its record and ways to report progress
and checkpoint state through the :class:`~openviking_mcp.storage.queue.TaskQueue` running it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openviking_mcp import faults
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.storage._queue_policy import TaskCancelled
from openviking_mcp.storage._queue_records import TaskRecord

if TYPE_CHECKING:
    from openviking_mcp.storage.queue import TaskQueue

__all__ = ["TaskHandle"]


@dataclass
class TaskHandle:
    """What a handler gets: its record and ways to report and checkpoint."""

    record: TaskRecord
    _queue: TaskQueue
    _progress: dict[str, Any] = field(default_factory=dict)

    @property
    def payload(self) -> dict[str, Any]:
        return self.record.payload

    @property
    def state(self) -> dict[str, Any]:
        """Saved by :meth:`checkpoint`; survives a crash and a retry."""
        return self.record.state

    @property
    def context(self) -> RequestContext:
        return self.record.context

    async def checkpoint(self, stage: str | None = None, **state: Any) -> None:
        """Persist ``state`` (merged) and the current stage; raise if the task was cancelled."""
        self.record.state.update(state)
        if stage:
            self._enter(stage)
        cancelled = await self._queue._save(self.record, progress=self._progress)
        if cancelled:
            raise TaskCancelled()

    async def report(self, stage: str | None = None, **progress: Any) -> None:
        """Update progress counters (persisted at most every 0.5 s unless the stage changes)."""
        self._progress.update(progress)
        changed = stage is not None and stage != self.record.stage
        if stage:
            self._enter(stage)
        if changed or time.monotonic() - self._queue._last_report.get(self.record.task_id, 0) > 0.5:
            self._queue._last_report[self.record.task_id] = time.monotonic()
            if await self._queue._save(self.record, progress=self._progress):
                raise TaskCancelled()

    def _enter(self, stage: str) -> None:
        if stage != self.record.stage:
            faults.point(f"{self.record.task_type}:{stage}")
        self.record.stage = stage
