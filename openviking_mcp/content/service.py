"""The content service: read, read_bytes, abstract, overview, read_level, write and edit.

Reads pass through the :class:`~openviking_mcp.events.TextRead` filter (memory files lose their
hidden fields block, skills get their reader's secrets back) unless ``raw`` is asked. Writes
and edits run under the file's path lock; they publish :class:`~openviking_mcp.events.Writing`
before the file changes (indexing records its task, held) and
:class:`~openviking_mcp.events.Written` after it (the task is released); the result carries
what the indexing subscriber reports. Between the two is the crash point ``content.written``.

Tiers (``read_level``): directories carry theirs as sidecars (``.abstract.md``,
``.overview.md``) and their ``full`` form is the overview followed by a listing of the
children; a file's abstract and overview are extracted from its text when asked for.
"""

from __future__ import annotations

import contextlib
import posixpath
from collections.abc import Callable

from openviking_mcp import faults
from openviking_mcp.content.batch import BatchWriter
from openviking_mcp.contract.content import (
    NEW_FILE_EXTENSIONS,
    BatchWriteRequest,
    BatchWriteResult,
    EditRequest,
    EditResult,
    IndexStatus,
    ReadLevelRequest,
    ReadLevelResult,
    ReadRequest,
    UriRequest,
    WriteRequest,
    WriteResult,
)
from openviking_mcp.contract.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from openviking_mcp.contract.fs import AgentEntry, LsRequest, StatRequest
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI, context_type_of
from openviking_mcp.events import TextRead, Writing, Written
from openviking_mcp.fs.service import FilesystemService
from openviking_mcp.indexing.service import IndexingService
from openviking_mcp.parsers.text import summarize_text, truncate_text
from openviking_mcp.storage import Entry
from openviking_mcp.storage.sidecar import ABSTRACT_FILE, OVERVIEW_FILE, SIDECAR_FILES
from openviking_mcp.store import Store
from openviking_mcp.tasks.failures import queue_counters

__all__ = ["ContentService", "decode_text"]

_FILE_ABSTRACT_CHARS = 400
_FILE_OVERVIEW_CHARS = 4000
_LISTING_LIMIT = 200

#: ``change(entry, current_bytes) -> (bytes, append) | None`` of :meth:`_write_locked`.
_Change = Callable[[Entry | None, bytes | None], tuple[bytes, bool] | None]


