"""The filesystem service: ls, tree, stat, mkdir, rm, mv and cp.

Listing rules follow the original: names starting with ``.`` are hidden unless they are
directories or ``show_all_hidden`` is set; directories come first; every listing goes through
the read filter (:func:`~openviking_mcp.contract.access.readable`), so ``viking://user`` lists
only the caller's own space. Removing and moving shared paths follow the owner rule
(:meth:`~openviking_mcp.storage.owners.PathOwners.require`); creations record their creator.
``mkdir`` with a description publishes
:class:`~openviking_mcp.events.Written`, ``rm`` :class:`~openviking_mcp.events.Removed`, ``mv``
:class:`~openviking_mcp.events.Moved`, ``cp`` :class:`~openviking_mcp.events.Copied` (the copy
is indexed as new content). Listings are paged (see :mod:`openviking_mcp.fs.listing`).
"""

from __future__ import annotations

import contextlib
from typing import Any

from openviking_mcp.contract.access import is_shared, readable
from openviking_mcp.contract.errors import (
    AlreadyExistsError,
    ConflictError,
    FailedPreconditionError,
    InvalidArgumentError,
    UnimplementedError,
)
from openviking_mcp.contract.fs import (
    AgentEntry,
    CpRequest,
    CpResult,
    FileEntry,
    ListingPage,
    ListingRequest,
    LsRequest,
    MkdirRequest,
    MkdirResult,
    MvRequest,
    MvResult,
    RmRequest,
    RmResult,
    StatRequest,
    StatResult,
    TreeRequest,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI, context_type_of
from openviking_mcp.events import Copied, Moved, Removed, Writing, Written
from openviking_mcp.fs.copy import copy_entry
from openviking_mcp.fs.listing import (
    EntryRenderer,
    file_record_id,
    page,
    readable_row_count,
    truncate_abstract,
)
from openviking_mcp.storage import Entry
from openviking_mcp.storage.owners import owner_id
from openviking_mcp.storage.sidecar import ABSTRACT_FILE, render_sidecar
from openviking_mcp.store import Store, iso_time

__all__ = ["FilesystemService", "check_positive", "listing_cap"]

_MAX_NODE_LIMIT = 100_000

Listed = FileEntry | AgentEntry


def check_positive(name: str, value: int, maximum: int = _MAX_NODE_LIMIT) -> int:
    """``value`` if it is an integer between 1 and ``maximum``, else ``INVALID_ARGUMENT``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1 or value > maximum:
        raise InvalidArgumentError(
            f"{name} must be an integer between 1 and {maximum}", {"field": name, "value": value}
        )
    return value


def listing_cap(node_limit: int) -> int:
    """How many entries ``ls``/``tree`` return for ``node_limit``, as the original answers:
    ``0`` none, a negative value one (its paging stops after the first entry), anything
    above :data:`_MAX_NODE_LIMIT` that bound."""
    if not isinstance(node_limit, int) or isinstance(node_limit, bool):
        raise InvalidArgumentError("node_limit must be an integer", {"field": "node_limit"})
    if node_limit < 0:
        return 1
    return min(node_limit, _MAX_NODE_LIMIT)


class FilesystemService:
    """See the module docs."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # -- listing ---------------------------------------------------------------------------

    def _visible(
        self, ctx: RequestContext, parent: VikingURI, entries: list[Entry], show_all_hidden: bool
    ) -> list[Entry]:
        shown = [e for e in entries if show_all_hidden or e.is_dir or not e.name.startswith(".")]
        prefix = parent.uri if parent.is_root else parent.uri + "/"
        return readable(ctx, shown, lambda e: prefix + e.name)

    async def dir_abstract(self, ctx: RequestContext, uri: VikingURI, limit: int) -> str:
        """A directory's L0 body cut to ``limit`` characters (a placeholder if missing)."""
        body = await self._store.sidecar_body(self._store.key(ctx, uri), ABSTRACT_FILE)
        return f"[{ABSTRACT_FILE} is not ready]" if body is None else truncate_abstract(body, limit)

    async def ls(self, ctx: RequestContext, req: LsRequest) -> list[str] | list[Listed]:
        """One page of :meth:`ls_page`, without ``has_more``."""
        return (await self.ls_page(ctx, req)).result

    async def ls_page(self, ctx: RequestContext, req: LsRequest) -> ListingPage:
        """Children of a directory, one page (``recursive``: the whole tree, as
        :meth:`tree_page`). ``simple`` gives URIs, unless ``extra_fields`` are asked for."""
        simple = req.simple and not req.extra_fields
        if req.recursive:
            fields = req.model_dump(include=set(ListingRequest.model_fields))
            walked = await self.tree_page(ctx, TreeRequest.model_validate(fields))
            if simple:
                uris = [item.uri for item in walked.result if not isinstance(item, str)]
                return ListingPage(result=uris, has_more=walked.has_more)
            return walked
        cap = listing_cap(req.page_size)
        store = self._store
        base = store.resolve(ctx, req.uri)
        await store.require_dir(ctx, base)
        with store.fs_errors(base, "directory"):
            listed = await store.content.listdir(store.key(ctx, base))
        entries = self._visible(ctx, base, listed, req.show_all_hidden)

        def order(e: Entry) -> tuple[bool, Any]:
            return (not e.is_dir, e.mtime if req.sort_by == "mtime" else e.name)

        entries.sort(key=order, reverse=req.sort_order == "desc")
        if req.sort_order == "desc":  # directories stay first
            entries.sort(key=lambda e: not e.is_dir)
        tags = await self._tags(ctx, [base.join(e.name).uri for e in entries], req)
        if tags is not None and req.tags:
            entries = [e for e in entries if base.join(e.name).uri in tags]
        chosen, more = page(entries, req.offset, cap, req.page_size)
        if simple:
            return ListingPage(result=[base.join(e.name).uri for e in chosen], has_more=more)
        renderer = EntryRenderer(store, ctx, req, tags)
        rendered = [await renderer.render(base.join(e.name), e) for e in chosen]
        return ListingPage(result=rendered, has_more=more)

    async def _tags(
        self, ctx: RequestContext, uris: list[str], req: ListingRequest
    ) -> dict[str, list[str]] | None:
        """The stored tags of those of ``uris`` that carry all of ``req.tags`` (see
        :meth:`PathTags.carrying`); ``None`` when the request asks for no tags at all."""
        shown = req.include_tags or "tags" in (req.extra_fields or ())
        return await self._store.tags.carrying(ctx.account_id, uris, req.tags, shown=shown)

    async def tree(self, ctx: RequestContext, req: TreeRequest) -> list[Listed]:
        """One page of :meth:`tree_page`, without ``has_more``."""
        return [
            item for item in (await self.tree_page(ctx, req)).result if not isinstance(item, str)
        ]

    async def tree_page(self, ctx: RequestContext, req: TreeRequest) -> ListingPage:
        """Descendants depth-first, each with ``rel_path`` (directories end with ``/``), one
        page; ``directories_only`` leaves files out (their folders are still walked)."""
        cap = listing_cap(req.page_size)
        check_positive("level_limit", req.level_limit, 100)
        store = self._store
        base = store.resolve(ctx, req.uri)
        await store.require_dir(ctx, base)
        if cap == 0:
            return ListingPage(result=[], has_more=False)
        with store.fs_errors(base, "directory"):
            walked = await store.walk_readable(ctx, base, req.level_limit, _MAX_NODE_LIMIT)
        shown: list[tuple[str, Entry, VikingURI]] = []
        hidden_prefixes: list[str] = []
        for rel, entry, child in walked:
            if any(rel.startswith(p) for p in hidden_prefixes):
                continue
            parent = child.parent or base
            if not self._visible(ctx, parent, [entry], req.show_all_hidden):
                if entry.is_dir:
                    hidden_prefixes.append(rel + "/")
                continue
            if req.directories_only and not entry.is_dir:
                continue
            shown.append((rel + "/" if entry.is_dir else rel, entry, child))
            if not req.tags and len(shown) > req.offset + cap:  # one more tells has_more
                break
        tags = await self._tags(ctx, [child.uri for _, _, child in shown], req)
        if tags is not None and req.tags:
            shown = [item for item in shown if item[2].uri in tags]
        chosen, more = page(shown, req.offset, cap, req.page_size)
        renderer = EntryRenderer(store, ctx, req, tags)
        result = [await renderer.render(child, entry, rel) for rel, entry, child in chosen]
        return ListingPage(result=result, has_more=more)

    async def stat(self, ctx: RequestContext, req: StatRequest) -> StatResult:
        """The entry at ``uri``; a directory adds ``count`` (the index rows under it that the
        caller may read; none without an index), a file ``id`` (its index record id)."""
        store = self._store
        target = store.resolve(ctx, req.uri)
        with store.fs_errors(target):
            entry = await store.content.stat(store.key(ctx, target))
        return StatResult(
            name=target.name,
            size=entry.size,
            mode=entry.mode,
            mod_time=iso_time(entry.mtime),
            is_dir=entry.is_dir,
            is_locked=store.locks.is_locked(store.lock_path(ctx, target)),
            uri=target.uri,
            context_type=context_type_of(target),
            count=await readable_row_count(store, ctx, target)
            if entry.is_dir and store.indexing_enabled
            else None,
            id=None if entry.is_dir else await file_record_id(store, ctx, target),
        )

    # -- structure -------------------------------------------------------------------------

    async def mkdir(self, ctx: RequestContext, req: MkdirRequest) -> MkdirResult:
        """Create a directory (and its parents). ``description`` becomes its L0 abstract. An
        ``acl`` is refused: ignoring it would leave the directory less restricted than asked."""
        if req.acl:
            raise UnimplementedError("'acl' is not supported by this server", {"field": "acl"})
        store = self._store
        target = store.resolve(ctx, req.uri, mutate=True)
        key = store.key(ctx, target)
        described = bool(req.description and req.description.strip())
        reserved: str | None = None
        async with store.locks.lock(store.lock_path(ctx, target)):
            if await store.content.exists(key):  # as the original: 409 CONFLICT
                raise ConflictError(f"already exists: {target.uri}", {"resource": target.uri})
            await store.owners.claim(ctx, target)
            if described:  # its refresh is recorded (held) before the description is written
                reserved = (await store.events.report(Writing(ctx, target))).get("task_id")
            try:
                with store.fs_errors(target, "directory"):
                    await store.content.mkdir(key)
                    if described:
                        text = render_sidecar(
                            target.uri, str(req.description), component="user", trigger="mkdir"
                        )
                        await store.content.write_bytes(f"{key}/{ABSTRACT_FILE}", text.encode())
            except BaseException:
                if reserved is not None:  # released, never left held
                    with contextlib.suppress(Exception):
                        await store.events.publish(Written(ctx, target, task_id=reserved))
                raise
        if described:
            await store.events.publish(Written(ctx, target, task_id=reserved))
        return MkdirResult(uri=target.uri)

    async def _creator(self, ctx: RequestContext, uri: VikingURI) -> str:
        """Who created ``uri``: recorded for shared paths, the mover for their own space."""
        if is_shared(uri):
            return await self._store.owners.owner(ctx.account_id, uri)
        return owner_id(ctx)

    async def rm(self, ctx: RequestContext, req: RmRequest) -> RmResult:
        """Remove a file or directory; any directory needs ``recursive``. Removing a path
        that does not exist succeeds (its leftover index rows are dropped), as the original
        does, so a removal can be retried."""
        store = self._store
        target = store.resolve(ctx, req.uri, mutate=True)
        key = store.key(ctx, target)
        async with store.locks.lock(store.lock_path(ctx, target)):
            if not await store.content.exists(key):
                await store.events.publish(Removed(ctx, target))
                return RmResult(uri=target.uri, is_dir=False, estimated_deleted_count=0)
            with store.fs_errors(target):
                entry = await store.content.stat(key)
                await store.owners.require(ctx, target)
                if entry.is_dir and not req.recursive:
                    raise FailedPreconditionError(
                        f"Cannot remove directory without recursive: {target.uri}",
                        {"uri": target.uri, "resource": target.uri, "expected_flag": "recursive"},
                    )
                await store.content.remove(key, recursive=entry.is_dir)
                await store.owners.removed(ctx, target)
        await store.events.publish(Removed(ctx, target))
        return RmResult(uri=target.uri, is_dir=entry.is_dir)

    async def _check_destination(
        self,
        doing: str,
        entry: Entry,
        source: VikingURI,
        dest: VikingURI,
        dst_key: str,
        asked: str,
    ) -> None:
        """A move or copy of ``entry`` to ``dest`` (stored at ``dst_key``): a file needs a
        destination that names the file (``asked`` without a trailing ``/``), and ``dest`` must
        not exist."""
        if not entry.is_dir and asked.strip().endswith("/"):
            raise InvalidArgumentError(
                f"{doing} a file needs a destination that names the file (no trailing '/')",
                {"from": source.uri, "to": asked},
            )
        if await self._store.content.exists(dst_key):
            raise AlreadyExistsError(dest.uri, "directory" if entry.is_dir else "file")

    async def mv(self, ctx: RequestContext, req: MvRequest) -> MvResult:
        """Move or rename. The destination must not exist; its parents are created."""
        store = self._store
        source = store.resolve(ctx, req.from_uri, field="from_uri", mutate=True)
        dest = store.resolve(ctx, req.to_uri, field="to_uri", mutate=True)
        if source.is_ancestor_of(dest):
            raise InvalidArgumentError(
                f"Cannot move {source.uri} into itself ({dest.uri})",
                {"from": source.uri, "to": dest.uri},
            )
        src_key, dst_key = store.key(ctx, source), store.key(ctx, dest)
        async with store.locks.lock(store.lock_path(ctx, source), store.lock_path(ctx, dest)):
            with store.fs_errors(source):
                entry = await store.content.stat(src_key)
            await self._check_destination("Moving", entry, source, dest, dst_key, req.to_uri)
            await store.owners.require(ctx, source)
            owner = await self._creator(ctx, source)
            await store.owners.claim(ctx, dest)
            with store.fs_errors(dest):
                await store.content.move(src_key, dst_key)
            await store.owners.moved(ctx, source, dest, owner)
        await store.events.publish(Moved(ctx, source, dest))
        return MvResult(from_=source.uri, to=dest.uri)

    async def cp(self, ctx: RequestContext, req: CpRequest) -> CpResult:
        """Copy a file, or a directory with ``recursive``. The source needs read access, the
        destination write access and must not exist (its parents are created); the two must
        not overlap. The caller is recorded as the creator of the copy."""
        store = self._store
        source = store.resolve(ctx, req.from_uri, field="from_uri")
        dest = store.resolve(ctx, req.to_uri, field="to_uri", mutate=True)
        if source.is_ancestor_of(dest) or dest.is_ancestor_of(source):
            raise InvalidArgumentError(
                f"Cannot copy {source.uri} into itself ({dest.uri})",
                {"from": source.uri, "to": dest.uri},
            )
        src_key, dst_key = store.key(ctx, source), store.key(ctx, dest)
        async with store.locks.lock(store.lock_path(ctx, source), store.lock_path(ctx, dest)):
            with store.fs_errors(source):
                entry = await store.content.stat(src_key)
            if entry.is_dir and not req.recursive:
                raise InvalidArgumentError(
                    f"Cannot copy directory without --recursive: {source.uri}",
                    {"resource": source.uri, "expected_flag": "recursive"},
                )
            await self._check_destination("Copying", entry, source, dest, dst_key, req.to_uri)
            await store.owners.claim(ctx, dest)
            try:
                with store.fs_errors(dest):
                    created = await copy_entry(store.content, src_key, dst_key, is_dir=entry.is_dir)
            except BaseException:
                with contextlib.suppress(Exception):
                    await store.owners.removed(ctx, dest)
                raise
        status = await store.events.report(Copied(ctx, source, dest))
        return CpResult(
            from_=source.uri,
            to=dest.uri,
            recursive=entry.is_dir,
            files_created=created,
            semantic_status=status.get("semantic_status"),
            vector_status=status.get("vector_status"),
            task_id=status.get("task_id"),
        )
