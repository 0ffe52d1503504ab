"""``AnalyticsService``: records reads and searches, and answers the usage analytics.

The composition root hands every finished content read (``read``, ``read_level``,
``abstract``, ``overview``) and search (``find``, ``search``, ``assemble_context``) to
:meth:`AnalyticsService.observe`, which queues rows in the store's
:class:`~openviking_mcp.storage.usage.UsageLog` (written in the background, off the hot
path): the read URI, or the query text with its hit count, best score and best hit URIs, each
with the caller and the surface of the current audit scope. Content is never recorded.

The answers are SQL aggregations over a window (``days``) with a ``LIMIT``; ``stale`` also
walks the account's resources (at most ``analytics.stale_scan_max``). Only ADMIN (its account)
and ROOT (any account, ``account_id``) read them: they show every user's searches.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from openviking_mcp.analytics.gaps import group_misses
from openviking_mcp.contract.analytics import (
    AccessCount,
    AnalyticsRequest,
    ChannelCount,
    ChannelsResult,
    Gap,
    GapsRequest,
    GapsResult,
    QueriesResult,
    QueryEntry,
    StaleContext,
    StaleResult,
    TopRequest,
    TopResult,
)
from openviking_mcp.contract.audit_scope import SURFACES, current_scope
from openviking_mcp.contract.base import Request
from openviking_mcp.contract.errors import InvalidArgumentError, PermissionDeniedError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.search import ContextResult, FindResult
from openviking_mcp.contract.uri import resolve_uri
from openviking_mcp.storage.usage import UsageRecord
from openviking_mcp.store import Store, iso_time

__all__ = ["READS", "SEARCHES", "AnalyticsService"]

#: Operations whose URI is recorded as a read.
READS = frozenset({"read", "read_level", "abstract", "overview"})
#: Operations whose query is recorded with its hits.
SEARCHES = frozenset({"find", "search", "assemble_context"})
_DAY = 86400.0
#: Distinct missed queries ``gaps`` groups at most.
_MAX_MISSES = 1000
_TIERS = frozenset({".abstract.md", ".overview.md"})


def _context(uri: str) -> str:
    """A hit's context: a directory's tier file (``.abstract.md``, ``.overview.md``) names
    its directory."""
    head, _, name = uri.rpartition("/")
    return head if name in _TIERS and head else uri


def _scored(result: Any) -> list[tuple[float, str]]:
    """``(score, uri)`` of a search answer's hits, best first."""
    if isinstance(result, FindResult):
        hits = [*result.memories, *result.resources, *result.skills]
        pairs = [(h.score, _context(h.uri)) for h in hits]
    elif isinstance(result, ContextResult):
        pairs = [(e.score, _context(e.uri)) for e in result.entries]
    else:
        return []
    return sorted(pairs, key=lambda p: -p[0])


