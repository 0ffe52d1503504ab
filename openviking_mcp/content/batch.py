"""Batch writes: many files below one directory, checked first, written, refreshed once.

:meth:`BatchWriter.batch_write` checks every operation before it writes anything (URI below
``root_uri`` and writable, one content form, sizes, modes, directories, expected digests,
tags); a bad operation is refused with an error naming its index and nothing is written. The
files are then written in URI order under the path lock of the root (or of the topmost folder
the batch creates, whose creator is recorded), and ONE ``refresh`` task re-indexes the written
files and regenerates each of their folders' tiers once. The task is recorded (held) before
the first write and released after the last, so a crash in between still refreshes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from openviking_mcp.contract.content import BatchWriteOperation, BatchWriteRequest, BatchWriteResult
from openviking_mcp.contract.errors import (
    ConflictError,
    InvalidArgumentError,
    OpenVikingError,
    PayloadTooLargeError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.tags import apply_tag_mode, normalize_tags
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.indexing.service import IndexingService, indexable
from openviking_mcp.storage import Entry
from openviking_mcp.storage.sidecar import ABSTRACT_FILE, OVERVIEW_FILE
from openviking_mcp.store import Store

__all__ = ["MAX_FILE_BYTES", "MAX_OPERATIONS", "MAX_TOTAL_BYTES", "BatchWriter"]

MAX_OPERATIONS = 256
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_TOTAL_BYTES = 16 * 1024 * 1024
_SIDECARS = frozenset({ABSTRACT_FILE, OVERVIEW_FILE})


@dataclass(slots=True)
class _Planned:
    """One checked operation: what to write where (``append``: add to the existing file)."""

    index: int
    target: VikingURI
    data: bytes
    append: bool
    exists: bool
    unchanged: bool = False
    tags: list[str] | None = None


def _bad(index: int, message: str, **details: object) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"operations[{index}]: {message}", {"operation_index": index, **details}
    )


def _payload(index: int, op: BatchWriteOperation) -> bytes:
    """The bytes an operation writes (its one content form, decoded)."""
    if (op.content is None) == (op.content_base64 is None):
        raise _bad(index, "exactly one of content or content_base64 is required")
    if op.content is not None:
        return op.content.encode("utf-8")
    if op.mode == "append":
        raise _bad(index, "append does not take content_base64", field="content_base64")
    try:
        return base64.b64decode(op.content_base64 or "", validate=True)
    except (binascii.Error, ValueError):
        raise _bad(index, "content_base64 is not valid base64", field="content_base64") from None


class BatchWriter:
    """See the module docs."""

    def __init__(self, store: Store, indexing: IndexingService) -> None:
        self._store = store
        self._indexing = indexing

    async def batch_write(self, ctx: RequestContext, req: BatchWriteRequest) -> BatchWriteResult:
        store = self._store
        root = store.resolve(ctx, req.root_uri, field="root_uri", mutate=True)
        planned = await self._plan(ctx, root, req)
        changed = [p for p in planned if not p.unchanged]
        refresh = self._refresh_uris(changed)
        task_id = None
        if refresh and store.indexing_enabled:
            task_id = await self._indexing.queue_refresh(
                ctx, refresh, recursive=False, bubble=False, resource_id=root.uri, hold=True
            )
        try:
            await self._write_all(ctx, root, planned)
        finally:
            if task_id is not None and not await store.tasks.release(task_id):
                task_id = await self._indexing.queue_refresh(
                    ctx, refresh, recursive=False, bubble=False, resource_id=root.uri
                )
        status = await self._status(task_id, req)
        return BatchWriteResult(
            root_uri=root.uri,
            created=[p.target.uri for p in changed if not p.exists],
            updated=[p.target.uri for p in changed if p.exists],
            unchanged=[p.target.uri for p in planned if p.unchanged],
            semantic_status=status,
            vector_status=status,
            task_id=task_id,
        )

    # -- checking --------------------------------------------------------------------------

    async def _plan(
        self, ctx: RequestContext, root: VikingURI, req: BatchWriteRequest
    ) -> list[_Planned]:
        """Every operation checked and turned into a write, in URI order (nothing written)."""
        if not req.operations or len(req.operations) > MAX_OPERATIONS:
            raise InvalidArgumentError(
                f"batch-write takes between 1 and {MAX_OPERATIONS} operations",
                {"operations": len(req.operations), "max": MAX_OPERATIONS},
            )
        planned: list[_Planned] = []
        seen: set[str] = set()
        total = 0
        for index, op in enumerate(req.operations):
            item = await self._check(ctx, root, index, op)
            if item.target.uri in seen:
                raise _bad(index, f"duplicate target {item.target.uri}", uri=item.target.uri)
            seen.add(item.target.uri)
            total += len(item.data)
            if total > MAX_TOTAL_BYTES:
                raise PayloadTooLargeError(
                    f"operations[{index}]: the batch is larger than {MAX_TOTAL_BYTES} bytes",
                    {"operation_index": index, "max_bytes": MAX_TOTAL_BYTES},
                )
            planned.append(item)
        return sorted(planned, key=lambda p: p.target.uri)

    async def _check(
        self, ctx: RequestContext, root: VikingURI, index: int, op: BatchWriteOperation
    ) -> _Planned:
        store = self._store
        try:
            target = store.resolve(ctx, op.uri, mutate=True)
            tags = None if op.tags is None and op.tag_mode != "clear" else normalize_tags(op.tags)
        except InvalidArgumentError as exc:
            raise _bad(index, exc.message, uri=op.uri) from None
        if target.parts[: len(root.parts)] != root.parts or len(target.parts) <= len(root.parts):
            raise _bad(index, f"{target.uri} is not below root_uri {root.uri}", uri=target.uri)
        if target.name in _SIDECARS:
            raise _bad(index, f"cannot write a generated tier file: {target.uri}", uri=target.uri)
        data = _payload(index, op)
        if len(data) > MAX_FILE_BYTES:
            raise PayloadTooLargeError(
                f"operations[{index}]: {target.uri} is larger than {MAX_FILE_BYTES} bytes",
                {"operation_index": index, "uri": target.uri, "max_bytes": MAX_FILE_BYTES},
            )
        entry = await self._entry(ctx, target)
        if entry is not None and entry.is_dir:
            raise _bad(index, f"target is a directory: {target.uri}", uri=target.uri)
        current = await self._current(ctx, target, entry, op)
        if op.expected_sha256 is not None and (
            current is None or hashlib.sha256(current).hexdigest() != op.expected_sha256
        ):
            raise ConflictError(
                f"operations[{index}]: content revision changed: {target.uri}",
                {"operation_index": index, "uri": target.uri},
            )
        append = op.mode == "append" and entry is not None
        unchanged = not append and current == data
        if tags is not None:
            stored = await store.tags.get(ctx.account_id, target.uri)
            tags = apply_tag_mode(stored, tags, op.tag_mode)
            unchanged = unchanged and tags == stored
        return _Planned(index, target, data, append, entry is not None, unchanged, tags)

    async def _entry(self, ctx: RequestContext, target: VikingURI) -> Entry | None:
        try:
            return await self._store.content.stat(self._store.key(ctx, target))
        except FileNotFoundError:
            return None
        except NotADirectoryError:  # a file where a folder of the path should be
            raise InvalidArgumentError(
                f"A parent of {target.uri} is a file", {"uri": target.uri}
            ) from None

    async def _current(
        self, ctx: RequestContext, target: VikingURI, entry: Entry | None, op: BatchWriteOperation
    ) -> bytes | None:
        """The file's bytes when a digest is expected or an unchanged write may be skipped."""
        if entry is None or (op.mode == "append" and op.expected_sha256 is None):
            return None
        if entry.size > MAX_FILE_BYTES and op.expected_sha256 is None:
            return None
        store = self._store
        with store.fs_errors(target):
            return await store.content.read_bytes(store.key(ctx, target))

    # -- writing ---------------------------------------------------------------------------

    async def _write_all(
        self, ctx: RequestContext, root: VikingURI, planned: list[_Planned]
    ) -> None:
        """Write the planned files under one lock (see the module docs)."""
        store = self._store
        scope = root
        while True:
            async with store.locks.lock(store.lock_path(ctx, scope)):
                top = await store.owners.created_top(ctx, root)
                if top is None or len(top.parts) >= len(scope.parts):
                    await self._write_locked(ctx, planned)
                    return
            scope = top  # the batch creates folders above the root: lock the topmost, again

    async def _write_locked(self, ctx: RequestContext, planned: list[_Planned]) -> None:
        store = self._store
        for item in planned:
            if item.tags is not None:
                await store.tags.store(ctx.account_id, {item.target.uri: item.tags})
            if item.unchanged:
                continue
            if not item.exists:
                await store.owners.claim(ctx, item.target)
            with store.fs_errors(item.target):
                await store.content.write_bytes(
                    store.key(ctx, item.target), item.data, append=item.append
                )

    # -- refreshing ------------------------------------------------------------------------

    @staticmethod
    def _refresh_uris(changed: list[_Planned]) -> list[str]:
        """The written files, then each of their folders once, deepest first."""
        files = [p.target.uri for p in changed if indexable(p.target)]
        folders: dict[str, int] = {}
        for item in changed:
            current = item.target.parent
            while current is not None and not current.is_root and indexable(current):
                folders.setdefault(current.uri, len(current.parts))
                current = current.parent
        return files + sorted(folders, key=lambda uri: -folders[uri])

    async def _status(self, task_id: str | None, req: BatchWriteRequest) -> str:
        if task_id is None:
            return "skipped"
        if not req.wait:
            return "queued"
        try:
            record = await self._store.tasks.wait(task_id, req.timeout)
        except OpenVikingError:
            return "queued"  # not done within the timeout: it goes on in the background
        return "complete" if record.status == "completed" else record.status
