"""Background tasks: ``/api/v1/tasks`` (seed 000, reference §4.8).

* ``GET /{task_id}`` → the task record ``{task_id, task_type, status, stage, progress,
  resource_id, result, error, attempts, created_at, updated_at, created_at_iso,
  updated_at_iso}``; another user's task (or an unknown one) is 404 "Task not found or expired";
* ``GET ?task_type&status&resource_id&limit=50 (1..200)`` → records, newest first;
* ``POST /{task_id}/cancel`` → the record (``cancelling`` or ``cancelled``);
* ``POST /{task_id}/retry`` → a failed or cancelled task queued again: the new task's record
  (a new ``task_id``; the old record stays). 412 for a task in another status, one of a type
  without retry, or an import that failed because of its input; 409 while another import of
  the same target is pending or running.

A user sees their own tasks; ROOT (and only ROOT) sees every user's tasks of an account: the
default account, or the one named by ``account_id``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from http_api import envelope
from http_api.deps import Caller, Service
from openviking_mcp.contract.errors import InvalidArgumentError

__all__ = ["TASK_STATUSES", "router"]

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])

TASK_STATUSES = ("pending", "running", "cancelling", "completed", "failed", "cancelled")


@router.get("", summary="List background tasks, newest first")
async def list_tasks(
    request: Request,
    service: Service,
    caller: Caller,
    task_type: Annotated[str | None, Query(description="e.g. add_resource.")] = None,
    status: Annotated[str | None, Query(description=" | ".join(TASK_STATUSES))] = None,
    resource_id: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    account_id: Annotated[str | None, Query(description="ROOT only: another account.")] = None,
) -> JSONResponse:
    if status is not None and status not in TASK_STATUSES:
        raise InvalidArgumentError(
            f"Unknown task status {status!r}; one of: {', '.join(TASK_STATUSES)}",
            {"field": "status", "value": status},
        )
    records = await service.list_tasks(
        caller.in_account(account_id, "tasks"),
        task_type=task_type,
        status=status,
        resource_id=resource_id,
        limit=limit,
    )
    return envelope.ok(request, records)


@router.get("/{task_id}", summary="One background task")
async def get_task(
    task_id: str,
    request: Request,
    service: Service,
    caller: Caller,
    account_id: Annotated[str | None, Query(description="ROOT only: another account.")] = None,
) -> JSONResponse:
    return envelope.ok(
        request, await service.get_task(caller.in_account(account_id, "tasks"), task_id)
    )


@router.post("/{task_id}/cancel", summary="Cancel a pending or running task")
async def cancel_task(
    task_id: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.cancel_task(caller, task_id))


@router.post("/{task_id}/retry", summary="Retry a failed or cancelled task as a new task")
async def retry_task(
    task_id: str,
    request: Request,
    service: Service,
    caller: Caller,
    account_id: Annotated[str | None, Query(description="ROOT only: another account.")] = None,
) -> JSONResponse:
    return envelope.ok(
        request, await service.retry_task(caller.in_account(account_id, "tasks"), task_id)
    )
