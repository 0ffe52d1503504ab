"""Keeping tiers and vectors in step with content.

Every change to content (write, mkdir with a description, rm, mv, an import) ends here:

* files get L2 rows, one per passage; directories get L0/L1 sidecars and rows;
* directory tiers are regenerated bottom-up and the change *bubbles up* to the scope root, so
  a parent's overview always lists what its children now hold;
* an L0 written by a user (``mkdir --description``) or a preset is kept, and used as the
  introduction of the regenerated overview.

The work runs as ``refresh`` tasks on the durable queue (interactive priority for single
writes), so it survives restarts. Sessions and privacy folders and dot-files are never indexed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI, context_type_of, parse_uri
from openviking_mcp.indexing.rows import RecordBuffer, directory_rows, file_rows
from openviking_mcp.indexing.semantic import FileInfo
from openviking_mcp.indexing.summarize import ChildInfo
from openviking_mcp.memory.memory_file import strip_memory_fields
from openviking_mcp.ops.base import ServiceCore
from openviking_mcp.storage.index import IndexFilter, record_id
from openviking_mcp.storage.queue import BULK, INTERACTIVE, TaskHandle
from openviking_mcp.storage.sidecar import (
    ABSTRACT_FILE,
    OVERVIEW_FILE,
    render_sidecar,
    sidecar_body,
    sidecar_meta,
)

__all__ = ["IndexingOps", "indexable"]

logger = logging.getLogger("openviking_mcp.indexing")

_UNINDEXED_USER_AREAS = frozenset({"sessions", "privacy"})
_KEEP_ABSTRACT_FROM = frozenset({"user", "preset", "skill"})
_MAX_DESCRIBED_CHILDREN = 200


def indexable(uri: VikingURI) -> bool:
    """Whether ``uri`` belongs in the search index."""
    parts = uri.parts
    if not parts or any(p.startswith(".") for p in parts):
        return False
    return not (parts[0] == "user" and len(parts) >= 3 and parts[2] in _UNINDEXED_USER_AREAS)


@dataclass(slots=True)
class _Refresh:
    """One refresh job's shared state: the row buffer and known file descriptions."""

    ctx: RequestContext
    buffer: RecordBuffer
    infos: dict[str, FileInfo]
    semantic: bool
    files_done: int = 0


