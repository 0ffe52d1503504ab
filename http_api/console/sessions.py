"""The console's sessions pages: the caller's sessions, one session's messages and archives,
adding a message and committing, with each commit's memory diff.

A commit is the API's ``POST /api/v1/sessions/{id}/commit`` (phase 1 here, phase 2 queued);
the page then polls the archive's partial until phase 2 is done or failed and shows the
archive's ``memory_diff.json`` (adds, updates, deletes and the merge counts). The answer that
shows a finished archive carries the ``HX-Trigger`` :data:`ARCHIVED_EVENT`, on which the
session's facts (``/facts``) and its archives (``/archives``) redraw themselves.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import Response

from http_api.console._web import (
    PREFIX,
    TenantCaller,
    is_htmx,
    page_router,
    redirect,
    render,
    service_of,
)
from openviking_mcp.contract.base import Empty
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.memory import CommitRequest
from openviking_mcp.contract.sessions import (
    AddMessageRequest,
    ArchiveDetail,
    ArchiveRequest,
    CreateSessionRequest,
    GetSessionRequest,
    SessionRequest,
)
from openviking_mcp.service import ContextService

__all__ = ["ARCHIVED_EVENT", "router"]

router = page_router()

ARCHIVED_EVENT = "session-archived"
"""The event (``HX-Trigger``) of an answer showing an archive whose phase 2 has ended."""

_MAX_LISTED = 200
_ROLES = ("user", "assistant", "system", "tool")
_DIFF_KINDS = (("adds", "add"), ("updates", "update"), ("deletes", "delete"))


async def _live(
    service: ContextService, caller: RequestContext, session_id: str
) -> list[dict[str, Any]]:
    return await service.sessions.live_messages(caller, SessionRequest(session_id=session_id))


def _memory_diff(diff: dict[str, Any] | None) -> dict[str, Any] | None:
    """An archive's memory diff as the diff template shows it (``None`` before phase 2 wrote
    it): ``entries`` ``{kind, uri, memory_type, before, after}``, ``merged`` (operations merged
    into existing memories) and ``problems``."""
    if diff is None:
        return None
    operations = diff.get("operations") or {}
    entries = [
        {
            "kind": kind,
            "uri": str(op.get("uri", "")),
            "memory_type": str(op.get("memory_type", "")),
            "before": op.get("before", op.get("deleted_content")),
            "after": op.get("after"),
        }
        for name, kind in _DIFF_KINDS
        for op in operations.get(name) or []
        if isinstance(op, dict)
    ]
    dedup = diff.get("dedup") or {}
    return {
        "entries": entries,
        "merged": int(dedup.get("same_key", 0)) + int(dedup.get("near_duplicate", 0)),
        "dedup": dedup,
        "problems": [str(p) for p in diff.get("problems") or []],
        "extractor": str(diff.get("extractor", "")),
        "extracted_at": diff.get("extracted_at"),
    }


async def _archive_view(
    service: ContextService, caller: RequestContext, session_id: str, archive: str
) -> dict[str, Any]:
    detail: ArchiveDetail = await service.sessions.get_archive(
        caller, ArchiveRequest(session_id=session_id, archive=archive)
    )
    diff = _memory_diff(detail.memory_diff)
    task = detail.task or {}
    return {"detail": detail, "diff": diff, "stage": task.get("stage") or task.get("status")}


@router.get("/sessions")
async def sessions_page(request: Request, caller: TenantCaller) -> Response:
    service = service_of(request)
    listed = await service.sessions.list_sessions(caller, Empty())
    rows = []
    for entry in listed[:_MAX_LISTED]:
        view = await service.sessions.get(caller, GetSessionRequest(session_id=entry.session_id))
        rows.append({"entry": entry, "meta": view.model_dump()})
    context = {
        "title": "Sessions",
        "active": "sessions",
        "rows": rows,
        "total": len(listed),
        "shown": len(rows),
    }
    return render(request, "sessions.html", context)


@router.post("/sessions")
async def create_session(
    request: Request, caller: TenantCaller, session_id: Annotated[str, Form()] = ""
) -> Response:
    service = service_of(request)
    req = CreateSessionRequest(session_id=session_id.strip() or None)
    view = await service.sessions.create(caller, req)
    return redirect(request, f"{PREFIX}/sessions/{view.session_id}")


async def _session_values(
    service: ContextService, caller: RequestContext, session_id: str
) -> dict[str, Any]:
    """What the facts and the archives show: the session and its archives' views."""
    view = await service.sessions.get(caller, GetSessionRequest(session_id=session_id))
    archives = await service.sessions.list_archives(caller, SessionRequest(session_id=session_id))
    views = [await _archive_view(service, caller, session_id, a.archive_id) for a in archives]
    return {
        "session_id": session_id,
        "session": view.model_dump(),
        "archives": views,
        "archived_event": ARCHIVED_EVENT,
    }


