"""Task records of the durable queue: the row shape, its public form and who may see it.

A :class:`TaskRecord` is one row of the ``tasks`` table with its JSON columns decoded;
:func:`record_from_row` builds it from a SQLite row and :meth:`TaskRecord.to_dict` gives the
shape the task API returns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.storage.metadata import Row

__all__ = ["TaskRecord", "iso_time", "record_from_row", "visible_to"]


def iso_time(epoch: float) -> str:
    """``epoch`` as an ISO-8601 UTC timestamp ending in ``Z``."""
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


@dataclass(slots=True)
class TaskRecord:
    task_id: str
    task_type: str
    status: str
    priority: int
    account_id: str
    user_id: str
    role: str
    resource_id: str | None
    payload: dict[str, Any]
    state: dict[str, Any]
    stage: str
    progress: dict[str, Any]
    result: Any
    error: str | None
    attempts: int
    max_attempts: int
    created_at: float
    updated_at: float

    @property
    def context(self) -> RequestContext:
        return RequestContext(self.account_id, self.user_id, Role(self.role))

    def to_dict(self) -> dict[str, Any]:
        """The public shape (``GET /api/v1/tasks/{id}``)."""
        return {
            "task_id": self.task_id,
            "task_type": self.task_type,
            "status": self.status,
            "stage": self.stage,
            "progress": self.progress,
            "resource_id": self.resource_id,
            "meta": {},  # no task keeps metadata besides its payload, which stays private
            "result": self.result,
            "error": self.error,
            "attempts": self.attempts,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "created_at_iso": iso_time(self.created_at),
            "updated_at_iso": iso_time(self.updated_at),
        }


def record_from_row(row: Row) -> TaskRecord:
    """Decode one row of the ``tasks`` table."""
    return TaskRecord(
        task_id=row["task_id"],
        task_type=row["task_type"],
        status=row["status"],
        priority=row["priority"],
        account_id=row["account_id"],
        user_id=row["user_id"],
        role=row["role"],
        resource_id=row["resource_id"],
        payload=json.loads(row["payload"]),
        state=json.loads(row["state"]),
        stage=row["stage"],
        progress=json.loads(row["progress"]),
        result=json.loads(row["result"]) if row["result"] is not None else None,
        error=row["error"],
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def visible_to(ctx: RequestContext, record: TaskRecord) -> bool:
    """Whether ``ctx`` may see the task: its owner, or ROOT of the same account."""
    if record.account_id != ctx.account_id:
        return False
    return ctx.is_root or record.user_id == ctx.user_id
