"""What an add with ``wait`` reports: its own indexing task, per queue.

The answer has the shape of the per-queue counters of ``/api/v1/system/wait``
(:func:`~openviking_mcp.tasks.failures.queue_counters`), but counts only the one task the add
queued: a ``refresh`` task is reported under both ``Semantic`` and ``Embedding``, as one
``processed`` task when it completed or one error (its message without server paths) when it
failed. A cancelled task counts as neither.
"""

from __future__ import annotations

from openviking_mcp.contract.tasks import QueueCounters, QueueError
from openviking_mcp.storage.queue import TaskRecord
from openviking_mcp.tasks.failures import queue_name, scrub_paths

__all__ = ["task_queue_status"]


def task_queue_status(record: TaskRecord, workspace: str) -> dict[str, QueueCounters]:
    """The finished task ``record`` as ``{queue name: counters}``, names sorted."""
    failed = record.status == "failed"
    errors = [QueueError(message=scrub_paths(record.error or "", workspace))] if failed else []
    counters = QueueCounters(
        processed=1 if record.status == "completed" else 0,
        requeue_count=max(record.attempts - 1, 0),
        error_count=1 if failed else 0,
        errors=errors,
    )
    return {name: counters.model_copy(deep=True) for name in sorted(queue_name(record.task_type))}