def _finished(response: Response, archive: dict[str, Any] | None) -> Response:
    """Announce an archive whose phase 2 has ended (done or failed)."""
    if archive is not None and archive["detail"].status != "pending":
        response.headers["HX-Trigger"] = ARCHIVED_EVENT
    return response


@router.get("/sessions/{session_id}")
async def session_page(session_id: str, request: Request, caller: TenantCaller) -> Response:
    service = service_of(request)
    context = {
        "title": f"Session {session_id}",
        "active": "sessions",
        **await _session_values(service, caller, session_id),
        "messages": await _live(service, caller, session_id),
        "roles": _ROLES,
    }
    return render(request, "session.html", context)


@router.get("/sessions/{session_id}/facts")
async def facts_partial(session_id: str, request: Request, caller: TenantCaller) -> Response:
    """The session's facts (commit count, last commit, memories extracted)."""
    if not is_htmx(request):
        return redirect(request, f"{PREFIX}/sessions/{quote(session_id, safe='')}")
    values = await _session_values(service_of(request), caller, session_id)
    return render(request, "_session_facts.html", values)


@router.get("/sessions/{session_id}/archives")
async def archives_partial(session_id: str, request: Request, caller: TenantCaller) -> Response:
    """The session's archives, newest first."""
    if not is_htmx(request):
        return redirect(request, f"{PREFIX}/sessions/{quote(session_id, safe='')}")
    values = await _session_values(service_of(request), caller, session_id)
    return render(request, "_session_archives.html", values)


@router.post("/sessions/{session_id}/messages")
async def add_message(
    session_id: str,
    request: Request,
    caller: TenantCaller,
    role: Annotated[str, Form()] = "user",
    content: Annotated[str, Form()] = "",
) -> Response:
    service = service_of(request)
    req = AddMessageRequest(session_id=session_id, role=role, content=content)
    await service.sessions.add_message(caller, req)
    if not is_htmx(request):
        return redirect(request, f"{PREFIX}/sessions/{session_id}")
    view = await service.sessions.get(caller, GetSessionRequest(session_id=session_id))
    messages = await _live(service, caller, session_id)
    context = {"session": view.model_dump(), "messages": messages}
    # The form's target is its status line (where an error shows, the messages staying in
    # place); the messages themselves go to their box.
    response = render(request, "_session_message_added.html", context)
    response.headers["HX-Retarget"] = "#messages-box"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


@router.post("/sessions/{session_id}/commit")
async def commit(session_id: str, request: Request, caller: TenantCaller) -> Response:
    service = service_of(request)
    result = await service.commits.commit(caller, CommitRequest(session_id=session_id))
    if not is_htmx(request):
        return redirect(request, f"{PREFIX}/sessions/{session_id}")
    archive = None
    if result.archive_id:
        archive = await _archive_view(service, caller, session_id, result.archive_id)
    view = await service.sessions.get(caller, GetSessionRequest(session_id=session_id))
    context = {
        "session_id": session_id,
        "result": result,
        "a": archive,
        "live": True,
        "session": view.model_dump(),
        "messages": await service.sessions.live_messages(
            caller, SessionRequest(session_id=session_id)
        ),
        "oob": True,
    }
    return _finished(render(request, "_session_commit.html", context), archive)


@router.get("/sessions/{session_id}/archives/{archive_id}")
async def archive_partial(
    session_id: str,
    archive_id: str,
    request: Request,
    caller: TenantCaller,
    live: bool = False,
) -> Response:
    """One archive's status and memory diff (polled while phase 2 runs); ``live``: the
    archive of the commit just made, whose diff is the page's ``#memory-diff``."""
    if not is_htmx(request):
        return redirect(request, f"{PREFIX}/sessions/{session_id}")
    service = service_of(request)
    archive = await _archive_view(service, caller, session_id, archive_id)
    context = {"session_id": session_id, "a": archive, "live": live}
    return _finished(render(request, "_session_archive.html", context), archive)
