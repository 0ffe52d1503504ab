"""The debug service: raw rows and counts of the search index (``/api/v1/debug/vector``).

Rows are always scoped to what the caller may read: a USER or ADMIN sees its own account's
rows under ``viking://resources``, ``viking://agent`` and its own user space (the rows of the
namespace roots ``viking://`` and ``viking://user`` themselves are left out); ROOT sees every
account, or one with ``account_id`` (the HTTP layer currently lets ROOT keys reach only
``/debug/health``, so that applies to embedded and CLI callers). Filter documents are parsed by
:mod:`openviking_mcp.debug.filters`; an unusable index is 503 ``NO_VECTOR_DB``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from openviking_mcp.contract.access import readable_prefixes
from openviking_mcp.contract.debug import (
    VectorCountRequest,
    VectorCountResult,
    VectorRecord,
    VectorScrollRequest,
    VectorScrollResult,
)
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    OpenVikingError,
    PermissionDeniedError,
    UnavailableError,
)
from openviking_mcp.contract.identity import RequestContext, validate_identifier
from openviking_mcp.debug.filters import InvalidFilterError, collect_filter
from openviking_mcp.storage.index import IndexFilter, IndexRecord
from openviking_mcp.store import Store

if TYPE_CHECKING:
    from openviking_mcp.storage.index import SearchIndex

__all__ = ["DebugService", "InvalidFilterError", "NoVectorDBError", "UriIndexState"]

_MAX_SCROLL = 1000
_TEXT_PREVIEW = 1000


class NoVectorDBError(UnavailableError):
    """The search index cannot be used (not open, or built with another model)."""

    code = "NO_VECTOR_DB"
    default_message = "Vector database is not available"


def _record_view(record: IndexRecord, with_vector: bool) -> VectorRecord:
    text = record.text
    return VectorRecord(
        id=record.id,
        account_id=record.account_id,
        uri=record.uri,
        level=record.level,
        anchor=record.anchor,
        context_type=record.context_type,
        name=record.name,
        parent_uri=record.parent_uri,
        owner_user_id=record.owner_user_id,
        abstract=record.abstract,
        text=text if len(text) <= _TEXT_PREVIEW else text[:_TEXT_PREVIEW] + "...",
        text_length=len(text),
        tags=list(record.tags),
        created_at=record.created_at,
        updated_at=record.updated_at,
        active_count=record.active_count,
        vector_dimension=int(record.vector.shape[0]) if record.vector.ndim else 0,
        vector=[float(x) for x in record.vector] if with_vector else None,
    )


@dataclass(frozen=True, slots=True)
class UriIndexState:
    """The search-index rows of one URI (not those below it), the embedding model the index
    was built with and the newest row's update time (``None`` without rows)."""

    uri: str
    rows: list[VectorRecord]
    model_id: str
    dimension: int
    last_refresh: float | None


class DebugService:
    """See the module docs."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def _index(self) -> SearchIndex:
        try:
            return self._store.require_index()
        except OpenVikingError as exc:
            raise NoVectorDBError(
                f"Vector database is not available: {exc.message}", {"reason": exc.code}
            ) from None

    def _scope(self, ctx: RequestContext, account_id: str | None, uris: list[str]) -> IndexFilter:
        """The caller's readable rows, narrowed to ``account_id`` and URI prefixes."""
        resolve = self._store.resolve
        if ctx.is_root:
            account = validate_identifier(account_id, "account_id") if account_id else None
            resolver = RequestContext.root(account or self._store.config.default_account)
            chosen = tuple(resolve(resolver, u).uri for u in uris)
            return IndexFilter(account_id=account, uri_prefixes=chosen)
        if account_id and account_id != ctx.account_id:
            raise PermissionDeniedError(
                "Only ROOT may inspect another account's vectors", {"resource": account_id}
            )
        wanted = [resolve(ctx, u) for u in uris]
        prefixes = [p.uri for p in readable_prefixes(ctx, wanted)]
        return IndexFilter(account_id=ctx.account_id, uri_prefixes=tuple(prefixes))

    def _filter(
        self, ctx: RequestContext, account_id: str | None, values: dict[str, Any]
    ) -> IndexFilter:
        """The index filter of the collected constraints, within the caller's scope."""
        scope = self._scope(ctx, account_id or values.get("account_id"), values.get("uri", []))
        parent = values.get("parent_uri")
        parent_uri = None
        if parent:
            resolver = ctx if not ctx.is_root else RequestContext.root()
            parent_uri = self._store.resolve(resolver, parent).uri
        return replace(
            scope,
            context_types=tuple(values.get("context_type", ())),
            levels=tuple(values.get("level", ())),
            tags_all=tuple(t.lower() for t in values.get("tags", ())),
            parent_uri=parent_uri,
            updated_after=values.get("updated_after"),
            updated_before=values.get("updated_before"),
        )

    async def vector_scroll(
        self, ctx: RequestContext, req: VectorScrollRequest
    ) -> VectorScrollResult:
        """A page of index rows in id order: ``{records, next_cursor, count}``."""
        if not 1 <= req.limit <= _MAX_SCROLL:
            raise InvalidArgumentError(
                f"limit must be between 1 and {_MAX_SCROLL}", {"limit": req.limit}
            )
        index = self._index()
        values = collect_filter(
            None,
            uri=req.uri,
            context_type=req.context_type,
            level=req.level,
            account_id=req.account_id,
        )
        flt = self._filter(ctx, req.account_id, values)
        records, next_cursor = await index.scroll(flt, req.limit, req.cursor or None)
        views = [_record_view(r, req.with_vector) for r in records]
        return VectorScrollResult(records=views, next_cursor=next_cursor, count=len(views))

    async def vector_count(self, ctx: RequestContext, req: VectorCountRequest) -> VectorCountResult:
        """``{count}`` of the caller's index rows matching the filter."""
        index = self._index()
        values = collect_filter(req.filter_json, uri=req.uri, account_id=req.account_id)
        flt = self._filter(ctx, req.account_id, values)
        return VectorCountResult(count=await index.count(flt))

    async def uri_state(self, ctx: RequestContext, uri: str, limit: int = 100) -> UriIndexState:
        """The index rows of ``uri`` itself (a folder's, not its descendants'), at most
        ``limit``, with the index's model and the last refresh time; refused as reading
        ``uri`` would be."""
        index = self._index()
        target = self._store.resolve(ctx, uri)
        scope = self._scope(ctx, None, [target.uri])
        parent = target.parent
        # Rows below ``uri`` have ``uri`` or a descendant as parent: the parent selects its own.
        flt = replace(scope, parent_uri=parent.uri if parent is not None else None)
        records, _ = await index.scroll(flt, min(max(limit, 1), _MAX_SCROLL), None)
        rows = [_record_view(r, False) for r in records if r.uri == target.uri]
        return UriIndexState(
            uri=target.uri,
            rows=rows,
            model_id=index.model_id,
            dimension=index.dimension,
            last_refresh=max((r.updated_at for r in rows), default=None),
        )
