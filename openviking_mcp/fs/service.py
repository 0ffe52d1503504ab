"""The filesystem service: ls, tree, stat, mkdir, rm and mv.

Listing rules follow the original: names starting with ``.`` are hidden unless they are
directories or ``show_all_hidden`` is set; directories come first; every listing goes through
the read filter (:func:`~openviking_mcp.contract.access.readable`), so ``viking://user`` lists
only the caller's own space. Removing and moving shared paths follow the owner rule
(:meth:`~openviking_mcp.storage.owners.PathOwners.require`); creations record their creator.
``mkdir`` with a description publishes
:class:`~openviking_mcp.events.Written`, ``rm`` :class:`~openviking_mcp.events.Removed`, ``mv``
:class:`~openviking_mcp.events.Moved`.
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
)
from openviking_mcp.contract.fs import (
    AgentEntry,
    FileEntry,
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
from openviking_mcp.events import Moved, Removed, Writing, Written
from openviking_mcp.storage import Entry
from openviking_mcp.storage.owners import owner_id
from openviking_mcp.storage.sidecar import ABSTRACT_FILE, SIDECAR_FILES, render_sidecar
from openviking_mcp.store import Store, iso_time

__all__ = ["FilesystemService", "check_positive", "listing_cap"]

_MAX_NODE_LIMIT = 100_000


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


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 3, 0)].rstrip() + "..."


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
        return f"[{ABSTRACT_FILE} is not ready]" if body is None else _truncate(body, limit)

    async def _render(
        self, ctx: RequestContext, uri: VikingURI, entry: Entry, output: str, abs_limit: int
    ) -> FileEntry | AgentEntry:
        if output == "agent":
            abstract = await self.dir_abstract(ctx, uri, abs_limit) if entry.is_dir else ""
            return AgentEntry(
                uri=uri.uri,
                size=entry.size,
                is_dir=entry.is_dir,
                mod_time=iso_time(entry.mtime),
                abstract=abstract,
            )
        return FileEntry(
            name=entry.name,
            size=entry.size,
            mode=entry.mode,
            mod_time=iso_time(entry.mtime),
            is_dir=entry.is_dir,
            uri=uri.uri,
        )

    async def ls(
        self, ctx: RequestContext, req: LsRequest
    ) -> list[str] | list[FileEntry] | list[AgentEntry]:
        """Children of a directory (``recursive``: the whole tree, like :meth:`tree`)."""
        cap = listing_cap(req.node_limit)
        if req.recursive:
            tree = TreeRequest(
                uri=req.uri,
                output=req.output,
                abs_limit=req.abs_limit,
                show_all_hidden=req.show_all_hidden,
                node_limit=req.node_limit,
            )
            items = await self.tree(ctx, tree)
            return [item.uri for item in items] if req.simple else items
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
        entries = entries[:cap]
        if req.simple:
            return [base.join(e.name).uri for e in entries]
        rendered = [
            await self._render(ctx, base.join(e.name), e, req.output, req.abs_limit)
            for e in entries
        ]
        return rendered  # type: ignore[return-value]  # one form throughout

    async def tree(
        self, ctx: RequestContext, req: TreeRequest
    ) -> list[FileEntry] | list[AgentEntry]:
        """Descendants depth-first, each with ``rel_path`` (directories end with ``/``)."""
        cap = listing_cap(req.node_limit)
        check_positive("level_limit", req.level_limit, 100)
        if cap == 0:
            await self._store.require_dir(ctx, self._store.resolve(ctx, req.uri))
            return []
        store = self._store
        base = store.resolve(ctx, req.uri)
        await store.require_dir(ctx, base)
        with store.fs_errors(base, "directory"):
            walked = await store.walk_readable(ctx, base, req.level_limit, _MAX_NODE_LIMIT)
        result: list[FileEntry | AgentEntry] = []
        hidden_prefixes: list[str] = []
        for rel, entry, child in walked:
            if any(rel.startswith(p) for p in hidden_prefixes):
                continue
            parent = child.parent or base
            if not self._visible(ctx, parent, [entry], req.show_all_hidden):
                if entry.is_dir:
                    hidden_prefixes.append(rel + "/")
                continue
            item = await self._render(ctx, child, entry, req.output, req.abs_limit)
            item.rel_path = rel + "/" if entry.is_dir else rel
            result.append(item)
            if len(result) >= cap:
                break
        return result  # type: ignore[return-value]  # one form throughout

    async def stat(self, ctx: RequestContext, req: StatRequest) -> StatResult:
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
        )

    # -- structure -------------------------------------------------------------------------

    async def mkdir(self, ctx: RequestContext, req: MkdirRequest) -> MkdirResult:
        """Create a directory (and its parents). ``description`` becomes its L0 abstract."""
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
        """Remove a file or directory. A directory with content needs ``recursive``."""
        store = self._store
        target = store.resolve(ctx, req.uri, mutate=True)
        key = store.key(ctx, target)
        async with store.locks.lock(store.lock_path(ctx, target)):
            with store.fs_errors(target):
                entry = await store.content.stat(key)
                await store.owners.require(ctx, target)
                if entry.is_dir and not req.recursive:
                    children = await store.content.listdir(key)
                    if any(c.name not in SIDECAR_FILES for c in children):
                        raise FailedPreconditionError(
                            f"Cannot remove non-empty directory without recursive: {target.uri}",
                            {"uri": target.uri, "expected_flag": "recursive"},
                        )
                await store.content.remove(key, recursive=entry.is_dir)
                await store.owners.removed(ctx, target)
        await store.events.publish(Removed(ctx, target))
        return RmResult(uri=target.uri, is_dir=entry.is_dir)

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
            if not entry.is_dir and req.to_uri.strip().endswith("/"):
                raise InvalidArgumentError(
                    "Moving a file needs a destination that names the file (no trailing '/')",
                    {"from": source.uri, "to": req.to_uri},
                )
            if await store.content.exists(dst_key):
                raise AlreadyExistsError(dest.uri, "directory" if entry.is_dir else "file")
            await store.owners.require(ctx, source)
            owner = await self._creator(ctx, source)
            await store.owners.claim(ctx, dest)
            with store.fs_errors(dest):
                await store.content.move(src_key, dst_key)
            await store.owners.moved(ctx, source, dest, owner)
        await store.events.publish(Moved(ctx, source, dest))
        return MvResult(from_=source.uri, to=dest.uri)