class AnalyticsService:
    """Records usage and answers the analytics (module docs). ``now``: the clock."""

    def __init__(self, store: Store, now: Callable[[], float] = time.time) -> None:
        self._store = store
        self._config = store.config.analytics
        self._now = now

    # -- recording ---------------------------------------------------------------------------

    def observe(self, ctx: RequestContext, operation: str, request: Request, result: Any) -> None:
        """Queue the usage rows of a finished read or search (nothing for other operations)."""
        if not self._config.enabled or (operation not in READS and operation not in SEARCHES):
            return
        scope = current_scope()
        base = dict(
            ts=self._now(),
            account_id=ctx.account_id,
            user_id=ctx.user_id,
            surface=scope.surface,
            operation=operation,
        )
        if operation in READS:
            raw = getattr(request, "uri", None)
            try:
                uri = resolve_uri(raw, ctx).uri if isinstance(raw, str) else None
            except Exception:
                uri = None
            if uri is not None:
                self._store.usage.add(UsageRecord(kind="read", uri=uri, **base))  # type: ignore[arg-type]
            return
        scored = _scored(result)
        total = result.total if isinstance(result, FindResult) else len(scored)
        query = UsageRecord(
            kind="query",
            query=str(getattr(request, "query", "")),
            hit_count=max(total, len(scored)),
            best_score=round(scored[0][0], 6) if scored else None,
            **base,  # type: ignore[arg-type]
        )
        top = dict.fromkeys(uri for _, uri in scored[: self._config.top_hits])
        hits = [UsageRecord(kind="hit", uri=uri, **base) for uri in top]  # type: ignore[arg-type]
        self._store.usage.add(query, *hits)

    # -- answers -----------------------------------------------------------------------------

    def _window(self, ctx: RequestContext, req: AnalyticsRequest) -> tuple[RequestContext, float]:
        """The caller for the account named (ADMIN or ROOT only) and the window's start."""
        caller = ctx.in_account(req.account_id, "analytics")
        if not caller.is_admin:
            raise PermissionDeniedError("Analytics are for the account's ADMIN", {})
        if not 0 < req.days <= 3650:
            raise InvalidArgumentError("days must be > 0 and <= 3650", {"field": "days"})
        if not 1 <= req.limit <= 1000:
            raise InvalidArgumentError("limit must be 1..1000", {"field": "limit"})
        return caller, self._now() - req.days * _DAY

    async def top_accessed(self, ctx: RequestContext, req: TopRequest) -> TopResult:
        """The contexts read or found most in the window."""
        caller, since = self._window(ctx, req)
        if req.by not in ("total", "reads", "hits"):
            raise InvalidArgumentError("by is total, reads or hits", {"field": "by"})
        rows = await self._store.usage.top(caller.account_id, since, req.limit, req.by)
        return TopResult(
            contexts=[
                AccessCount(
                    uri=r["uri"],
                    reads=int(r["reads"]),
                    hits=int(r["hits"]),
                    last_access=iso_time(float(r["last"])),
                )
                for r in rows
            ]
        )

    async def stale(self, ctx: RequestContext, req: AnalyticsRequest) -> StaleResult:
        """Resources not read or found in the window: never used first, then the oldest use."""
        caller, since = self._window(ctx, req)
        base = self._store.resolve(caller, "viking://resources")
        walked = await self._store.walk_readable(caller, base, 64, self._config.stale_scan_max)
        files = {
            uri.uri: entry.mtime
            for rel, entry, uri in walked
            if not entry.is_dir and not any(p.startswith(".") for p in rel.split("/"))
        }
        last = await self._store.usage.last_access(caller.account_id, list(files))
        unused = [u for u in files if last.get(u, 0.0) < since]
        unused.sort(key=lambda u: (last.get(u, 0.0), u))
        return StaleResult(
            contexts=[
                StaleContext(
                    uri=u,
                    last_access=iso_time(last[u]) if u in last else None,
                    modified=iso_time(files[u]) if files[u] else None,
                )
                for u in unused[: req.limit]
            ],
            scanned=len(files),
        )

    async def queries(self, ctx: RequestContext, req: AnalyticsRequest) -> QueriesResult:
        """The latest searches in the window, newest first."""
        caller, since = self._window(ctx, req)
        rows = await self._store.usage.queries(caller.account_id, since, req.limit)
        return QueriesResult(
            queries=[
                QueryEntry(
                    time=iso_time(float(r["ts"])),
                    user_id=r["user_id"],
                    surface=r["surface"],
                    operation=r["operation"],
                    query=r["query"] or "",
                    hit_count=int(r["hit_count"] or 0),
                    best_score=None if r["best_score"] is None else float(r["best_score"]),
                )
                for r in rows
            ]
        )

    async def gaps(self, ctx: RequestContext, req: GapsRequest) -> GapsResult:
        """Missed searches of the window grouped by topic, the most asked first."""
        caller, since = self._window(ctx, req)
        rows = await self._store.usage.misses(caller.account_id, since, req.threshold, _MAX_MISSES)
        gaps = [
            Gap(
                query=str(g.rows[0]["query"]),
                count=g.count,
                queries=[str(r["query"]) for r in g.rows],
                best_score=max(float(r["best"]) for r in g.rows),
                last_asked=iso_time(max(float(r["last"]) for r in g.rows)),
            )
            for g in group_misses(rows)
        ]
        return GapsResult(gaps=gaps[: req.limit], threshold=req.threshold)

    async def by_channel(self, ctx: RequestContext, req: AnalyticsRequest) -> ChannelsResult:
        """Reads, searches and changes per surface in the window, the busiest first."""
        caller, since = self._window(ctx, req)
        await self._store.audit.flush()
        counts: dict[str, dict[str, int]] = {s: {} for s in SURFACES}
        for row in await self._store.usage.by_surface(caller.account_id, since):
            counts.setdefault(row["surface"], {})[row["kind"]] = int(row["count"])
        channels = [
            ChannelCount(
                surface=surface,
                reads=c.get("read", 0),
                queries=c.get("query", 0),
                changes=c.get("change", 0),
            )
            for surface, c in counts.items()
        ]
        channels.sort(key=lambda c: (-(c.reads + c.queries + c.changes), c.surface))
        return ChannelsResult(channels=channels[: req.limit])
