"""The event log: what happened in an account, for streams, pollers and webhooks.

An event is ``{id, type, time, account_id, user_id, uris, payload}``: ``id`` increases with
every event of the database, ``user_id`` is the owning user (``null`` for account-wide
events), ``payload`` a small JSON object that never holds content or secrets. The types are
:data:`EVENT_TYPES`. ``GET /api/v1/events`` streams them (server-sent events);
``list_events`` answers them as pages for clients that poll. A USER sees their own events and
the account-wide events whose URIs they may read, ADMIN the account's, ROOT any account's
(``account_id``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from openviking_mcp.contract.base import Integer, Request, Result
from openviking_mcp.contract.operations import Operation, Route

__all__ = [
    "EVENT_TYPES",
    "OPERATIONS",
    "EventItem",
    "EventsPage",
    "ListEventsRequest",
]

#: Every event type, in the order docs/events.md describes them.
EVENT_TYPES = (
    "resource.indexed",
    "task.failed",
    "session.committed",
    "memory.changed",
    "skill.changed",
    "key.revoked",
)


class ListEventsRequest(Request):
    """Events after ``after``, oldest first."""

    after: Integer = Field(default=0, description="Events with an id above this one.")
    limit: Integer = Field(default=100, description="Events scanned at most (1..1000).")
    types: str | None = Field(
        default=None, description="Only these event types, separated by commas."
    )
    account_id: str | None = Field(default=None, description="ROOT only: another account.")


class EventItem(Result):
    id: int
    type: str
    time: str
    account_id: str
    user_id: str | None
    uris: list[str]
    payload: dict[str, Any]


class EventsPage(Result):
    events: list[EventItem]
    next_after: int = Field(description="Pass as after for the next page.")


OPERATIONS = (
    Operation(
        "list_events",
        "eventlog.list_events",
        ListEventsRequest,
        EventsPage,
        http=Route("GET", "/api/v1/events/log"),
        doc="Events the caller may see after an id, oldest first (the stream's log).",
    ),
)
