"""The tags service: explicit ``k=v`` retrieval tags of paths, and a path's attributes.

Tags are kept per path in :class:`~openviking_mcp.storage.tags.PathTags` (``store.tags``) and
copied onto the path's index rows at once (a file's passages, a directory's L0/L1); indexing
reads them whenever it (re)writes a path's rows, so they survive reindexing and edits. Copies,
moves and removals (:class:`~openviking_mcp.events.Copied`, :class:`~openviking_mcp.events.Moved`,
:class:`~openviking_mcp.events.Removed`) carry or drop them. Setting tags changes the path: the
caller must be allowed to write it, and in a shared scope the owner rule applies (to everything
below a directory with ``recursive``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from openviking_mcp.contract.access import check_owner
from openviking_mcp.contract.errors import OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.resources import ReindexRequest
from openviking_mcp.contract.tags import (
    Attrs,
    AttrsRequest,
    AttrsResult,
    SetTagsRequest,
    SetTagsResult,
    TagMode,
    apply_tag_mode,
    normalize_tags,
)
from openviking_mcp.contract.uri import VikingURI, context_type_of
from openviking_mcp.events import Copied, EventBus, Moved, Removed
from openviking_mcp.storage import Entry
from openviking_mcp.store import Store

__all__ = ["MemoryFields", "TagService"]

logger = logging.getLogger("openviking_mcp.tags")

#: ``fields(text)``: the fields block of a memory file's text (``{}`` without one).
MemoryFields = Callable[[str], dict[str, Any]]

_WALK_DEPTH = 10_000
_WALK_ENTRIES = 1_000_000
#: Fields of a memory's block that are bookkeeping of the store, not attributes.
_PRIVATE_MEMORY_FIELDS = frozenset({"user_id", "user_ids", "_uri", "content"})


class TagService:
    """See the module docs. ``memory_fields`` parses a memory file's fields block."""

    def __init__(self, store: Store, memory_fields: MemoryFields) -> None:
        self._store = store
        self._memory_fields = memory_fields

    def subscribe(self, events: EventBus) -> None:
        """Keep the stored tags in step with copies, moves and removals."""
        events.subscribe(Copied, self._copied)
        events.subscribe(Moved, self._moved)
        events.subscribe(Removed, self._removed)

    async def _copied(self, event: Copied) -> None:
        await self._store.tags.copied(event.ctx.account_id, event.source, event.dest)

    async def _moved(self, event: Moved) -> None:
        await self._store.tags.moved(event.ctx.account_id, event.source, event.dest)

    async def _removed(self, event: Removed) -> None:
        await self._store.tags.removed(event.ctx.account_id, event.uri)

    # -- operations ------------------------------------------------------------------------

    async def set_tags(self, ctx: RequestContext, req: SetTagsRequest) -> SetTagsResult:
        """Set the tags of a file or directory (and, with ``recursive``, of every path below
        it); the index rows follow at once."""
        tags = [] if req.mode == "clear" else normalize_tags(req.tags)
        store = self._store
        target = store.resolve(ctx, req.uri, mutate=True)
        entry = await self._stat(ctx, target)
        root = target if entry.is_dir else (target.parent or target)
        context_type = context_type_of(target)
        if req.mode == "replace" and not tags:  # nothing to set: the original's "skipped"
            updated: list[str] = []
            skipped = 1
        else:
            updated = await self.retag(ctx, target, tags, req.mode, recursive=req.recursive)
            skipped = 0
        return SetTagsResult(
            uri=target.uri,
            updated_uris=updated,
            root_uri=root.uri,
            context_type=context_type,
            tags=tags,
            mode=req.mode,
            success_count=len(updated),
            skipped_count=skipped,
            tags_updated=bool(updated),
        )

    async def retag(
        self,
        ctx: RequestContext,
        target: VikingURI,
        tags: list[str],
        mode: TagMode,
        *,
        recursive: bool,
    ) -> list[str]:
        """Apply normalized ``tags`` with ``mode`` to ``target`` (already resolved for
        writing) and, with ``recursive``, to every path below it; returns the paths tagged.
        Reindexing with tags calls this before it rebuilds the rows."""
        store = self._store
        entry = await self._stat(ctx, target)
        below = recursive and entry.is_dir
        owners = (
            await store.owners.owners_under(ctx.account_id, target)
            if below
            else {await store.owners.owner(ctx.account_id, target)}
        )
        check_owner(ctx, target, owners)
        paths = [target.uri]
        if below:
            paths += await self._paths_below(ctx, target)
        current = await store.tags.lookup(ctx.account_id, paths)
        result = {p: apply_tag_mode(current.get(p, []), tags, mode) for p in paths}
        changes = {p: t for p, t in result.items() if t != current.get(p, [])}
        if changes:
            await store.tags.store(ctx.account_id, changes)
            await self._update_rows(ctx, changes)
        return paths

    async def reindex_tags(self, ctx: RequestContext, req: ReindexRequest) -> None:
        """Set the tags a reindex request carries (``tags``, ``tag_mode``) on the paths it
        rebuilds, before it runs; nothing without tags (unless ``tag_mode`` is ``clear``)."""
        if req.tags is None and req.tag_mode != "clear":
            return
        tags = [] if req.tag_mode == "clear" else normalize_tags(req.tags)
        if req.tag_mode == "replace" and not tags:
            return
        target = self._store.resolve(ctx, req.uri, mutate=True)
        await self.retag(ctx, target, tags, req.tag_mode, recursive=req.recursive)

    async def attrs(self, ctx: RequestContext, req: AttrsRequest) -> AttrsResult:
        """A path's tags and, for a memory file, the fields of its fields block."""
        store = self._store
        target = store.resolve(ctx, req.uri)
        entry = await self._stat(ctx, target)
        context_type = context_type_of(target)
        tags = await store.tags.get(ctx.account_id, target.uri)
        memory = None
        if context_type == "memory" and not entry.is_dir:
            memory = await self._memory_attrs(ctx, target)
        return AttrsResult(
            uri=target.uri, context_type=context_type, attrs=Attrs(tags=tags, memory=memory)
        )

    # -- helpers ---------------------------------------------------------------------------

    async def _stat(self, ctx: RequestContext, target: VikingURI) -> Entry:
        store = self._store
        with store.fs_errors(target):
            return await store.content.stat(store.key(ctx, target))

    async def _paths_below(self, ctx: RequestContext, target: VikingURI) -> list[str]:
        """Every path below the directory ``target``, without hidden (dot) entries."""
        store = self._store
        key = store.key(ctx, target)
        with store.fs_errors(target, "directory"):
            walked = await store.content.walk(key, _WALK_DEPTH, _WALK_ENTRIES)
        out: list[str] = []
        for item in walked:
            rel = item.key[len(key) + 1 :]
            if not any(part.startswith(".") for part in rel.split("/")):
                out.append(target.join(rel).uri)
        return out

    async def _update_rows(self, ctx: RequestContext, changes: dict[str, list[str]]) -> None:
        """Copy the new tags onto the index rows of the changed paths (one update per
        distinct tag list); without a usable index, indexing applies them later."""
        store = self._store
        if not store.indexing_enabled or not store.index.is_open:
            return
        groups: dict[tuple[str, ...], list[str]] = {}
        for uri, tags in changes.items():
            groups.setdefault(tuple(tags), []).append(uri)
        for tags_key, uris in groups.items():
            await store.index.set_tags(ctx.account_id, uris, list(tags_key))

    async def _memory_attrs(self, ctx: RequestContext, target: VikingURI) -> dict[str, Any]:
        store = self._store
        with store.fs_errors(target):
            data = await store.content.read_bytes(store.key(ctx, target))
        try:
            fields = self._memory_fields(data.decode("utf-8", errors="replace"))
        except OpenVikingError as exc:  # a broken fields block: no attributes to show
            logger.warning("attrs of %s: %s", target.uri, exc.message)
            return {}
        attrs = {k: v for k, v in fields.items() if k not in _PRIVATE_MEMORY_FIELDS}
        attrs.setdefault("version", 1)
        return attrs
