"""Background tasks: one record, filtered lists, cancelling and retrying, waiting for queues.

A task record is ``{task_id, task_type, status, stage, progress, resource_id, meta, result,
error, attempts, created_at, updated_at, created_at_iso, updated_at_iso}``. A user sees their own
tasks; ROOT sees every user's tasks of its account. Another user's task (or an unknown one)
is ``NOT_FOUND`` "Task not found or expired". A failed or cancelled task is retried as a new
task of the same owner (``retry_task``: the new record; the old one stays); what a retry does
is up to the task's type, and a type without one answers ``FAILED_PRECONDITION``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from openviking_mcp.contract.base import Integer, OpenResult, Request, Result, omitted
from openviking_mcp.contract.operations import Operation, Route

__all__ = [
    "OPERATIONS",
    "ListTasksRequest",
    "QueueCounters",
    "QueueError",
    "TaskFailure",
    "TaskFailures",
    "TaskInfo",
    "TaskRequest",
    "WaitProcessingRequest",
    "WaitProcessingResult",
]


class TaskRequest(Request):
    task_id: str


class ListTasksRequest(Request):
    """The caller's tasks (ROOT: the account's), newest first."""

    task_type: str | None = Field(default=None, description="e.g. add_resource.")
    status: str | None = None
    resource_id: str | None = None
    limit: Integer = Field(default=50, description="Most records returned (1..200).")


class TaskInfo(Result):
    """One task record; ``progress`` holds the task's counters, ``result`` its answer."""

    task_id: str
    task_type: str
    status: str
    stage: str
    progress: dict[str, Any]
    resource_id: str | None
    meta: dict[str, Any] = Field(
        default_factory=dict, description="The task's metadata ({} when it has none)."
    )
    result: Any
    error: str | None
    attempts: int
    created_at: float
    updated_at: float
    created_at_iso: str
    updated_at_iso: str


class WaitProcessingRequest(Request):
    """Wait until no task is pending or running (every queue of the process idle)."""

    timeout: float | None = Field(
        default=None, description="Seconds; absent: wait as long as it takes."
    )


class QueueError(Result):
    message: str


class QueueCounters(Result):
    """One queue's figures (the original's per-queue shape, plus ``pending``/``in_progress``):
    counts of the tasks the queue holds now (finished ones are kept for a while)."""

    pending: int = 0
    in_progress: int = 0
    processed: int = Field(default=0, description="Completed tasks retained.")
    requeue_count: int = Field(default=0, description="Retries of the retained tasks.")
    error_count: int = Field(default=0, description="Failed tasks retained.")
    errors: list[QueueError] = Field(
        default_factory=list,
        description="Messages of the newest failed tasks the caller may see (at most 10).",
    )


class TaskFailure(Result):
    """The newest failed task: its type and time for anyone; its id and message only for a
    caller who may see the task. Messages never carry a server path."""

    task_type: str
    failed_at: float
    failed_at_iso: str
    task_id: str | None = omitted()
    message: str | None = omitted()


class TaskFailures(Result):
    """Failed tasks retained (they are reported, and never make the server unhealthy)."""

    failed: int = Field(description="Failed tasks retained (kept 7 days).")
    failed_since_start: int = Field(description="Tasks this process saw fail.")
    last_error: TaskFailure | None = None


class WaitProcessingResult(OpenResult):
    """Task counts by status, what the workers did since the start, and per queue
    (``queues``, also at the top level under each queue's name as the original answers:
    ``{"Embedding": {processed, requeue_count, error_count, errors}, ...}``)."""

    tasks: dict[str, int]
    processed: int
    failed: int
    retried: int
    queues: dict[str, QueueCounters] = Field(default_factory=dict)


_T = "/api/v1/tasks"

OPERATIONS = (
    Operation(
        "get_task",
        "tasks.get_task",
        TaskRequest,
        TaskInfo,
        ("task_id",),
        Route("GET", _T + "/{task_id}"),
        doc="One task record.",
    ),
    Operation(
        "list_tasks",
        "tasks.list_tasks",
        ListTasksRequest,
        list[TaskInfo],
        (),
        Route("GET", _T),
    ),
    Operation(
        "cancel_task",
        "tasks.cancel_task",
        TaskRequest,
        TaskInfo,
        ("task_id",),
        Route("POST", _T + "/{task_id}/cancel"),
        doc="Cancel a pending or running task; the record (``cancelling`` or ``cancelled``).",
    ),
    Operation(
        "retry_task",
        "tasks.retry_task",
        TaskRequest,
        TaskInfo,
        ("task_id",),
        Route("POST", _T + "/{task_id}/retry"),
        doc="Queue a failed or cancelled task again; the new task's record (a new task_id).",
    ),
    Operation(
        "wait_processing",
        "tasks.wait_processing",
        WaitProcessingRequest,
        WaitProcessingResult,
        ("timeout",),
        Route("POST", "/api/v1/system/wait", waits=True),
    ),
)
