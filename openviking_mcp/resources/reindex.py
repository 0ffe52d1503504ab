"""Rebuilding the index: ``reindex`` (a subtree, from its content) and ``rebuild_index`` (the
whole index, with the configured embedder).

``reindex`` runs as a ``refresh`` task at bulk priority. It rebuilds only derived data: index
rows and, with ``semantic_and_vectors``, the generated L0/L1 of directories (a written
abstract is kept); it never changes a file. So any caller may reindex what they may read,
shared folders included; the walk covers only the readable parts of the target (never another
user's space). Sessions are not indexed, and a session URI is refused.
"""

from __future__ import annotations

from typing import Any

from openviking_mcp.contract.access import readable_prefixes
from openviking_mcp.contract.errors import (
    InvalidURIError,
    PermissionDeniedError,
    ProcessingError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.resources import (
    RebuildAccepted,
    RebuildIndexRequest,
    RebuildResult,
    ReindexAccepted,
    ReindexObjectType,
    ReindexRequest,
    ReindexResult,
)
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.indexing.service import IndexingService, indexable
from openviking_mcp.storage.queue import BULK, TaskRecord
from openviking_mcp.store import Store
from openviking_mcp.tags.service import TagService

__all__ = ["Reindexer", "reindex_object_type"]

_SCOPE_ROOTS = ("viking://resources", "viking://agent", "viking://user")
_SCOPES = tuple(VikingURI(scope) for scope in ("resources", "agent", "user"))


def reindex_object_type(uri: VikingURI) -> ReindexObjectType:
    """What ``uri`` is as a reindex target (see :data:`ReindexObjectType`); a session path
    is refused with ``INVALID_URI``."""
    parts = uri.parts
    if not parts:
        return "global_namespace"
    if parts[0] == "user" and len(parts) >= 3 and parts[2] == "sessions":
        raise InvalidURIError(uri.uri, "sessions are not indexed and cannot be reindexed")
    if parts[0] == "user" and len(parts) <= 2:
        return "user_namespace"
    area = _content_area(parts)
    if area is None:
        return "resource"
    name, depth = area
    if name == "memories":
        return "memory"
    if name == "skills":
        return "skill_namespace" if depth == 0 else "skill"
    return "resource"


def _content_area(parts: tuple[str, ...]) -> tuple[str, int] | None:
    """The content folder ``parts`` is in (``memories``, ``skills``...) and how deep below
    it, for ``agent/skills/…``, ``user/{id}/{area}/…`` and a peer's
    ``user/{id}/peers/{peer}/{area}/…``."""
    if parts[:2] == ("agent", "skills"):
        return "skills", len(parts) - 2
    if parts[0] != "user":
        return None
    if len(parts) >= 5 and parts[2] == "peers":
        return parts[4], len(parts) - 5
    return parts[2], len(parts) - 3


def _reindex_roots(ctx: RequestContext, target: VikingURI) -> list[str]:
    """The subtrees a reindex of ``target`` walks: its readable parts (the whole account
    split into its scopes), indexable ones only."""
    roots: list[VikingURI] = []
    for prefix in readable_prefixes(ctx, [target]):
        roots.extend(_SCOPES if prefix.is_root else (prefix,))
    return [r.uri for r in roots if indexable(r)]


def _figures(record: TaskRecord) -> dict[str, Any]:
    """The figures of a finished ``refresh`` task, as the reindex answer reports them."""
    result: dict[str, Any] = record.result or {}
    files_done = int(result.get("files_indexed", 0))
    files_seen = int(result.get("files_scanned", files_done))
    dirs_done = int(result.get("dirs_indexed", 0))
    return {
        "scanned_records": files_seen + dirs_done,
        "rebuilt_records": files_done + dirs_done,
        "unsupported_records": max(files_seen - files_done, 0),
        "duration_ms": max(int((record.updated_at - record.created_at) * 1000), 0),
        "warnings": list(result.get("warnings", [])),
        "rows_written": int(result.get("rows_written", 0)),
        "files_indexed": files_done,
    }


class Reindexer:
    """See the module docs."""

    def __init__(self, store: Store, indexing: IndexingService, tags: TagService) -> None:
        self._store, self._indexing, self._tags = store, indexing, tags

    async def reindex(
        self, ctx: RequestContext, req: ReindexRequest
    ) -> ReindexAccepted | ReindexResult:
        """Rebuild index rows (and, with ``semantic_and_vectors``, the L0/L1) under ``uri``
        (``recursive=False``: of ``uri`` itself only), after setting the tags it carries."""
        store = self._store
        store.require_index()
        target = store.resolve(ctx, req.uri)
        object_type = reindex_object_type(target)
        await self._tags.reindex_tags(ctx, req)
        task_id = await self._indexing.queue_refresh(
            ctx,
            _reindex_roots(ctx, target),
            recursive=req.recursive,
            bubble=False,
            semantic=req.mode == "semantic_and_vectors",
            priority=BULK,
            resource_id=target.uri,
        )
        named = {"uri": target.uri, "object_type": object_type, "mode": req.mode}
        if not req.wait:
            return ReindexAccepted(task_id=task_id, **named)
        record = await store.tasks.wait(task_id, req.timeout)
        if record.status != "completed":
            raise ProcessingError(record.error or "Reindex failed", {"task_id": task_id})
        return ReindexResult(**named, **_figures(record))

    async def rebuild_index(
        self, ctx: RequestContext, req: RebuildIndexRequest
    ) -> RebuildAccepted | RebuildResult:
        """Drop the whole index and rebuild it with the configured embedder (ROOT only).

        This is the fix for an index built with another embedding model: vectors of two
        models are never mixed, so everything is embedded again from the content tree.
        """
        store = self._store
        store.require_open()
        if not ctx.is_root:
            raise PermissionDeniedError("Rebuilding the whole index needs the ROOT role")
        embedder = store.embedder
        await store.index.reset(embedder.model_id, embedder.dimension)
        store.index_error = None
        task_ids: list[str] = []
        for account in await store.accounts.list_accounts():
            owner = RequestContext.root(account["account_id"])
            task_ids.append(
                await self._indexing.queue_refresh(
                    owner,
                    list(_SCOPE_ROOTS),
                    recursive=True,
                    bubble=False,
                    semantic=False,
                    priority=BULK,
                )
            )
        if not req.wait:
            return RebuildAccepted(task_ids=task_ids, model_id=embedder.model_id)
        rows = 0
        for task_id in task_ids:
            record = await store.tasks.wait(task_id, req.timeout)
            if record.status != "completed":
                raise ProcessingError(record.error or "Rebuild failed", {"task_id": task_id})
            rows += int((record.result or {}).get("rows_written", 0))
        return RebuildResult(
            model_id=embedder.model_id, dimension=embedder.dimension, rows_written=rows
        )
