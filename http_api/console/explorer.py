"""The console's explorer: the ``viking://`` tree, a node's detail, actions and uploads.

``GET /console/explorer?uri=`` is the page (the tree open down to ``uri``, its detail shown);
the tree's folders load their children when opened (``/explorer/children``), a click loads a
node's panel (``/explorer/node``, its URL pushed so it can be shared), ``/explorer/tree``
redraws the tree after a change and ``/explorer/task`` shows upload imports until they end.
Actions are in :mod:`._explorer_actions`, uploads in :mod:`._explorer_upload`.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response

from http_api.console._explorer_actions import REFRESH_EVENT, node_fragment
from http_api.console._explorer_data import (
    children,
    node_view,
    normalize,
    tree,
    upload_parent,
)
from http_api.console._explorer_upload import UPLOAD_PATH
from http_api.console._web import TenantCaller, fragment, page_router, render, service_of
from openviking_mcp.contract.errors import InvalidArgumentError, OpenVikingError
from openviking_mcp.contract.tasks import TaskInfo, TaskRequest

__all__ = ["UPLOAD_PATH", "router"]

router = page_router()

_TERMINAL = frozenset({"completed", "failed", "cancelled"})
_MAX_TASKS = 100

Uri = Annotated[str, Query(description="A viking:// URI.")]


@router.get("/explorer")
async def page(request: Request, caller: TenantCaller, uri: str | None = None) -> Response:
    service = service_of(request)
    selected = normalize(uri)
    node = node_error = None
    if selected:
        try:
            node = await node_view(service, caller, selected)
        except OpenVikingError as exc:
            node_error = {"status": exc.http_status, "code": exc.code, "message": str(exc)}
    context = {
        "title": "Explorer",
        "active": "explorer",
        "level": await tree(service, caller, [node.stat.uri] if node else []),
        "selected": node.stat.uri if node else "",
        "node": node,
        "node_error": node_error,
        "oob": False,
        "upload_parent": upload_parent(node.stat.uri, node.stat.is_dir)
        if node
        else upload_parent(None, True),
    }
    return render(request, "explorer.html", context)


@router.get("/explorer/tree")
async def tree_fragment(
    request: Request,
    caller: TenantCaller,
    uri: str | None = None,
    open_: Annotated[list[str] | None, Query(alias="open")] = None,
) -> Response:
    """The whole tree, open down to ``uri`` (selected) and to each ``open`` URI."""
    selected = normalize(uri) or ""
    opened = [selected, *(open_ or [])]
    level = await tree(service_of(request), caller, [u for u in opened if u])
    return fragment(request, "_explorer_tree.html", {"level": level, "selected": selected})


@router.get("/explorer/children")
async def children_fragment(
    request: Request,
    caller: TenantCaller,
    uri: Uri,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """One page of a folder's children: a list, or (for a later page) its items."""
    level = await children(service_of(request), caller, normalize(uri) or uri, offset)
    context = {"level": level, "selected": "", "offset": offset}
    return fragment(request, "_explorer_children.html", context)


@router.get("/explorer/node")
async def node(request: Request, caller: TenantCaller, uri: Uri) -> Response:
    """A node's detail panel."""
    return await node_fragment(request, caller, normalize(uri) or uri)


def _summary(tasks: list[TaskInfo]) -> dict[str, Any]:
    """The overall state of the imports: ``running``, ``completed``, ``failed`` or
    ``cancelled``, with its text."""
    done = all(t.status in _TERMINAL for t in tasks)
    failed = [t for t in tasks if t.status == "failed"]
    finished = sum(t.status in _TERMINAL for t in tasks)
    if not done:
        text = f"running ({finished} of {len(tasks)} done)"
        return {"done": False, "state": "running", "text": text}
    if failed:
        return {"done": True, "state": "failed", "text": f"failed: {failed[0].error or ''}"}
    if any(t.status == "cancelled" for t in tasks):
        return {"done": True, "state": "cancelled", "text": "cancelled"}
    return {"done": True, "state": "completed", "text": "completed"}


@router.get("/explorer/task")
async def task(
    request: Request,
    caller: TenantCaller,
    ids: Annotated[list[str], Query(alias="id")],
) -> Response:
    """The state of upload imports; polled every second until they end, then the tree is
    refreshed and opened at what they imported."""
    if not ids or len(ids) > _MAX_TASKS:
        raise InvalidArgumentError(f"Ask for 1 to {_MAX_TASKS} tasks", {"field": "id"})
    service = service_of(request)
    tasks = [await service.tasks.get_task(caller, TaskRequest(task_id=i)) for i in ids]
    summary = _summary(tasks)
    context = {
        "tasks": tasks,
        "terminal": _TERMINAL,
        "query": urlencode([("id", i) for i in ids]),
        "reveal": [t.resource_id for t in tasks if t.status == "completed" and t.resource_id],
        **summary,
    }
    response = fragment(request, "_explorer_task.html", context)
    if summary["done"]:
        response.headers["HX-Trigger-After-Settle"] = REFRESH_EVENT
    return response