def decode_text(uri: str, data: bytes) -> str:
    """``data`` as UTF-8 text, else ``INVALID_ARGUMENT`` (a binary file)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidArgumentError(
            f"Not a UTF-8 text file: {uri}; use download (read_bytes) for binary content",
            {"uri": uri, "reason": "binary"},
        ) from None


class ContentService:
    """See the module docs."""

    def __init__(self, store: Store, fs: FilesystemService, indexing: IndexingService) -> None:
        self._store = store
        self._fs = fs
        self._batch = BatchWriter(store, indexing)

    # -- reading ---------------------------------------------------------------------------

    async def read_bytes(self, ctx: RequestContext, req: UriRequest) -> bytes:
        """Raw bytes of a file (``download``)."""
        store = self._store
        target = store.resolve(ctx, req.uri)
        with store.fs_errors(target):
            return await store.content.read_bytes(store.key(ctx, target))

    async def read(self, ctx: RequestContext, req: ReadRequest) -> str:
        """Text of a file (L2); ``offset``/``limit`` select lines."""
        if req.offset < 0 or req.limit < -1:
            raise InvalidArgumentError(
                "offset must be >= 0 and limit >= -1", {"offset": req.offset, "limit": req.limit}
            )
        target = self._store.resolve(ctx, req.uri)
        text = decode_text(req.uri, await self.read_bytes(ctx, UriRequest(uri=req.uri)))
        if not req.raw:
            text = await self._store.events.filter(TextRead(ctx, target), text)
        if req.offset == 0 and req.limit == -1:
            return text
        lines = text.splitlines(keepends=True)
        end = None if req.limit == -1 else req.offset + req.limit
        return "".join(lines[req.offset : end])

    async def _sidecar(self, ctx: RequestContext, uri: str, name: str, placeholder: str) -> str:
        store = self._store
        target = store.resolve(ctx, uri)
        with store.fs_errors(target):
            entry = await store.content.stat(store.key(ctx, target))
        directory = target if entry.is_dir else (target.parent or target)
        body = await store.sidecar_body(store.key(ctx, directory), name)
        return placeholder.format(uri=directory.uri) if body is None else body

    async def abstract(self, ctx: RequestContext, req: UriRequest) -> str:
        """L0 of a directory (a file's parent directory), body only."""
        return await self._sidecar(
            ctx, req.uri, ABSTRACT_FILE, "# {uri} [Directory abstract is not ready]"
        )

    async def overview(self, ctx: RequestContext, req: UriRequest) -> str:
        """L1 of a directory (a file's parent directory), body only."""
        return await self._sidecar(
            ctx, req.uri, OVERVIEW_FILE, "# {uri}\n\n[Directory overview is not ready]"
        )

    async def read_level(self, ctx: RequestContext, req: ReadLevelRequest) -> ReadLevelResult:
        """A file or directory at one tier (see the module docs)."""
        info = await self._fs.stat(ctx, StatRequest(uri=req.uri))
        if info.is_dir:
            text = await self._dir_level(ctx, info.uri, req.level)
        else:
            text = await self.read(ctx, ReadRequest(uri=info.uri))
            if req.level == "abstract":
                text = summarize_text(info.name, text, _FILE_ABSTRACT_CHARS)
            elif req.level == "overview":
                text = truncate_text(text, _FILE_OVERVIEW_CHARS)
        return ReadLevelResult(
            uri=info.uri,
            level=req.level,
            is_dir=info.is_dir,
            context_type=info.context_type,
            text=text,
        )

    async def _dir_level(self, ctx: RequestContext, uri: str, level: str) -> str:
        if level == "abstract":
            return await self.abstract(ctx, UriRequest(uri=uri))
        overview = await self.overview(ctx, UriRequest(uri=uri))
        if level == "overview":
            return overview
        listing = LsRequest(uri=uri, output="agent", node_limit=_LISTING_LIMIT)
        entries = await self._fs.ls(ctx, listing)
        lines = [_listing_line(e) for e in entries if isinstance(e, AgentEntry)]
        body = "\n".join(lines) if lines else "(empty directory)"
        return f"{overview.rstrip()}\n\n## Contents of {uri}\n\n{body}\n"

    # -- writing ---------------------------------------------------------------------------

    async def _write_locked(
        self, ctx: RequestContext, target: VikingURI, change: _Change, *, read: bool = False
    ) -> tuple[int | None, str | None]:
        """Read-modify-write of one file under its path lock.

        ``change(entry, data)`` gets the file's entry (``None`` if missing) and, with ``read``,
        its current bytes; it returns ``(bytes, append)`` to write or ``None`` to leave the file
        alone, and raises to refuse. Returns the bytes written (``None``: nothing written) and
        the refresh task reserved before the write (:class:`Writing`), for :meth:`_indexed`.
        The lock covers the read and the write, so no concurrent write is lost in between. A
        new file in a shared scope that creates folders is written under the lock of the
        topmost folder it creates, so its creator record and the folder are made together.
        """
        store = self._store
        scope = target
        while True:
            async with store.locks.lock(store.lock_path(ctx, scope)):
                try:
                    entry: Entry | None = await store.content.stat(store.key(ctx, target))
                except FileNotFoundError:
                    entry = None
                top = await store.owners.created_top(ctx, target) if entry is None else None
                if top is None or len(top.parts) >= len(scope.parts):
                    return await self._change(ctx, target, entry, top, change, read)
            scope = top  # a folder this write creates is not locked yet: lock it, look again

    async def _change(
        self,
        ctx: RequestContext,
        target: VikingURI,
        entry: Entry | None,
        top: VikingURI | None,
        change: _Change,
        read: bool,
    ) -> tuple[int | None, str | None]:
        """The locked part of :meth:`_write_locked`; ``top``: the path whose creator the write
        records. The refresh task is recorded (held) before the file is written and released
        by :meth:`_indexed`, also when the write fails."""
        store = self._store
        key = store.key(ctx, target)
        if entry is not None and entry.is_dir:
            raise InvalidArgumentError(
                f"Cannot write to a directory: {target.uri}",
                {"uri": target.uri, "reason": "is_directory"},
            )
        current: bytes | None = None
        if read and entry is not None:
            with store.fs_errors(target):
                current = await store.content.read_bytes(key)
        planned = change(entry, current)
        if planned is None:
            return None, None
        data, append = planned
        if top is not None:  # a new file (and maybe folders): its creator is recorded
            await store.owners.record_created(ctx, top)
        reserved: str | None = (await store.events.report(Writing(ctx, target))).get("task_id")
        try:
            with store.fs_errors(target):
                written = await store.content.write_bytes(key, data, append=append)
        except BaseException:
            if reserved is not None:
                with contextlib.suppress(Exception):
                    await self._indexed(ctx, target, False, None, reserved)
            raise
        faults.point("content.written")
        return written, reserved

    async def _indexed(
        self,
        ctx: RequestContext,
        target: VikingURI,
        wait: bool,
        timeout: float | None,
        reserved: str | None,
    ) -> IndexStatus:
        event = Written(ctx, target, wait, timeout, task_id=reserved)
        report = await self._store.events.report(event)
        return IndexStatus.model_validate(report) if report else IndexStatus()

    async def write(self, ctx: RequestContext, req: WriteRequest) -> WriteResult:
        """Write a text file atomically, then refresh its tiers and vectors.

        A missing file is created in every mode, its parents and creator record as for
        ``create`` (see :func:`_check_new_file` for what ``replace``/``append`` may create);
        ``create`` refuses an existing file. With ``wait`` the call returns once the file is
        re-embedded and its directory's L0/L1 regenerated, with the per-queue counters;
        otherwise that work is queued (``task_id``).
        """
        target = self._store.resolve(ctx, req.uri, mutate=True)

        def change(entry: Entry | None, _: bytes | None) -> tuple[bytes, bool]:
            if entry is None:
                if req.mode != "create":
                    _check_new_file(target)
                return req.content.encode("utf-8"), False
            if req.mode == "create":
                raise AlreadyExistsError(target.uri, "file")
            return req.content.encode("utf-8"), req.mode == "append"

        written, reserved = await self._write_locked(ctx, target, change)
        status = await self._indexed(ctx, target, req.wait, req.timeout, reserved)
        queues = await queue_counters(self._store, ctx) if req.wait else None
        return WriteResult(
            uri=target.uri,
            root_uri=(target.parent or target).uri,
            context_type=context_type_of(target),
            mode=req.mode,
            written_bytes=written or 0,
            queue_status=queues,
            **status.model_dump(exclude_none=True),
        )

    async def batch_write(self, ctx: RequestContext, req: BatchWriteRequest) -> BatchWriteResult:
        """Write many files below one directory, then refresh them in one task (see
        :mod:`openviking_mcp.content.batch`)."""
        return await self._batch.batch_write(ctx, req)

    async def edit(self, ctx: RequestContext, req: EditRequest) -> EditResult:
        """Replace an exact substring of a UTF-8 text file, then refresh its tiers and vectors.

        The file is read and rewritten under the same path lock as :meth:`write`, so a
        concurrent append is never lost. ``old_string == new_string`` writes nothing
        (``changed: False``).
        """
        if not req.old_string:
            raise InvalidArgumentError(
                "old_string must not be empty (use write to create or replace a whole file)",
                {"field": "old_string"},
            )
        target = self._store.resolve(ctx, req.uri, mutate=True)
        replaced = [0]

        def change(entry: Entry | None, data: bytes | None) -> tuple[bytes, bool] | None:
            if entry is None or data is None:
                raise NotFoundError(target.uri, "file")
            text = decode_text(target.uri, data)
            replaced[0] = _count_replacements(target.uri, text, req)
            if req.old_string == req.new_string:
                return None
            count = -1 if req.replace_all else 1
            return text.replace(req.old_string, req.new_string, count).encode(), False

        written, reserved = await self._write_locked(ctx, target, change, read=True)
        changed = written is not None
        status = (
            await self._indexed(ctx, target, req.wait, req.timeout, reserved)
            if changed
            else IndexStatus()
        )
        return EditResult(
            uri=target.uri,
            context_type=context_type_of(target),
            replacements=replaced[0] if changed else 0,
            written_bytes=written or 0,
            changed=changed,
            **status.model_dump(exclude_none=True),
        )


def _check_new_file(target: VikingURI) -> None:
    """What ``replace``/``append`` may create: a file named with one of
    :data:`NEW_FILE_EXTENSIONS`, never a directory's generated ``.abstract.md`` or
    ``.overview.md`` (``INVALID_ARGUMENT`` otherwise)."""
    name = target.name
    if name in SIDECAR_FILES:
        raise InvalidArgumentError(
            f"cannot create generated abstract overview directly: {target.uri}",
            {"uri": target.uri, "reason": "sidecar"},
        )
    ext = posixpath.splitext(name)[1]
    if ext.lower() not in NEW_FILE_EXTENSIONS:
        raise InvalidArgumentError(
            f"creating a new file does not allow extension '{ext}': {target.uri}",
            {
                "uri": target.uri,
                "extension": ext,
                "allowed": sorted(NEW_FILE_EXTENSIONS),
                "hint": "mode=create creates a file of any name",
            },
        )


def _count_replacements(uri: str, text: str, req: EditRequest) -> int:
    """How many occurrences an edit replaces; refuses none, or several without
    ``replace_all``."""
    matches = text.count(req.old_string)
    if matches == 0:
        raise InvalidArgumentError(f"old_string not found in {uri}", {"uri": uri, "matches": 0})
    if req.old_string == req.new_string:
        return 0
    if matches > 1 and not req.replace_all:
        raise InvalidArgumentError(
            f"old_string occurs {matches} times in {uri}; pass replace_all=true to replace every "
            "occurrence, or include more surrounding context to make it unique",
            {"uri": uri, "matches": matches},
        )
    return matches if req.replace_all else 1


def _listing_line(entry: AgentEntry) -> str:
    if entry.is_dir:
        return f"- {entry.uri}/" + (f" - {entry.abstract}" if entry.abstract else "")
    return f"- {entry.uri} ({entry.size} B)"
