"""The event log: ``/api/v1/events`` (docs/events.md).

* ``GET /events?types&after&account_id`` → ``text/event-stream``: ``id: N``, ``event: <type>``
  and ``data: {id, type, time, account_id, user_id, uris, payload}`` per event, oldest first,
  live; a ``: keep-alive`` comment every ``events.keepalive_seconds`` while quiet. A
  ``Last-Event-ID`` header (or ``after``) resumes after that id; neither: only new events.
  The first line is the comment ``: after N``, the id the stream starts after;
* ``GET /events/log?after&limit&types&account_id`` → ``{events, next_after}`` (polling).

A USER sees their own events and the account-wide ones whose URIs they may read, ADMIN the
account's, ROOT any account's (``account_id``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from http_api import envelope
from http_api.bot.sse import last_event_id
from http_api.deps import Caller, Service
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.eventlog.service import EventLogService, parse_types
from openviking_mcp.storage.event_log import StoredEvent

__all__ = ["router", "sse_frame"]

router = APIRouter(prefix="/api/v1/events", tags=["events"])

_Types = Annotated[str | None, Query(description="Only these event types (comma-separated).")]
_Account = Annotated[str | None, Query(description="ROOT only: another account.")]


def sse_frame(event: StoredEvent) -> str:
    """One event as a server-sent event."""
    data = json.dumps(EventLogService.item(event).wire(), ensure_ascii=False)
    return f"id: {event.id}\nevent: {event.event_type}\ndata: {data}\n\n"


async def _frames(
    log: EventLogService,
    caller: RequestContext,
    after: int,
    types: tuple[str, ...],
    account: str | None,
) -> AsyncIterator[str]:
    yield f": after {after}\n\n"
    async for event in log.follow(caller, after, types, account_id=account):
        yield ": keep-alive\n\n" if event is None else sse_frame(event)


@router.get("", summary="The event stream (server-sent events)")
async def event_stream(
    service: Service,
    caller: Caller,
    types: _Types = None,
    after: Annotated[int | None, Query(ge=0, description="Events after this id.")] = None,
    account_id: _Account = None,
    last_event: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    log = service.eventlog
    caller.in_account(account_id, "events")  # refused before the stream starts
    wanted = parse_types(types)
    resume = last_event_id(last_event)
    start = await log.start_after(caller, resume if resume is not None else after)
    return StreamingResponse(
        _frames(log, caller, start, wanted, account_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/log", summary="Events after an id, oldest first (polling)")
async def list_events(
    request: Request,
    service: Service,
    caller: Caller,
    after: Annotated[int, Query(ge=0, description="Events with an id above this one.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    types: _Types = None,
    account_id: _Account = None,
) -> JSONResponse:
    fields: dict[str, object] = {"after": after, "limit": limit}
    fields.update({k: v for k, v in (("types", types), ("account_id", account_id)) if v})
    return envelope.ok(request, await service.call(caller, "list_events", fields))
