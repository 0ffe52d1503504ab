"""``EventLogService``: the one publisher of the event log, and its readers.

Events come from three places, all wired by the composition root:

* the task queue's finish listener (:meth:`on_task_finished`): ``task.failed`` for any task
  that fails for good, ``resource.indexed`` once per finished import (not per file),
  ``session.committed`` when phase 2 of a commit finished, followed by one ``memory.changed``
  per memory it added, updated or deleted;
* the content events of the bus (:meth:`subscribe`): ``memory.changed`` for memory files
  written, removed or moved by any surface, ``skill.changed`` when a skill's ``SKILL.md`` is
  written or a skill folder removed;
* operations that finished (:meth:`after_operation`): ``skill.changed`` for ``add_skill`` and
  ``update_skill``, ``key.revoked`` for a revoked named key or a regenerated main key.

Each event is written before the change's call returns (:class:`~openviking_mcp.storage.
event_log.EventLog`); a failure to record one is logged and never fails the change.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from openviking_mcp._aio import wait_event
from openviking_mcp.contract.access import can_read_uri, described_uri, key_prefix_uri
from openviking_mcp.contract.base import to_wire
from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.contract.eventlog import (
    EVENT_TYPES,
    EventItem,
    EventsPage,
    ListEventsRequest,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI, context_type_of
from openviking_mcp.events import EventBus, Moved, Removed, Writing, Written
from openviking_mcp.storage.event_log import EventRecord, StoredEvent
from openviking_mcp.storage.queue import TaskRecord
from openviking_mcp.store import Store, iso_time

__all__ = ["EventLogService", "owner_of", "parse_types"]

_log = logging.getLogger(__name__)

_IMPORT_TASK = "add_resource"
_COMMIT_TASK = "session_commit"
_SKILL_FILE = "SKILL.md"
_KEY_OPS = ("revoke_api_key", "revoke_my_api_key", "regenerate_user_key")
_MAX_PENDING = 10_000
#: Tasks whose end is no event: a failed webhook delivery would otherwise be sent as one.
_QUIET_TASKS = frozenset({"webhook_delivery"})


def owner_of(uri: str) -> str | None:
    """The user whose space ``uri`` is in; ``None`` for account-wide paths."""
    parsed = described_uri(uri)
    parts = parsed.parts if parsed is not None else ()
    return parts[1] if len(parts) >= 2 and parts[0] == "user" else None


def parse_types(text: str | None) -> tuple[str, ...]:
    """The event types of a comma-separated filter; ``INVALID_ARGUMENT`` for an unknown one."""
    types = tuple(t.strip() for t in (text or "").split(",") if t.strip())
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise InvalidArgumentError(
            f"Unknown event type {unknown[0]!r}", {"field": "types", "known": list(EVENT_TYPES)}
        )
    return types


def _skill_root(uri: VikingURI) -> VikingURI | None:
    """The skill folder ``uri`` is (or is in), when it is under a skills root."""
    parts = uri.parts
    depth = 3 if parts[:1] == ("agent",) else 4
    if context_type_of(uri) != "skill" or len(parts) < depth:
        return None
    return VikingURI(parts[0], tuple(parts[1:depth]))


class EventLogService:
    """Publishes events (module docs) and answers who may see which."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._log = store.event_log
        self._enabled = store.config.events.enabled
        self._existed: dict[str, bool] = {}

    # -- publishing --------------------------------------------------------------------------

    async def publish(
        self,
        event_type: str,
        account_id: str,
        user_id: str | None,
        uris: tuple[str, ...] = (),
        **payload: Any,
    ) -> None:
        """Record one event; logged, never raised, when the database refuses it."""
        if not self._enabled:
            return
        record = EventRecord(event_type, account_id, user_id, uris, payload)
        try:
            await self._log.append([record])
        except Exception:
            _log.exception("event %s not recorded", event_type)

    def subscribe(self, events: EventBus) -> None:
        """Memory and skill changes made through the content operations."""
        events.subscribe(Writing, self._on_writing)
        events.subscribe(Written, self._on_written)
        events.subscribe(Removed, self._on_removed)
        events.subscribe(Moved, self._on_moved)

    async def _on_writing(self, event: Writing) -> None:
        if context_type_of(event.uri) == "resource" or len(self._existed) > _MAX_PENDING:
            return
        store = self._store
        self._existed[event.uri.uri] = await store.content.exists(store.key(event.ctx, event.uri))

    async def _on_written(self, event: Written) -> None:
        existed = self._existed.pop(event.uri.uri, True)
        kind = "updated" if existed else "added"
        await self._changed(event.ctx, event.uri, kind, file_only=True)

    async def _on_removed(self, event: Removed) -> None:
        await self._changed(event.ctx, event.uri, "deleted", file_only=False)

    async def _on_moved(self, event: Moved) -> None:
        await self._changed(event.ctx, event.source, "deleted", file_only=False)
        await self._changed(event.ctx, event.dest, "added", file_only=False)

    async def _changed(
        self, ctx: RequestContext, uri: VikingURI, kind: str, *, file_only: bool
    ) -> None:
        kind_of = context_type_of(uri)
        if kind_of == "memory":
            owner = owner_of(uri.uri)
            await self.publish("memory.changed", ctx.account_id, owner, (uri.uri,), change=kind)
            return
        root = _skill_root(uri) if kind_of == "skill" else None
        if root is None:
            return
        if file_only and uri.name != _SKILL_FILE:
            return
        if not file_only and uri.uri not in (root.uri, root.join(_SKILL_FILE).uri):
            return
        owner = owner_of(root.uri)
        await self.publish(
            "skill.changed", ctx.account_id, owner, (root.uri,), change=kind, name=root.name
        )

    async def after_operation(
        self, ctx: RequestContext, name: str, request: Any, result: Any
    ) -> None:
        """The events of a finished operation (module docs); ``result`` as it returned."""
        result = to_wire(result) if name in ("add_skill", "update_skill") else result
        if name in ("add_skill", "update_skill") and isinstance(result, Mapping):
            uri = str(result.get("uri") or result.get("root_uri") or "")
            kind = "added" if name == "add_skill" else "updated"
            skill = str(result.get("name") or "")
            await self.publish(
                "skill.changed", ctx.account_id, owner_of(uri), (uri,), change=kind, name=skill
            )
        elif name in _KEY_OPS:
            account = getattr(request, "account_id", None) or ctx.account_id
            user = getattr(request, "user_id", None) or ctx.user_id
            key_id = getattr(request, "key_id", None)
            payload = {"key_id": key_id, "kind": "named"} if key_id else {"kind": "main"}
            await self.publish("key.revoked", account, user, (), **payload)

    async def on_task_finished(self, record: TaskRecord, status: str, result: Any) -> None:
        """The events of a task that finished (module docs)."""
        account, user = record.account_id, record.user_id
        if record.task_type in _QUIET_TASKS:
            return
        if status == "failed":
            target = record.payload.get("target") or record.payload.get("archive_uri")
            uris = (str(target),) if str(target or "").startswith("viking://") else ()
            await self.publish(
                "task.failed",
                account,
                user,
                uris,
                task_id=record.task_id,
                task_type=record.task_type,
                stage=record.stage,
            )
        elif status != "completed" or not isinstance(result, Mapping):
            return
        elif record.task_type == _IMPORT_TASK:
            await self._indexed(record, result)
        elif record.task_type == _COMMIT_TASK and result.get("archive_uri"):
            await self._committed(record, result)

    async def _indexed(self, record: TaskRecord, result: Mapping[str, Any]) -> None:
        root = str(result.get("root_uri") or "")
        meta = result.get("meta") if isinstance(result.get("meta"), Mapping) else {}
        await self.publish(
            "resource.indexed",
            record.account_id,
            owner_of(root),
            (root,),
            task_id=record.task_id,
            files=int((meta or {}).get("files", 0)),
            passages=int(result.get("context_count") or 0),
        )

    async def _committed(self, record: TaskRecord, result: Mapping[str, Any]) -> None:
        archive = str(result["archive_uri"])
        await self.publish(
            "session.committed",
            record.account_id,
            record.user_id,
            (archive,),
            task_id=record.task_id,
            session_id=str(result.get("session_id", "")),
            memories=dict(result.get("memories_extracted") or {}),
            extractor=str(result.get("extractor", "")),
        )
        applied = record.state.get("applied") or {}
        for kind, key in (("added", "adds"), ("updated", "updates"), ("deleted", "deletes")):
            for change in applied.get(key, []):
                uri = str(change.get("uri", ""))
                await self.publish(
                    "memory.changed",
                    record.account_id,
                    owner_of(uri) or record.user_id,
                    (uri,),
                    change=kind,
                    memory_type=str(change.get("memory_type", "")),
                )

    # -- reading -----------------------------------------------------------------------------

    async def list_events(self, ctx: RequestContext, req: ListEventsRequest) -> EventsPage:
        """Up to ``limit`` events after ``after`` scanned, those the caller may see returned;
        ``next_after`` is the last id scanned."""
        if not 1 <= req.limit <= 1000:
            raise InvalidArgumentError("limit must be 1..1000", {"field": "limit"})
        caller = ctx.in_account(req.account_id, "events")
        types = parse_types(req.types)
        rows = await self._rows(caller, max(0, req.after), types, req.limit)
        items = [self.item(e) for e in rows if self.visible(caller, e)]
        return EventsPage(events=items, next_after=rows[-1].id if rows else max(0, req.after))

    async def _rows(
        self, ctx: RequestContext, after: int, types: tuple[str, ...], limit: int
    ) -> list[StoredEvent]:
        user = None if ctx.is_admin else ctx.user_id
        return await self._log.after(ctx.account_id, after, types=types, user_id=user, limit=limit)

    @staticmethod
    def item(event: StoredEvent) -> EventItem:
        return EventItem(
            id=event.id,
            type=event.event_type,
            time=iso_time(event.ts),
            account_id=event.account_id,
            user_id=event.user_id,
            uris=list(event.uris),
            payload=event.payload,
        )

    @staticmethod
    def visible(ctx: RequestContext, event: StoredEvent) -> bool:
        """Whether ``ctx`` (in the event's account) may see ``event``: ROOT and ADMIN all of
        it (a key's URI prefix still applies), a USER their own events and the account-wide
        ones whose URIs they may read."""
        prefix = key_prefix_uri(ctx)
        if ctx.is_admin:
            if prefix is None:
                return True
            parsed = [described_uri(u) for u in event.uris]
            return bool(parsed) and all(u is not None and prefix.is_ancestor_of(u) for u in parsed)
        if event.user_id not in (None, ctx.user_id):
            return False
        if not event.uris:
            return event.user_id == ctx.user_id and prefix is None
        return all(can_read_uri(ctx, u) for u in event.uris)

    async def start_after(self, ctx: RequestContext, after: int | None) -> int:
        """Where a stream starts: after ``after``, or after the newest event when ``None``."""
        return max(0, after) if after is not None else await self._log.last_id()

    async def follow(
        self,
        ctx: RequestContext,
        after: int,
        types: tuple[str, ...] = (),
        *,
        account_id: str | None = None,
    ) -> AsyncIterator[StoredEvent | None]:
        """The events ``ctx`` may see after ``after``, as they come, oldest first; ``None``
        every ``keepalive_seconds`` without one (the stream's keep-alive). Runs until the
        consumer stops."""
        caller = ctx.in_account(account_id, "events")
        settings = self._store.config.events
        cursor, quiet_since = after, time.monotonic()
        while True:
            changed = self._log.changed()
            rows = await self._rows(caller, cursor, types, 200)
            for event in rows:
                cursor = event.id
                if self.visible(caller, event):
                    quiet_since = time.monotonic()
                    yield event
            if len(rows) == 200:
                continue
            left = settings.keepalive_seconds - (time.monotonic() - quiet_since)
            if left <= 0:
                quiet_since = time.monotonic()
                yield None
                continue
            await wait_event(changed, min(settings.poll_seconds, left))