class IndexingOps(ServiceCore):
    async def _queue_refresh(
        self,
        ctx: RequestContext,
        uris: list[str],
        *,
        recursive: bool,
        bubble: bool = True,
        semantic: bool = True,
        priority: int = INTERACTIVE,
        resource_id: str | None = None,
    ) -> str:
        """Queue a ``refresh`` task (see :meth:`_task_refresh`); returns its id."""
        payload = {"uris": uris, "recursive": recursive, "bubble": bubble, "semantic": semantic}
        return await self.tasks.submit(
            "refresh", ctx, payload, priority=priority, resource_id=resource_id
        )

    # -- hooks from the filesystem operations ----------------------------------------------

    async def _after_write(
        self, ctx: RequestContext, uri: VikingURI, *, wait: bool, timeout: float | None
    ) -> dict[str, object]:
        if not indexable(uri) or self._index_error is not None:
            return {"semantic_status": "skipped", "vector_status": "skipped"}
        task_id = await self._queue_refresh(ctx, [uri.uri], recursive=False, resource_id=uri.uri)
        if wait:
            record = await self.tasks.wait(task_id, timeout)
            status = "complete" if record.status == "completed" else record.status
            return {"semantic_status": status, "vector_status": status, "task_id": task_id}
        return {"semantic_status": "queued", "vector_status": "queued", "task_id": task_id}

    async def _after_remove(self, ctx: RequestContext, uri: VikingURI) -> None:
        if self._index_error is not None:
            return
        await self.index.delete(IndexFilter(account_id=ctx.account_id, uri_prefixes=(uri.uri,)))
        await self._queue_parent_refresh(ctx, uri)

    async def _after_move(self, ctx: RequestContext, source: VikingURI, dest: VikingURI) -> None:
        if self._index_error is not None:
            return
        await self.index.delete(IndexFilter(account_id=ctx.account_id, uri_prefixes=(source.uri,)))
        await self._queue_parent_refresh(ctx, source)
        if indexable(dest):
            await self._queue_refresh(ctx, [dest.uri], recursive=True, resource_id=dest.uri)

    async def _queue_parent_refresh(self, ctx: RequestContext, uri: VikingURI) -> None:
        parent = uri.parent
        if parent is not None and indexable(parent):
            await self._queue_refresh(ctx, [parent.uri], recursive=False, resource_id=parent.uri)

    async def _index_presets(
        self, account_id: str, user_id: str | None, dirs: list[VikingURI]
    ) -> None:
        uris = [d.uri for d in dirs if indexable(d)]
        if not uris:
            return
        owner = RequestContext.root(account_id)
        await self._queue_refresh(
            owner, uris, recursive=False, bubble=False, semantic=False, priority=BULK
        )

    # -- the refresh task ------------------------------------------------------------------

    async def _task_refresh(self, task: TaskHandle) -> dict[str, Any]:
        return await self._refresh_now(
            task.context,
            list(task.payload["uris"]),
            recursive=bool(task.payload.get("recursive")),
            bubble=bool(task.payload.get("bubble", True)),
            semantic=bool(task.payload.get("semantic", True)),
            task=task,
        )

    async def _refresh_now(
        self,
        ctx: RequestContext,
        uris: list[str],
        *,
        recursive: bool,
        bubble: bool = True,
        semantic: bool = True,
        task: TaskHandle | None = None,
    ) -> dict[str, Any]:
        """Re-index ``uris`` (and regenerate their folders' tiers) in this task."""
        index = self._require_index()
        buffer = RecordBuffer(index, self.embedder)
        job = _Refresh(ctx, buffer, {}, semantic=semantic)
        for raw in uris:
            uri = parse_uri(raw)
            await self._refresh_uri(job, uri, recursive=recursive)
            if task is not None:
                await task.report("refreshing", files_indexed=job.files_done)
            if bubble and uri.parent is not None:
                await self._bubble(job, uri.parent)
        await buffer.flush()
        index.schedule_optimize()
        return {"rows_written": buffer.written, "files_indexed": job.files_done}

    async def _refresh_uri(self, job: _Refresh, uri: VikingURI, *, recursive: bool) -> None:
        key = self._key(job.ctx, uri)
        try:
            entry = await self.store.stat(key)
        except FileNotFoundError:
            await self.index.delete(
                IndexFilter(account_id=job.ctx.account_id, uri_prefixes=(uri.uri,))
            )
            return
        if not indexable(uri):
            return
        if not entry.is_dir:
            await self._index_file(job, uri)
            return
        if recursive:
            walked = await self.store.walk(key, 10_000, 1_000_000)
            dirs: list[tuple[int, VikingURI]] = []
            for item in walked:
                child = uri.join(item.key[len(key) + 1 :])
                if not indexable(child):
                    continue
                if item.is_dir:
                    dirs.append((item.depth, child))
                else:
                    await self._index_file(job, child)
            for _, directory in sorted(dirs, key=lambda d: -d[0]):
                await self._regenerate_dir(job, directory)
        await self._regenerate_dir(job, uri)

    async def _bubble(self, job: _Refresh, start: VikingURI) -> None:
        current: VikingURI | None = start
        while current is not None and not current.is_root and indexable(current):
            await self._regenerate_dir(job, current)
            current = current.parent

    async def _file_info(self, job: _Refresh, uri: VikingURI) -> FileInfo | None:
        known = job.infos.get(uri.uri)
        if known is not None:
            return known
        try:
            data = await self.store.read_bytes(self._key(job.ctx, uri))
        except (FileNotFoundError, IsADirectoryError):
            return None
        if context_type_of(uri) == "memory":  # index the memory, not its fields block
            data = strip_memory_fields(data.decode("utf-8", errors="replace")).encode("utf-8")
        info = await self.semantic.describe_file(uri.name, data)
        job.infos[uri.uri] = info
        return info

    async def _index_file(self, job: _Refresh, uri: VikingURI) -> None:
        info = await self._file_info(job, uri)
        await self.index.delete(IndexFilter(account_id=job.ctx.account_id, uri_prefixes=(uri.uri,)))
        if info is None:
            return
        text = info.text
        if text is None and info.kind != "binary":
            text = await self._read_text(self._key(job.ctx, uri))
            if text is not None and context_type_of(uri) == "memory":
                text = strip_memory_fields(text)
        await job.buffer.add(
            file_rows(
                job.ctx.account_id,
                uri,
                title=info.title,
                summary=info.summary,
                text=text,
                count_tokens=self.embedder.count_tokens,
                max_tokens=self.embedder.max_tokens,
            )
        )
        job.files_done += 1

    async def _child_summary(self, job: _Refresh, uri: VikingURI) -> str:
        """A file's summary: known from this job, else from the index, else described now."""
        known = job.infos.get(uri.uri)
        if known is not None:
            return known.summary
        rows = await self.index.get([record_id(job.ctx.account_id, uri.uri, 2, "p0")])
        if rows and rows[0].abstract:
            return rows[0].abstract
        info = await self._file_info(job, uri)
        return info.summary if info else uri.name

    async def _regenerate_dir(self, job: _Refresh, uri: VikingURI) -> None:
        key = self._key(job.ctx, uri)
        async with self.locks.lock(self._lock_path(job.ctx, uri)):
            try:
                entries = await self.store.listdir(key)
            except (FileNotFoundError, NotADirectoryError):
                return
            children: list[ChildInfo] = []
            visible = sorted(
                (e for e in entries if not e.name.startswith(".")),
                key=lambda e: (not e.is_dir, e.name),
            )
            for i, entry in enumerate(visible):
                child = uri.join(entry.name)
                if entry.is_dir:
                    summary = await self._sidecar_body(f"{key}/{entry.name}", ABSTRACT_FILE)
                    children.append(ChildInfo(entry.name, True, summary or entry.name))
                elif i < _MAX_DESCRIBED_CHILDREN:
                    summary = await self._child_summary(job, child)
                    info = job.infos.get(child.uri)
                    children.append(
                        ChildInfo(entry.name, False, summary, info.kind if info else "")
                    )
                else:
                    children.append(ChildInfo(entry.name, False, entry.name))
            raw_abstract = await self._read_text(f"{key}/{ABSTRACT_FILE}")
            keep = raw_abstract is not None and (
                sidecar_meta(raw_abstract).get("generated_by", {}).get("component")
                in _KEEP_ABSTRACT_FROM
            )
            intro = sidecar_body(raw_abstract) if keep and raw_abstract else None
            if job.semantic:
                abstract, overview = await self.semantic.directory(uri.name, children, intro=intro)
                if not keep:
                    await self._write_sidecar(key, uri, ABSTRACT_FILE, abstract)
                await self._write_sidecar(key, uri, OVERVIEW_FILE, overview)
            else:
                abstract = intro or await self._sidecar_body(key, ABSTRACT_FILE) or ""
                overview = await self._sidecar_body(key, OVERVIEW_FILE) or ""
        await job.buffer.add(directory_rows(job.ctx.account_id, uri, abstract, overview))

    async def _write_sidecar(self, key: str, uri: VikingURI, name: str, body: str) -> None:
        text = render_sidecar(uri.uri, body, component="semantic", trigger="refresh")
        await self.store.write_bytes(f"{key}/{name}", text.encode("utf-8"))
