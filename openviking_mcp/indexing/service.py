"""The indexing service: keeps tiers and vectors in step with content.

It subscribes to the content events (see :meth:`IndexingService.subscribe`):

* files get L2 rows, one per passage; directories get L0/L1 sidecars and rows;
* directory tiers are regenerated bottom-up and the change *bubbles up* to the scope root, so
  a parent's overview always lists what its children now hold;
* an L0 written by a user (``mkdir --description``), a preset or a skill is kept, and used as
  the introduction of the regenerated overview.

The work runs as ``refresh`` tasks on the durable queue (interactive priority for single
writes), so it survives restarts. A write's task is recorded *before* the write (held, on
:class:`~openviking_mcp.events.Writing`) and released after it (on ``Written``): a process
killed in between leaves a task that runs anyway, and finds the file written (it indexes it) or
not (it drops stale rows and regenerates the folders' tiers). Refresh tasks run in batches
(:meth:`IndexingService._task_refresh_batch`): the writes released while one batch runs are
embedded, upserted and their folders regenerated together in the next, and the index is
optimized once writes go quiet. Sessions and privacy folders and dot-files are never indexed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from openviking_mcp.config import SemanticConfig
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI, parse_uri
from openviking_mcp.events import (
    Copied,
    EventBus,
    LayoutCreated,
    Moved,
    Removed,
    TextIndexed,
    Writing,
    Written,
)
from openviking_mcp.indexing.bounded import run_bounded
from openviking_mcp.indexing.llm_summary import LLMSummarizer
from openviking_mcp.indexing.rows import RecordBuffer, directory_rows, file_rows
from openviking_mcp.indexing.semantic import FileInfo, SemanticBuilder
from openviking_mcp.indexing.summarize import ChildInfo
from openviking_mcp.storage.index import IndexFilter, record_id
from openviking_mcp.storage.queue import BULK, INTERACTIVE, TaskHandle
from openviking_mcp.storage.sidecar import (
    ABSTRACT_FILE,
    OVERVIEW_FILE,
    render_sidecar,
    sidecar_body,
    sidecar_meta,
)
from openviking_mcp.store import Store

__all__ = ["REFRESH_TASK", "IndexingService", "RefreshJob", "indexable", "utf8_prefix"]

logger = logging.getLogger("openviking_mcp.indexing")

REFRESH_TASK = "refresh"
_UNINDEXED_USER_AREAS = frozenset({"sessions", "privacy"})
_KEEP_ABSTRACT_FROM = frozenset({"user", "preset", "skill"})
_MAX_DESCRIBED_CHILDREN = 200
#: Refresh tasks run together (see :meth:`IndexingService._task_refresh_batch`), and how long
#: a worker waits for more while writes are in flight.
_BATCH_TASKS = 128
_BATCH_LINGER = 0.02
#: How long after the last refresh the index is optimized.
_QUIET_SECONDS = 0.5


def utf8_prefix(data: bytes, limit: int) -> bytes:
    """The first ``limit`` bytes of ``data``, without a UTF-8 character cut in half."""
    cut = data[:limit]
    for back in range(1, min(4, len(cut)) + 1):
        byte = cut[-back]
        if byte & 0xC0 != 0x80:  # the first byte of the last character
            size = 4 if byte >= 0xF0 else 3 if byte >= 0xE0 else 2 if byte >= 0xC0 else 1
            return cut if size <= back else cut[:-back]
    return cut


def indexable(uri: VikingURI) -> bool:
    """Whether ``uri`` belongs in the search index."""
    parts = uri.parts
    if not parts or any(p.startswith(".") for p in parts):
        return False
    return not (parts[0] == "user" and len(parts) >= 3 and parts[2] in _UNINDEXED_USER_AREAS)


@dataclass(slots=True)
class RefreshJob:
    """One refresh's shared state: the row buffer and the file descriptions known so far
    (an import passes the ones its parsers made)."""

    ctx: RequestContext
    buffer: RecordBuffer
    infos: dict[str, FileInfo] = field(default_factory=dict)
    semantic: bool = True
    files_seen: int = 0
    files_done: int = 0
    dirs_done: int = 0
    warnings: list[str] = field(default_factory=list)


class IndexingService:
    """See the module docs."""

    def __init__(self, store: Store, semantic: SemanticConfig) -> None:
        self._store = store
        llm = store.llm
        self.semantic = SemanticBuilder(
            semantic, LLMSummarizer(llm.complete) if llm is not None else None
        )
        self._quiet_timer: asyncio.TimerHandle | None = None

    def subscribe(self, events: EventBus) -> None:
        """React to content changes and run the ``refresh`` task."""
        events.subscribe(Writing, self._writing)
        events.subscribe(Written, self._written)
        events.subscribe(Removed, self._removed)
        events.subscribe(Moved, self._moved)
        events.subscribe(Copied, self._copied)
        events.subscribe(LayoutCreated, self._layout_created)
        self._store.tasks.register_batch(
            REFRESH_TASK, self._task_refresh_batch, max_tasks=_BATCH_TASKS, linger=_BATCH_LINGER
        )

    # -- queueing --------------------------------------------------------------------------

    async def queue_refresh(
        self,
        ctx: RequestContext,
        uris: list[str],
        *,
        recursive: bool,
        bubble: bool = True,
        semantic: bool = True,
        priority: int = INTERACTIVE,
        resource_id: str | None = None,
        hold: bool = False,
    ) -> str:
        """Queue a ``refresh`` task; returns its id. ``hold``: see :meth:`TaskQueue.submit`."""
        payload = {"uris": uris, "recursive": recursive, "bubble": bubble, "semantic": semantic}
        return await self._store.tasks.submit(
            REFRESH_TASK, ctx, payload, priority=priority, resource_id=resource_id, hold=hold
        )

    async def _writing(self, event: Writing) -> dict[str, Any]:
        """Record the refresh of a file about to be written, held until :meth:`_written`."""
        uri = event.uri
        if not indexable(uri) or not self._store.indexing_enabled:
            return {}
        task_id = await self.queue_refresh(
            event.ctx, [uri.uri], recursive=False, resource_id=uri.uri, hold=True
        )
        return {"task_id": task_id}

    async def _written(self, event: Written) -> dict[str, Any]:
        ctx, uri = event.ctx, event.uri
        task_id = event.task_id
        if task_id is not None and not await self._store.tasks.release(task_id):
            task_id = None  # held past its lease, it may have run before the write: again
        if not indexable(uri) or not self._store.indexing_enabled:
            return {"semantic_status": "skipped", "vector_status": "skipped"}
        if task_id is None:
            task_id = await self.queue_refresh(ctx, [uri.uri], recursive=False, resource_id=uri.uri)
        if event.wait:
            record = await self._store.tasks.wait(task_id, event.timeout)
            status = "complete" if record.status == "completed" else record.status
            return {"semantic_status": status, "vector_status": status, "task_id": task_id}
        return {"semantic_status": "queued", "vector_status": "queued", "task_id": task_id}

    async def forget(self, ctx: RequestContext, uri: VikingURI) -> None:
        """Drop the index rows at and below ``uri`` (nothing without a usable index)."""
        if self._store.indexing_enabled:
            flt = IndexFilter(account_id=ctx.account_id, uri_prefixes=(uri.uri,))
            await self._store.index.delete(flt)

    async def _removed(self, event: Removed) -> None:
        if not self._store.indexing_enabled:
            return
        await self.forget(event.ctx, event.uri)
        await self._queue_parent_refresh(event.ctx, event.uri)

    async def _moved(self, event: Moved) -> None:
        if not self._store.indexing_enabled:
            return
        await self.forget(event.ctx, event.source)
        await self._queue_parent_refresh(event.ctx, event.source)
        if indexable(event.dest):
            await self.queue_refresh(
                event.ctx, [event.dest.uri], recursive=True, resource_id=event.dest.uri
            )

    async def _copied(self, event: Copied) -> dict[str, Any]:
        """Index the copy as new content (its folder's tiers are refreshed as it bubbles)."""
        dest = event.dest
        if not indexable(dest) or not self._store.indexing_enabled:
            return {"semantic_status": "skipped", "vector_status": "skipped"}
        task_id = await self.queue_refresh(
            event.ctx, [dest.uri], recursive=True, resource_id=dest.uri
        )
        return {"semantic_status": "queued", "vector_status": "queued", "task_id": task_id}

    async def _queue_parent_refresh(self, ctx: RequestContext, uri: VikingURI) -> None:
        parent = uri.parent
        if parent is not None and indexable(parent):
            await self.queue_refresh(ctx, [parent.uri], recursive=False, resource_id=parent.uri)

    async def _layout_created(self, event: LayoutCreated) -> None:
        uris = [d.uri for d in event.dirs if indexable(d)]
        if not uris:
            return
        owner = RequestContext.root(event.account_id)
        await self.queue_refresh(
            owner, uris, recursive=False, bubble=False, semantic=False, priority=BULK
        )

    # -- the refresh task ------------------------------------------------------------------

    async def _task_refresh_batch(self, tasks: list[TaskHandle]) -> dict[str, Any]:
        """Refresh tasks of one caller in one go: one refresh per set of options, so the rows
        of many writes are embedded in one call and written in one upsert, and each folder's
        tiers are regenerated once. The tasks all end with the summed counters."""
        groups: dict[tuple[bool, bool, bool], list[str]] = {}
        for task in tasks:
            options = (
                bool(task.payload.get("recursive")),
                bool(task.payload.get("bubble", True)),
                bool(task.payload.get("semantic", True)),
            )
            groups.setdefault(options, []).extend(task.payload["uris"])
        single = tasks[0] if len(tasks) == 1 else None
        total: dict[str, Any] = {}
        for (recursive, bubble, semantic), uris in groups.items():
            result = await self.refresh_now(
                tasks[0].context,
                uris,
                recursive=recursive,
                bubble=bubble,
                semantic=semantic,
                task=single,
            )
            for key, value in result.items():
                total[key] = total.get(key, [] if key == "warnings" else 0) + value
        return total

    def new_job(
        self, ctx: RequestContext, *, semantic: bool = True, buffer: RecordBuffer | None = None
    ) -> RefreshJob:
        """A refresh job writing through ``buffer`` (a new one by default)."""
        store = self._store
        rows = buffer or RecordBuffer(store.require_index(), store.embedder)
        return RefreshJob(ctx, rows, semantic=semantic)

    async def refresh_now(
        self,
        ctx: RequestContext,
        uris: list[str],
        *,
        recursive: bool,
        bubble: bool = True,
        semantic: bool = True,
        task: TaskHandle | None = None,
    ) -> dict[str, Any]:
        """Re-index ``uris`` (and regenerate their folders' tiers) in this task; each folder
        is regenerated once, however many of ``uris`` it holds."""
        job = self.new_job(ctx, semantic=semantic)
        parents: dict[str, VikingURI] = {}
        for raw in dict.fromkeys(uris):
            uri = parse_uri(raw)
            await self.refresh_uri(job, uri, recursive=recursive)
            if task is not None:
                await task.report("refreshing", files_indexed=job.files_done)
            if bubble and uri.parent is not None:
                parents.setdefault(uri.parent.uri, uri.parent)
        await self.bubble_all(job, list(parents.values()))
        await job.buffer.flush()
        self._optimize_when_quiet()
        result: dict[str, Any] = {
            "rows_written": job.buffer.written,
            "files_indexed": job.files_done,
            "files_scanned": job.files_seen,
            "dirs_indexed": job.dirs_done,
        }
        if job.warnings:
            result["warnings"] = job.warnings
        return result

    def _optimize_when_quiet(self) -> None:
        """Optimize the index once no refresh has finished for :data:`_QUIET_SECONDS`: a
        burst of writes is folded in once, after it, not raced by one optimize per write."""
        if self._quiet_timer is not None:
            self._quiet_timer.cancel()
        index = self._store.index
        loop = asyncio.get_running_loop()
        self._quiet_timer = loop.call_later(_QUIET_SECONDS, index.schedule_optimize)

    async def refresh_uri(self, job: RefreshJob, uri: VikingURI, *, recursive: bool) -> None:
        """Index one file, or a directory's tiers (with ``recursive``: everything below)."""
        store = self._store
        key = store.key(job.ctx, uri)
        try:
            entry = await store.content.stat(key)
        except FileNotFoundError:
            await self.forget(job.ctx, uri)
            return
        if not indexable(uri):
            return
        if not entry.is_dir:
            await self._index_file(job, uri)
            return
        if recursive:
            walked = await store.content.walk(key, 10_000, 1_000_000)
            files: list[VikingURI] = []
            levels: dict[int, list[VikingURI]] = {}
            for item in walked:
                child = uri.join(item.key[len(key) + 1 :])
                if indexable(child):
                    (levels.setdefault(item.depth, []) if item.is_dir else files).append(child)
            await run_bounded([partial(self._index_file, job, f) for f in files])
            # Deepest first (a folder's overview reads its subfolders' abstracts); the folders
            # of one depth are independent of each other.
            for depth in sorted(levels, reverse=True):
                await run_bounded([partial(self._regenerate_dir, job, d) for d in levels[depth]])
        await self._regenerate_dir(job, uri)

    async def bubble(self, job: RefreshJob, start: VikingURI) -> None:
        """Regenerate the tiers of ``start`` and each ancestor up to the scope root."""
        await self.bubble_all(job, [start])

    async def bubble_all(self, job: RefreshJob, starts: list[VikingURI]) -> None:
        """:meth:`bubble` from each of ``starts``, each folder once, deepest first."""
        chain: dict[str, VikingURI] = {}
        for start in starts:
            current: VikingURI | None = start
            while current is not None and not current.is_root and indexable(current):
                if current.uri in chain:
                    break  # its ancestors are in already
                chain[current.uri] = current
                current = current.parent
        for directory in sorted(chain.values(), key=lambda d: -len(d.parts)):
            await self._regenerate_dir(job, directory)

    async def _file_info(self, job: RefreshJob, uri: VikingURI) -> FileInfo | None:
        known = job.infos.get(uri.uri)
        if known is not None:
            return known
        data = await self._read_bounded(job, uri)
        if data is None:
            return None
        if self._store.events.handlers(TextIndexed):
            text = data.decode("utf-8", errors="replace")
            filtered = await self._store.events.filter(TextIndexed(job.ctx, uri), text)
            data = filtered.encode("utf-8") if filtered != text else data
        info = await self.semantic.describe_file(uri.name, data)
        job.infos[uri.uri] = info
        return info

    async def _read_bounded(self, job: RefreshJob, uri: VikingURI) -> bytes | None:
        """A stored file's first ``index.max_file_bytes`` (a larger file is indexed from that
        prefix, with a warning in the job); ``None`` if it is not a file."""
        limit = self._store.config.index.max_file_bytes
        try:
            data = await self._store.content.read_prefix(self._store.key(job.ctx, uri), limit + 1)
        except (FileNotFoundError, IsADirectoryError):
            return None
        if len(data) <= limit:
            return data
        warning = f"{uri.uri}: larger than index.max_file_bytes ({limit}); indexed its start only"
        if warning not in job.warnings:
            job.warnings.append(warning)
        return utf8_prefix(data, limit)

    async def _index_file(self, job: RefreshJob, uri: VikingURI) -> None:
        job.files_seen += 1
        info = await self._file_info(job, uri)
        if info is None:
            await self.forget(job.ctx, uri)
            return
        if self._store.indexing_enabled:
            job.buffer.forget(job.ctx.account_id, uri.uri)
        text = info.text
        if text is None and info.kind != "binary":
            data = await self._read_bounded(job, uri)
            text = data.decode("utf-8", errors="replace") if data is not None else None
            if text is not None:
                text = await self._store.events.filter(TextIndexed(job.ctx, uri), text)
        embedder = self._store.embedder
        await job.buffer.add(
            file_rows(
                job.ctx.account_id,
                uri,
                title=info.title,
                summary=info.summary,
                text=text,
                count_tokens=embedder.count_tokens,
                max_tokens=embedder.max_tokens,
                tags=await self._store.tags.get(job.ctx.account_id, uri.uri),
            )
        )
        job.files_done += 1

    async def _stored_summaries(
        self, job: RefreshJob, uri: VikingURI, names: list[str]
    ) -> dict[str, str]:
        """The indexed summaries of files ``names`` of ``uri`` not described in this job,
        looked up in one query: ``{uri: summary}``."""
        account = job.ctx.account_id
        wanted = [uri.join(n).uri for n in names if uri.join(n).uri not in job.infos]
        if not wanted:
            return {}
        rows = await self._store.index.get([record_id(account, u, 2, "p0") for u in wanted])
        return {row.uri: row.abstract for row in rows if row.abstract}

    async def _child_summary(self, job: RefreshJob, uri: VikingURI, stored: dict[str, str]) -> str:
        """A file's summary: known from this job, else from the index, else described now."""
        known = job.infos.get(uri.uri)
        if known is not None:
            return known.summary
        if uri.uri in stored:
            return stored[uri.uri]
        info = await self._file_info(job, uri)
        return info.summary if info else uri.name

    async def _children(self, job: RefreshJob, uri: VikingURI, key: str) -> list[ChildInfo]:
        """What the directory's overview describes: its visible children, directories first."""
        entries = await self._store.content.listdir(key)
        visible = sorted(
            (e for e in entries if not e.name.startswith(".")),
            key=lambda e: (not e.is_dir, e.name),
        )
        described = [e.name for e in visible[:_MAX_DESCRIBED_CHILDREN] if not e.is_dir]
        stored = await self._stored_summaries(job, uri, described)
        children: list[ChildInfo] = []
        for i, entry in enumerate(visible):
            child = uri.join(entry.name)
            if entry.is_dir:
                summary = await self._store.sidecar_body(f"{key}/{entry.name}", ABSTRACT_FILE)
                children.append(ChildInfo(entry.name, True, summary or entry.name))
            elif i < _MAX_DESCRIBED_CHILDREN:
                summary = await self._child_summary(job, child, stored)
                info = job.infos.get(child.uri)
                children.append(ChildInfo(entry.name, False, summary, info.kind if info else ""))
            else:
                children.append(ChildInfo(entry.name, False, entry.name))
        return children

    async def _regenerate_dir(self, job: RefreshJob, uri: VikingURI) -> None:
        store = self._store
        key = store.key(job.ctx, uri)
        # Only the sidecars are locked: writes of the folder's files go on meanwhile (each
        # queues a refresh that regenerates the folder again); moves and removals of the
        # folder wait, as its path is an ancestor of the sidecars'.
        folder = store.lock_path(job.ctx, uri)
        async with store.locks.lock((*folder, ABSTRACT_FILE), (*folder, OVERVIEW_FILE)):
            try:
                children = await self._children(job, uri, key)
            except (FileNotFoundError, NotADirectoryError):
                return
            raw_abstract = await store.read_text(f"{key}/{ABSTRACT_FILE}")
            keep = raw_abstract is not None and (
                sidecar_meta(raw_abstract).get("generated_by", {}).get("component")
                in _KEEP_ABSTRACT_FROM
            )
            intro = sidecar_body(raw_abstract) if keep and raw_abstract else None
            if job.semantic:
                abstract, overview = await self.semantic.directory(uri.name, children, intro=intro)
                writes = (
                    []
                    if keep
                    else [partial(self._write_sidecar, key, uri, ABSTRACT_FILE, abstract)]
                )
                writes.append(partial(self._write_sidecar, key, uri, OVERVIEW_FILE, overview))
                await run_bounded(writes)
            else:
                abstract = intro or await store.sidecar_body(key, ABSTRACT_FILE) or ""
                overview = await store.sidecar_body(key, OVERVIEW_FILE) or ""
        tags = await store.tags.get(job.ctx.account_id, uri.uri)
        only = uri.join(children[0].name) if len(children) == 1 and not children[0].is_dir else None
        await job.buffer.add(
            directory_rows(job.ctx.account_id, uri, abstract, overview, tags=tags, only_file=only)
        )
        job.dirs_done += 1

    async def _write_sidecar(self, key: str, uri: VikingURI, name: str, body: str) -> None:
        text = render_sidecar(uri.uri, body, component="semantic", trigger="refresh")
        await self._store.content.write_bytes(f"{key}/{name}", text.encode("utf-8"))
