"""``AuditService``: records audited operations and answers the audit log's queries.

The composition root runs every audited operation inside :meth:`AuditService.track`, which
records one entry when it ends (its outcome, duration and URIs). The URIs are those the
operation's events name (``Written``, ``Removed``, ``Moved``, ``Copied``: resolved paths),
else the ``viking://`` values of its request. Other paths (the WebDAV verbs) call
:meth:`track` themselves. Entries are queued in :class:`~openviking_mcp.storage.audit.AuditLog`
and written off the hot path.
"""

from __future__ import annotations

import base64
import csv
import io
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

from openviking_mcp.contract.audit import (
    CSV_COLUMNS,
    AuditEntry,
    AuditExportRequest,
    AuditLogsRequest,
    AuditLogsResult,
)
from openviking_mcp.contract.audit_scope import current_scope, operation_scope
from openviking_mcp.contract.base import Request
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    PermissionDeniedError,
    error_to_envelope,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.events import Copied, EventBus, Moved, Removed, Written
from openviking_mcp.storage.audit import AuditFilter, AuditRecord
from openviking_mcp.store import Store, iso_epoch, iso_time

__all__ = ["AuditService"]

#: Most URIs one entry names.
MAX_URIS = 20

_TOUCHED: ContextVar[list[str] | None] = ContextVar("openviking_audit_touched", default=None)


def _request_uris(request: Request) -> list[str]:
    """The ``viking://`` values among a request's fields (never other text)."""
    found: list[str] = []
    for value in request.__dict__.values():
        items = value if isinstance(value, list | tuple) else (value,)
        found.extend(v for v in items if isinstance(v, str) and v.startswith("viking://"))
    return found


def _unique(uris: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(uris))[:MAX_URIS]


def _epoch(value: str | None, name: str) -> float | None:
    if value is None:
        return None
    epoch = iso_epoch(value)
    if epoch is None:
        raise InvalidArgumentError(f"{name} is not an ISO 8601 time: {value!r}", {"field": name})
    return epoch


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"audit:{seq}".encode()).decode().rstrip("=")


def _before(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, seq = text.partition(":")
        if kind != "audit":
            raise ValueError(kind)
        return int(seq)
    except ValueError:
        raise InvalidArgumentError("Invalid cursor", {"field": "cursor"}) from None


def _entry(row: dict[str, Any]) -> AuditEntry:
    return AuditEntry(time=iso_time(row["ts"]), **{k: v for k, v in row.items() if k != "ts"})


class AuditService:
    """Records audited calls and answers the audit log (module docs)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._enabled = store.config.audit.enabled

    def subscribe(self, events: EventBus) -> None:
        """Collect the paths an audited operation changes."""
        events.subscribe(Written, self._on_written)
        events.subscribe(Removed, self._on_removed)
        events.subscribe(Moved, self._on_moved)
        events.subscribe(Copied, self._on_copied)

    @staticmethod
    def _touch(*uris: str) -> None:
        touched = _TOUCHED.get()
        if touched is not None and len(touched) < MAX_URIS:
            touched.extend(uris)

    async def _on_written(self, event: Written) -> None:
        self._touch(event.uri.uri)

    async def _on_removed(self, event: Removed) -> None:
        self._touch(event.uri.uri)

    async def _on_moved(self, event: Moved) -> None:
        self._touch(event.source.uri, event.dest.uri)

    async def _on_copied(self, event: Copied) -> None:
        self._touch(event.source.uri, event.dest.uri)

    @asynccontextmanager
    async def track(
        self,
        ctx: RequestContext,
        operation: str,
        kind: str | None,
        request: Request | None = None,
        uris: Iterable[str] = (),
    ) -> AsyncIterator[None]:
        """Run the body as ``operation``; record one entry of ``kind`` when it ends
        (``None``: no entry, though accesses to other users' spaces are still recorded)."""
        with operation_scope(operation):
            if kind is None or not self._enabled:
                yield
                return
            touched: list[str] = []
            token = _TOUCHED.set(touched)
            start = time.perf_counter()
            outcome = "ok"
            try:
                yield
            except BaseException as exc:
                cancelled = not isinstance(exc, Exception)
                outcome = "CANCELLED" if cancelled else error_to_envelope(exc)[1]["code"]
                raise
            finally:
                _TOUCHED.reset(token)
                given = [*uris, *(_request_uris(request) if request is not None else ())]
                elapsed = (time.perf_counter() - start) * 1000
                self.record(ctx, operation, kind, [*touched, *given], outcome, elapsed, request)

    def record(
        self,
        ctx: RequestContext,
        operation: str,
        kind: str,
        uris: Iterable[str],
        outcome: str,
        duration_ms: float | None = None,
        request: Request | None = None,
    ) -> None:
        """Queue one entry for ``ctx`` in the current surface's scope."""
        scope = current_scope()
        account = ctx.account_id
        named = getattr(request, "account_id", None) if ctx.is_root else None
        if isinstance(named, str) and named:
            account = named  # ROOT acting on an account: the account's admins see it
        self._store.audit.add(
            AuditRecord(
                ts=time.time(),
                account_id=account,
                user_id=ctx.user_id,
                role=ctx.role.value,
                key_id=getattr(ctx, "key_id", None) or scope.key_id,
                surface=scope.surface,
                operation=operation,
                kind=kind,
                uris=_unique(uris),
                outcome=outcome,
                request_id=scope.request_id,
                duration_ms=round(duration_ms, 3) if duration_ms is not None else None,
            )
        )

    # -- queries -----------------------------------------------------------------------------

    def _filter(self, ctx: RequestContext, request: AuditExportRequest, limit: int) -> AuditFilter:
        caller = ctx.in_account(request.account_id, "audit log")
        user = request.user
        if not caller.is_admin:
            if user is not None and user != caller.user_id:
                raise PermissionDeniedError(
                    "A USER may only read their own audit entries", {"user": user}
                )
            user = caller.user_id
        return AuditFilter(
            account_id=caller.account_id,
            user_id=user,
            operation=request.operation,
            uri_prefix=request.uri_prefix,
            since=_epoch(request.since, "since"),
            until=_epoch(request.until, "until"),
            outcome=request.outcome,
            limit=limit,
        )

    async def logs(self, ctx: RequestContext, req: AuditLogsRequest) -> AuditLogsResult:
        """One page of the entries ``ctx`` may read, newest first."""
        if not 1 <= req.limit <= 1000:
            raise InvalidArgumentError("limit must be 1..1000", {"field": "limit"})
        where = replace(self._filter(ctx, req, req.limit + 1), before_seq=_before(req.cursor))
        rows = await self._store.audit.query(where)
        more = len(rows) > req.limit
        rows = rows[: req.limit]
        return AuditLogsResult(
            entries=[_entry(r) for r in rows],
            next_cursor=_cursor(rows[-1]["seq"]) if more and rows else None,
        )

    async def export(self, ctx: RequestContext, req: AuditExportRequest) -> bytes:
        """The entries ``ctx`` may read as CSV (UTF-8), newest first."""
        if not 1 <= req.limit <= 100_000:
            raise InvalidArgumentError("limit must be 1..100000", {"field": "limit"})
        rows = await self._store.audit.query(self._filter(ctx, req, req.limit))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            entry = _entry(row).wire()
            entry["uris"] = " ".join(entry["uris"])
            writer.writerow(["" if entry[c] is None else entry[c] for c in CSV_COLUMNS])
        return out.getvalue().encode("utf-8")
