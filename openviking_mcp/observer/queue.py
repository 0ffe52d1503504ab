"""The queue component's pure parts: the original's per-queue table and the workers' check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openviking_mcp.contract.tasks import QueueCounters
from openviking_mcp.store import Store

__all__ = ["queue_table", "workers_alive"]


def queue_table(
    queues: Mapping[str, QueueCounters], by_status: Mapping[str, int]
) -> list[tuple[Any, ...]]:
    """Rows ``(queue, pending, in progress, processed, requeued, errors, total)``, one per
    queue, then ``TOTAL`` counted once per task (a ``refresh`` task is listed under two
    queues)."""
    rows: list[tuple[Any, ...]] = []
    for name, q in queues.items():
        total = q.pending + q.in_progress + q.processed
        rows.append(
            (name, q.pending, q.in_progress, q.processed, q.requeue_count, q.error_count, total)
        )
    pending = by_status.get("pending", 0)
    in_progress = by_status.get("running", 0) + by_status.get("cancelling", 0)
    processed = by_status.get("completed", 0)
    requeued = sum(q.requeue_count for n, q in queues.items() if n != "Embedding")
    rows.append(
        (
            "TOTAL",
            pending,
            in_progress,
            processed,
            requeued,
            by_status.get("failed", 0),
            pending + in_progress + processed,
        )
    )
    return rows


def workers_alive(store: Store) -> bool:
    """Whether the queue's workers run (a queue whose workers all died cannot serve)."""
    return store.tasks.live_workers > 0
