"""``progress=`` on the clients' long waits: ``add_resource(wait=True)`` and
``wait_processing``.

Without a callback both are the generated operations, unchanged. With one, the client does not
make one blocking call: ``add_resource`` queues the import (``wait=False``) and polls the task
(``get_task``) until it ends; ``wait_processing`` waits in short slices and, between them,
counts the caller's pending and running tasks. The callback gets a
:class:`~openviking_mcp.contract.progress.TaskProgress` each time the reading changes (on the
sync clients, from their loop thread). A followed import answers as ``wait=True`` does, without
``queue_status``; a failed one raises ``PROCESSING_ERROR`` with the task's message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, Literal

from openviking_mcp.client._operations import AsyncOperations, SyncOperations
from openviking_mcp.client._sync import forwarded
from openviking_mcp.contract.errors import DeadlineExceededError, ProcessingError
from openviking_mcp.contract.progress import ProgressCallback, TaskProgress, task_progress

__all__ = [
    "POLL_SECONDS",
    "PROGRESS_PARAMETERS",
    "AsyncProgressOperations",
    "SyncProgressOperations",
]

POLL_SECONDS = 0.25
"""How often a followed wait reads the task (or the queues)."""

PROGRESS_PARAMETERS = {"add_resource": ("progress",), "wait_processing": ("progress",)}
"""The client-only parameters these methods add to their operation's request fields."""


class _Reporter:
    """Calls the callback with each reading that differs from the one before."""

    def __init__(self, callback: ProgressCallback) -> None:
        self._callback = callback
        self._last: TaskProgress | None = None

    def __call__(self, reading: TaskProgress) -> None:
        if reading != self._last:
            self._last = reading
            self._callback(reading)


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else asyncio.get_running_loop().time() + timeout


def _past(deadline: float | None) -> bool:
    return deadline is not None and asyncio.get_running_loop().time() >= deadline


def _import_answer(record: Mapping[str, Any]) -> dict[str, Any]:
    """What ``add_resource(wait=True)`` answers for a finished import task."""
    if record["status"] == "cancelled":
        return {"status": "cancelled"}
    if record["status"] == "failed":
        raise ProcessingError(
            record.get("error") or "Import failed", {"task_id": record["task_id"]}
        )
    return dict(record.get("result") or {})


class AsyncProgressOperations(AsyncOperations):
    """The generated async operations, with ``progress=`` on the long waits."""

    async def add_resource(
        self,
        path: str | None = None,
        to: str | None = None,
        parent: str | None = None,
        wait: bool = False,
        options: Mapping[str, Any] | None = None,
        *,
        temp_file_id: str | None = None,
        source_name: str | None = None,
        create_parent: bool = False,
        reason: str = "",
        instruction: str = "",
        timeout: float | None = None,
        processing_mode: Literal["semantic_and_vectors", "vectors_only"] = "semantic_and_vectors",
        include: list[str] | None = None,
        exclude: list[str] | None = None,
        ignore_dirs: list[str] | None = None,
        no_split: bool = False,
        progress: ProgressCallback | None = None,
    ) -> dict[str, Any]:
        """Import a URL, a local file or folder, a temp upload or a zip. With ``wait`` and
        ``progress``, ``progress`` gets the task's readings while it runs."""
        values = {
            k: v for k, v in locals().items() if k not in ("self", "__class__", "progress", "wait")
        }
        if progress is None or not wait:
            return await super().add_resource(wait=wait, **values)
        accepted = await super().add_resource(wait=False, **values)
        record = await self.follow_task(accepted["task_id"], progress, timeout=timeout)
        return _import_answer(record)

    async def wait_processing(
        self, timeout: float | None = None, *, progress: ProgressCallback | None = None
    ) -> dict[str, Any]:
        """Wait until no task is pending or running (every queue of the process idle). With
        ``progress``, it gets the count of the caller's outstanding tasks while waiting."""
        if progress is None:
            return await super().wait_processing(timeout)
        report, deadline = _Reporter(progress), _deadline(timeout)
        most = 0
        while True:
            outstanding = await self._outstanding()
            most = max(most, outstanding)
            report(_queues_reading(outstanding, most))
            try:
                result = await super().wait_processing(POLL_SECONDS)
            except DeadlineExceededError:
                if _past(deadline):
                    raise DeadlineExceededError("queue processing", timeout) from None
                continue
            report(_queues_reading(0, most))
            return result

    async def follow_task(
        self, task_id: str, progress: ProgressCallback, *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Poll task ``task_id`` until it ends, calling ``progress`` with each new reading;
        returns its final record (``DEADLINE_EXCEEDED`` after ``timeout`` seconds)."""
        report, deadline = _Reporter(progress), _deadline(timeout)
        while True:
            record = await self.get_task(task_id)
            reading = task_progress(record)
            report(reading)
            if reading.finished:
                return record
            if _past(deadline):
                raise DeadlineExceededError("task", timeout)
            await asyncio.sleep(POLL_SECONDS)

    async def _outstanding(self) -> int:
        counts = [len(await self.list_tasks(status=s, limit=200)) for s in ("pending", "running")]
        return sum(counts)


def _queues_reading(outstanding: int, most: int) -> TaskProgress:
    return TaskProgress(
        task_id=None,
        task_type="wait_processing",
        status="running" if outstanding else "completed",
        stage="waiting" if outstanding else "idle",
        done=most - outstanding,
        total=most,
        counters={"outstanding": outstanding},
    )


class SyncProgressOperations(SyncOperations):
    """The generated sync operations, with ``progress=`` on the long waits (run by the driven
    async client). Typed loosely for mypy, which would keep the generated signatures; at run
    time (``help``, ``inspect``) they are those of :class:`AsyncProgressOperations`."""

    add_resource: Callable[..., dict[str, Any]] = forwarded(AsyncProgressOperations.add_resource)
    wait_processing: Callable[..., dict[str, Any]] = forwarded(
        AsyncProgressOperations.wait_processing
    )
    follow_task = forwarded(AsyncProgressOperations.follow_task)
