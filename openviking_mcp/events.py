"""Events: what the store announces when content changes, and who reacts.

A feature that writes, moves or removes content publishes an event; the features that keep
something in step with content subscribe to it. Reading :func:`EventBus.subscribe` calls (all
made in :mod:`openviking_mcp.service`) shows in one place who reacts to what:

* :class:`Writing`, then :class:`Written`: a write announces itself *before* it changes the
  file, under the file's path lock, so that indexing records its refresh task durably (held)
  first; the ``Written`` that follows the write carries that task back (``task_id``) and
  indexing releases it. A process killed in between leaves a held task that runs anyway;
* :class:`Written`, :class:`Removed`, :class:`Moved`, :class:`Copied`: indexing refreshes tiers
  and vectors (a ``Copied`` handler reports the copy's indexing status, as ``Written``'s do);
  a ``Written`` handler may report status fields (``semantic_status``, ``task_id``...) that the
  write's result carries;
* :class:`LayoutCreated`: new preset folders of an account or user, queued for indexing;
* :class:`TextRead`: a filter, not a notification: each handler gets the text a reader is about
  to see and returns it, possibly changed (memory files lose their hidden fields, skills get
  their reader's secrets back);
* :class:`TextIndexed`: a filter of the text about to be embedded (memory files lose their
  hidden fields; secrets are never restored here);
* :class:`MessagesAdded`: messages were appended to a session; the commit service may commit
  it (its auto-commit policy) and reports that commit as ``auto_commit``;
* :class:`SessionDeleted`: a session is gone; the memory service removes the copies of its
  turns (conversation memory), while memories extracted from it stay.

Handlers run in the order they subscribed, in the publisher's task; an exception stops the
publish and reaches the publisher.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI

__all__ = [
    "Copied",
    "Event",
    "EventBus",
    "LayoutCreated",
    "MessagesAdded",
    "Moved",
    "Removed",
    "SessionDeleted",
    "TextIndexed",
    "TextRead",
    "Writing",
    "Written",
]


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event."""


@dataclass(frozen=True, slots=True)
class Writing(Event):
    """A file's content (or a directory's description) is about to change; published under
    the path's lock, before the change. A handler records the follow-up work durably, held
    until the matching :class:`Written`, and reports it as ``{"task_id": ...}``."""

    ctx: RequestContext
    uri: VikingURI


@dataclass(frozen=True, slots=True)
class Written(Event):
    """A file's content changed, or a directory got a new description. ``wait``: the writer
    waits until the change is indexed (for at most ``timeout`` seconds). ``task_id``: the task
    the :class:`Writing` before it reserved (held), to be released now; published also when
    the change failed, so that the reservation is never left held."""

    ctx: RequestContext
    uri: VikingURI
    wait: bool = False
    timeout: float | None = None
    task_id: str | None = None


@dataclass(frozen=True, slots=True)
class Removed(Event):
    """A file or a whole directory is gone."""

    ctx: RequestContext
    uri: VikingURI


@dataclass(frozen=True, slots=True)
class Moved(Event):
    """A file or directory moved from ``source`` to ``dest``."""

    ctx: RequestContext
    source: VikingURI
    dest: VikingURI


@dataclass(frozen=True, slots=True)
class Copied(Event):
    """A file or directory was copied from ``source`` to the new path ``dest``."""

    ctx: RequestContext
    source: VikingURI
    dest: VikingURI


@dataclass(frozen=True, slots=True)
class LayoutCreated(Event):
    """Preset folders were created for an account (and a user, if given)."""

    account_id: str
    user_id: str | None
    dirs: tuple[VikingURI, ...]


@dataclass(frozen=True, slots=True)
class TextRead(Event):
    """A reader is about to see the text of ``uri`` (a filter: see the module docs)."""

    ctx: RequestContext
    uri: VikingURI


@dataclass(frozen=True, slots=True)
class TextIndexed(Event):
    """The text of ``uri`` is about to be embedded (a filter: see the module docs)."""

    ctx: RequestContext
    uri: VikingURI


@dataclass(frozen=True, slots=True)
class MessagesAdded(Event):
    """Messages were appended to the session ``session_id`` of the caller; it now has
    ``message_count`` live messages and ``pending_tokens`` tokens not yet committed."""

    ctx: RequestContext
    session_id: str
    message_count: int
    pending_tokens: int


@dataclass(frozen=True, slots=True)
class SessionDeleted(Event):
    """The caller's session ``session_id`` and its archives were removed; what keeps copies of
    its messages removes them too."""

    ctx: RequestContext
    session_id: str


E = TypeVar("E", bound=Event)
Handler = Callable[[Any], Awaitable[Any]]


class EventBus:
    """Subscriptions by event type; see the module docs for the order and error rules."""

    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[Handler]] = {}

    def subscribe(self, kind: type[E], handler: Callable[[E], Awaitable[Any]]) -> None:
        self._handlers.setdefault(kind, []).append(handler)

    def subscribe_filter(self, kind: type[E], handler: Callable[[E, str], Awaitable[str]]) -> None:
        """``handler(event, text) -> text`` for filter events such as :class:`TextRead`."""

        async def step(pair: tuple[E, str]) -> str:
            return await handler(*pair)

        self._handlers.setdefault(kind, []).append(step)

    def handlers(self, kind: type[Event]) -> tuple[Handler, ...]:
        return tuple(self._handlers.get(kind, ()))

    async def publish(self, event: Event) -> list[Any]:
        """Run every handler of ``event``'s type; returns what each returned, in order."""
        return [await handler(event) for handler in self.handlers(type(event))]

    async def report(self, event: Event) -> dict[str, Any]:
        """:meth:`publish`, merging the handlers' ``dict`` answers (later ones win)."""
        merged: dict[str, Any] = {}
        for answer in await self.publish(event):
            if isinstance(answer, dict):
                merged.update(answer)
        return merged

    async def filter(self, event: E, text: str) -> str:
        """Pass ``text`` through every filter handler of ``event``'s type."""
        for handler in self.handlers(type(event)):
            text = await handler((event, text))
        return text
