"""The console's tasks page: the caller's background tasks, live.

``/console/tasks`` shows the queue as ``/api/v1/tasks`` lists it (a user their own tasks, ROOT
every user's tasks of an account); its table (``/console/tasks/table``) is polled by htmx every
two seconds. ``/console/tasks/{id}`` is one task; ``/console/tasks/{id}/card`` is a small
fragment that follows one task (it polls itself until the task ends), for any page that starts
one. Cancelling calls the same service method as ``POST /api/v1/tasks/{id}/cancel``, Retry
(of a failed or cancelled task) the one of ``POST /api/v1/tasks/{id}/retry``: the new task's
row or card replaces the old one.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response

from http_api.console._web import (
    PREFIX,
    AnyCaller,
    is_htmx,
    page_router,
    redirect,
    render,
    service_of,
)
from http_api.routers.tasks import TASK_STATUSES
from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.tasks import ListTasksRequest, TaskInfo, TaskRequest
from openviking_mcp.tasks.failures import scrub_paths

__all__ = ["ACTIVE_STATUSES", "progress_fraction", "router"]

router = page_router()

ACTIVE_STATUSES = frozenset({"pending", "running", "cancelling"})
_CANCELLABLE = frozenset({"pending", "running"})
_RETRYABLE = frozenset({"failed", "cancelled"})
# How far along a running task is, by stage, when its counters do not tell.
_STAGE_FRACTION = {
    "fetching": 0.1,
    "parsing": 0.3,
    "finalizing": 0.5,
    "refreshing": 0.6,
    "embedding": 0.7,
    "summarizing": 0.8,
    "indexing": 0.8,
    "done": 1.0,
}
# Counter pairs (done, total) a task may report.
_COUNTERS = (("files_indexed", "files_total"), ("done", "total"))


def progress_fraction(task: TaskInfo) -> float:
    """0..1: a finished task is done; a running one by its counters, else by its stage."""
    if task.status == "completed":
        return 1.0
    if task.status == "pending":
        return 0.0
    progress = task.progress
    for done, total in _COUNTERS:
        count, whole = progress.get(done), progress.get(total)
        if isinstance(count, int | float) and isinstance(whole, int | float) and whole > 0:
            return max(0.0, min(1.0, float(count) / float(whole)))
    return _STAGE_FRACTION.get(task.stage, 0.05)


def _view(request: Request, task: TaskInfo, *, mine: bool) -> dict[str, Any]:
    """What the templates show of one task."""
    workspace = str(service_of(request).config.workspace)
    return {
        "id": task.task_id,
        "kind": task.task_type,
        "status": task.status,
        "stage": task.stage,
        "target": task.resource_id or "",
        "percent": round(progress_fraction(task) * 100),
        "counters": task.progress,
        "error": scrub_paths(task.error, workspace) if task.error else "",
        "attempts": task.attempts,
        "created": task.created_at,
        "updated": task.updated_at,
        "result": task.result,
        "active": task.status in ACTIVE_STATUSES,
        "cancellable": mine and task.status in _CANCELLABLE,
        "retryable": mine and task.status in _RETRYABLE,
    }


async def _table_context(
    request: Request, caller: RequestContext, status: str | None, account_id: str | None
) -> dict[str, Any]:
    if status is not None and status not in TASK_STATUSES:
        raise InvalidArgumentError(
            f"Unknown task status {status!r}; one of: {', '.join(TASK_STATUSES)}",
            {"field": "status", "value": status},
        )
    scope = caller.in_account(account_id, "tasks")
    tasks = await service_of(request).tasks.list_tasks(scope, ListTasksRequest(status=status))
    mine = scope is caller
    query = urlencode({k: v for k, v in (("status", status), ("account_id", account_id)) if v})
    return {
        "tasks": [_view(request, t, mine=mine) for t in tasks],
        "table_url": f"{PREFIX}/tasks/table" + (f"?{query}" if query else ""),
        "status": status or "",
    }


_Status = Annotated[str | None, Query()]
_Account = Annotated[str | None, Query(description="ROOT only: another account.")]


@router.get("/tasks")
async def page(
    request: Request, caller: AnyCaller, status: _Status = None, account_id: _Account = None
) -> Response:
    status = status or None
    context = await _table_context(request, caller, status, account_id or None)
    context.update(
        {
            "title": "Tasks",
            "active": "tasks",
            "statuses": TASK_STATUSES,
            "account_id": account_id or "",
        }
    )
    return render(request, "tasks.html", context)


@router.get("/tasks/table")
async def table(
    request: Request, caller: AnyCaller, status: _Status = None, account_id: _Account = None
) -> Response:
    """The table fragment the page polls."""
    context = await _table_context(request, caller, status or None, account_id or None)
    return render(request, "_task_table.html", context)


async def _one(
    request: Request, caller: RequestContext, task_id: str, account_id: str | None
) -> dict[str, Any]:
    scope = caller.in_account(account_id, "tasks")
    task = await service_of(request).tasks.get_task(scope, TaskRequest(task_id=task_id))
    return _view(request, task, mine=scope is caller)


@router.get("/tasks/{task_id}")
async def detail(
    task_id: str, request: Request, caller: AnyCaller, account_id: _Account = None
) -> Response:
    task = await _one(request, caller, task_id, account_id or None)
    context = {"title": f"Task {task_id[:8]}", "active": "tasks", "task": task}
    return render(request, "task.html", context)


@router.get("/tasks/{task_id}/card")
async def card(
    task_id: str, request: Request, caller: AnyCaller, account_id: _Account = None
) -> Response:
    """One task as a small fragment that polls itself while the task runs."""
    task = await _one(request, caller, task_id, account_id or None)
    return render(request, "_task_card.html", {"task": task})


@router.post("/tasks/{task_id}/cancel")
async def cancel(task_id: str, request: Request, caller: AnyCaller) -> Response:
    """Cancel a pending or running task; htmx gets the row or card it targets back."""
    cancelled = await service_of(request).tasks.cancel_task(caller, TaskRequest(task_id=task_id))
    return _swapped(request, cancelled)


@router.post("/tasks/{task_id}/retry")
async def retry(task_id: str, request: Request, caller: AnyCaller) -> Response:
    """Queue a failed or cancelled task again; htmx gets the new task's row or card."""
    retried = await service_of(request).tasks.retry_task(caller, TaskRequest(task_id=task_id))
    return _swapped(request, retried)


def _swapped(request: Request, task: TaskInfo) -> Response:
    """The answer of a task action: for htmx the row or card it targets (now showing
    ``task``), else a redirect to ``task``'s page."""
    if not is_htmx(request):
        return redirect(request, f"{PREFIX}/tasks/{task.task_id}")
    target = request.headers.get("hx-target", "")
    template = "_task_row.html" if target.startswith("task-row-") else "_task_card.html"
    return render(request, template, {"task": _view(request, task, mine=True)})
