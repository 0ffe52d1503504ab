"""The resources service: importing resources, rebuilding the index and checking it.

``add_resource`` plans synchronously: it validates the source, stages local data, picks and
*reserves* the target (auto-named targets get ``_1``, ``_2``... on collision, also against
imports still in flight, and the result warns of it) and queues an ``add_resource`` task.
The task (:meth:`run_import`) runs the stages ``fetching → parsing → finalizing →
summarizing/embedding`` and records progress (files parsed, summarised, embedded); ``wait``
waits for this request's own task only and adds the per-queue counters (``queue_status``) to
its result. A crashed import resumes after ``finalizing`` (the stored tree is checkpointed).
Rebuilding the index lives in :mod:`openviking_mcp.resources.reindex`.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from functools import partial
from pathlib import Path
from typing import Any

from openviking_mcp.contract.access import can_read, readable, readable_prefixes
from openviking_mcp.contract.errors import (
    InternalError,
    InvalidArgumentError,
    InvalidURIError,
    NotFoundError,
    OpenVikingError,
    PermissionDeniedError,
    ProcessingError,
    error_from_payload,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.resources import (
    AddResourceRequest,
    ConsistencyRequest,
    ConsistencyResult,
    ImportAccepted,
    ImportCancelled,
    ImportMeta,
    ImportResult,
    ImportSummaries,
    MissingRecord,
    RebuildAccepted,
    RebuildIndexRequest,
    RebuildResult,
    ReindexAccepted,
    ReindexRequest,
    ReindexResult,
)
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.indexing.bounded import run_bounded
from openviking_mcp.indexing.import_tiers import summarize_import
from openviking_mcp.indexing.rows import RecordBuffer
from openviking_mcp.indexing.semantic import FileInfo
from openviking_mcp.indexing.service import IndexingService, indexable
from openviking_mcp.parsers import sanitize_name
from openviking_mcp.resources.fetch import (
    fetch_url,
    final_error,
    name_from_url,
    restore_error,
    saved_error,
)
from openviking_mcp.resources.netguard import check_public_url
from openviking_mcp.resources.placement import media_name, media_parent
from openviking_mcp.resources.reindex import Reindexer
from openviking_mcp.resources.retry import ImportRetry
from openviking_mcp.resources.sources import SourceFilter, is_url, stage_local, target_name
from openviking_mcp.resources.staging import drop_published, fetch_published, publish
from openviking_mcp.resources.tree import (
    build_tree,
    import_os_error,
    is_resource_root,
    under_resources,
)
from openviking_mcp.storage.index import IndexFilter
from openviking_mcp.storage.queue import BULK, NORMAL, TaskHandle, TaskRecord
from openviking_mcp.store import Store
from openviking_mcp.tags.service import TagService
from openviking_mcp.tasks.failures import queue_counters
from openviking_mcp.uploads.service import UploadService

__all__ = ["ADD_RESOURCE_TASK", "ResourceService"]

ADD_RESOURCE_TASK = "add_resource"

ImportAnswer = ImportAccepted | ImportResult | ImportCancelled


def _check(req: AddResourceRequest) -> None:
    if not req.path and not req.temp_file_id:  # with both, temp_file_id wins
        raise InvalidArgumentError("Give path (URL or local path) or temp_file_id")
    if req.to and req.parent:
        raise InvalidArgumentError("'to' and 'parent' are mutually exclusive")


def _source_filter(req: AddResourceRequest) -> SourceFilter:
    return SourceFilter(
        tuple(req.include or ()), tuple(req.exclude or ()), tuple(req.ignore_dirs or ())
    )


def _renamed_warning(wanted: VikingURI, chosen: VikingURI) -> str:
    """The warning of an auto-named target numbered because its name was taken."""
    return (
        f"'{wanted.uri}' already exists. Creating '{chosen.uri}'. "
        "Tip: Use --to <path> to specify exact target."
    )


def _outcome(record: TaskRecord) -> ImportResult | ImportCancelled:
    """The answer of a waited import task."""
    if record.status == "cancelled":
        return ImportCancelled()
    if record.status == "failed":
        # a fetch failure answers with its own code (400/403/502, ``details.cause``)
        if record.stage == "fetching" and (error := restore_error(record)) is not None:
            raise error
        saved = record.state.get("failure")  # a caller's mistake, kept with its code
        if isinstance(saved, dict):
            details = {**(saved.get("details") or {}), "task_id": record.task_id}
            raise error_from_payload({**saved, "details": details})
        raise ProcessingError(record.error or "Import failed", {"task_id": record.task_id})
    return ImportResult.model_validate(record.result or {})


class ResourceService:
    """See the module docs."""

    def __init__(
        self, store: Store, indexing: IndexingService, uploads: UploadService, tags: TagService
    ) -> None:
        self._store, self._indexing, self._uploads, self._tags = store, indexing, uploads, tags
        self._reindexer = Reindexer(store, indexing, tags)
        #: The retry function of ``add_resource`` tasks (see :mod:`.retry`).
        self.retry_import = ImportRetry(store, ADD_RESOURCE_TASK, self._staging)

    def _staging(self, staging_id: str) -> Path:
        return self._store.config.workspace / "tmp" / "staging" / staging_id

    # -- add_resource ----------------------------------------------------------------------

    async def add_resource(
        self, ctx: RequestContext, req: AddResourceRequest, *, allow_local_paths: bool = True
    ) -> ImportAnswer:
        """Import a URL, a local file or folder (only with ``allow_local_paths``), a temp
        upload or a zip; queued as a task, waited for with ``wait``."""
        store = self._store
        store.require_index()
        _check(req)
        flt = _source_filter(req)
        if req.temp_file_id:
            await self._uploads.localize(req.temp_file_id)
        name, kind, ref, is_dir = await asyncio.to_thread(
            self._inspect_source, ctx, req.path, req.temp_file_id, allow_local_paths
        )
        if kind == "url":  # a bad URL, an unknown host or a private address fails now
            await check_public_url(ref, allow_private=store.config.allow_private_networks)
        stem = target_name(name, is_dir, req.source_name)
        media = None if req.to or req.parent else media_parent(name, is_dir)
        if media is not None:  # the day's media folder, as the original places media
            stem = media_name(stem, name)
        target, existed, warnings = await self._plan_target(ctx, sanitize_name(stem), req, media)
        payload: dict[str, Any] = {
            "source_kind": kind,
            "source": ref,
            "filename": name,
            "target": target.uri,
            "target_existed": existed,
            "mode": req.processing_mode,
            "reason": req.reason,
            "instruction": req.instruction,
            "no_split": req.no_split,
            "filter": {
                "include": list(flt.include),
                "exclude": list(flt.exclude),
                "ignore_dirs": list(flt.ignore_dirs),
            },
            "staging_id": uuid.uuid4().hex,
            "warnings": warnings,
        }
        # Stage before the task exists: a worker may pick the task up at once.
        if kind in ("local", "upload"):
            staging_id = payload["staging_id"]
            await asyncio.to_thread(self._stage, ctx, staging_id, kind, ref, name, flt)
            await publish(store, staging_id, self._staging(staging_id) / "source")
        task_id = await store.tasks.submit(
            ADD_RESOURCE_TASK,
            ctx,
            payload,
            priority=BULK if is_dir else NORMAL,
            resource_id=target.uri,
            max_attempts=3,
        )
        if not req.wait:
            return ImportAccepted(task_id=task_id, root_uri=target.uri)
        outcome = _outcome(await store.tasks.wait(task_id, req.timeout))
        if isinstance(outcome, ImportResult):
            outcome.queue_status = await queue_counters(store, ctx)
        return outcome

    def _inspect_source(
        self,
        ctx: RequestContext,
        path: str | None,
        temp_file_id: str | None,
        allow_local_paths: bool,
    ) -> tuple[str, str, str, bool]:
        """``(name, kind, reference, is_directory)`` of a source (blocking: run in a thread)."""
        if temp_file_id:
            _, name = self._uploads.upload_path(ctx, temp_file_id)
            return name, "upload", temp_file_id, False
        assert path is not None
        if is_url(path):
            try:
                return name_from_url(path), "url", path, False
            except ValueError:  # e.g. an unclosed IPv6 bracket
                raise InvalidArgumentError(f"Invalid URL: {path}", {"path": path}) from None
        if not allow_local_paths:
            raise PermissionDeniedError(
                "HTTP server only accepts remote resource URLs or temp-uploaded files",
                {"path": path},
            )
        local = Path(path).expanduser()
        if not local.exists():
            raise NotFoundError(path, "path")
        return local.name, "local", str(local.resolve()), local.is_dir()

    def _stage(
        self,
        ctx: RequestContext,
        staging_id: str,
        kind: str,
        ref: str,
        name: str,
        flt: SourceFilter,
    ) -> None:
        """Copy a local or uploaded source into the import's staging folder (blocking)."""
        staging = self._staging(staging_id) / "source"
        src = Path(ref) if kind == "local" else self._uploads.upload_path(ctx, ref)[0]
        staged, _ = stage_local(src, staging, flt)
        if kind == "upload" and staged.name != name:
            staged.rename(staged.with_name(name))

    async def _plan_target(
        self, ctx: RequestContext, name: str, req: AddResourceRequest, media: str | None = None
    ) -> tuple[VikingURI, bool, list[str]]:
        """The import's target, whether it exists and the warnings of the choice: ``to``
        itself, or a free name below ``parent`` (``viking://resources`` by default, or the
        ``media`` folder, created when missing) that no import in flight holds; a name
        taken already is numbered (``guide`` → ``guide_1``), with a warning saying so."""
        store = self._store
        to, parent = req.to, req.parent
        if to:
            target = store.resolve(ctx, to, field="to", mutate=True)
            if is_resource_root(target):
                parent, to = to, None
            elif not under_resources(target):
                raise InvalidURIError(target.uri, "to must target resource content")
            else:
                existed = await store.content.exists(store.key(ctx, target))
                if existed:  # replacing a shared tree follows the owner rule
                    await store.owners.require(ctx, target)
                return target, existed, []
        base = store.resolve(ctx, parent or media or "viking://resources", field="parent")
        if not (is_resource_root(base) or under_resources(base)):
            raise InvalidURIError(base.uri, "parent must be under a resources folder")
        base_key = store.key(ctx, base)
        if not await store.content.exists(base_key):
            if not req.create_parent and media is None:
                raise NotFoundError(
                    base.uri,
                    "directory",
                    message=f"Parent not found: {base.uri} (pass create_parent=true to create it)",
                )
            await store.owners.claim(ctx, base)
            await store.content.mkdir(base_key, exist_ok=True)
        in_flight = await store.tasks.active_resources(ctx.account_id, ADD_RESOURCE_TASK)
        wanted = candidate = base.join(name)
        n = 0
        while await store.content.exists(store.key(ctx, candidate)) or candidate.uri in in_flight:
            n += 1
            candidate = base.join(f"{name}_{n}")
        if candidate == wanted:
            return candidate, False, []
        return candidate, False, [_renamed_warning(wanted, candidate)]

    # -- the add_resource task -------------------------------------------------------------

    async def run_import(self, task: TaskHandle) -> dict[str, Any]:
        """The ``add_resource`` task: store the parsed tree, then index it.

        A caller's mistake (a broken zip, a name the storage cannot hold) is kept in the task
        state with its code, so a waiting caller gets that 4xx error; a storage ``OSError``
        becomes its typed error, whose message names no server path."""
        try:
            return await self._import(task)
        except OSError as exc:
            typed = import_os_error(exc, task.record.stage, str(task.payload.get("target")))
            if isinstance(typed, InternalError):
                raise
            await self._caller_failed(task, typed)
            raise typed from None
        except OpenVikingError as exc:
            if 400 <= exc.http_status < 500:
                await self._caller_failed(task, exc)
            raise

    async def _caller_failed(self, task: TaskHandle, exc: OpenVikingError) -> None:
        """Keep a caller's mistake (its code) for a waiting caller, and drop the staged data:
        the task fails for good."""
        await task.checkpoint(failure={**exc.to_dict(), "http_status": exc.http_status})
        staging_id = task.payload.get("staging_id") or task.record.task_id
        await asyncio.to_thread(shutil.rmtree, self._staging(staging_id), True)
        await drop_published(self._store, staging_id)

    async def _import(self, task: TaskHandle) -> dict[str, Any]:
        ctx, payload = task.context, task.payload
        target = self._store.resolve(ctx, payload["target"], mutate=True)
        if not task.state.get("finalized"):
            await self._finalize(task, target)
        infos: dict[str, dict[str, Any]] = task.state.get("infos", {})
        known = {target.join(rel).uri: FileInfo(**info) for rel, info in infos.items()}
        semantic = payload["mode"] != "vectors_only"
        await task.report("summarizing" if semantic else "embedding", files_total=len(known))
        rows, files_done, index_warnings, summaries = await self._index_import(
            task, target, known, semantic
        )
        await task.report("done", files_indexed=files_done, passages_embedded=rows)
        result = ImportResult(
            root_uri=target.uri,
            source_path=payload["source"],
            meta=ImportMeta(files=len(known), source_kind=payload["source_kind"]),
            warnings=[
                *payload.get("warnings", []),
                *task.state.get("warnings", []),
                *index_warnings,
            ],
            context_count=rows,
            summaries=summaries,
        )
        return result.wire()

    async def _finalize(self, task: TaskHandle, target: VikingURI) -> None:
        """Fetch or take the staged source, parse it and replace the target with the tree;
        checkpointed as ``finalized`` with the file infos and warnings."""
        store, ctx, payload = self._store, task.context, task.payload
        staging_id = payload.get("staging_id") or task.record.task_id
        staging = self._staging(staging_id)
        warnings: list[str] = []
        source = await self._stage_source(task, staging)
        await task.report("parsing")
        tree, infos = await asyncio.to_thread(
            build_tree, source, staging / "tree", payload, warnings
        )
        await task.report("parsing", files_parsed=len(infos))
        await task.report("finalizing")
        key = store.key(ctx, target)
        async with store.locks.lock(store.lock_path(ctx, target)):
            if await store.content.exists(key):
                await store.owners.require(ctx, target)
                await store.index.delete(
                    IndexFilter(account_id=ctx.account_id, uri_prefixes=(target.uri,))
                )
                await store.content.remove(key, recursive=True)
                await store.owners.removed(ctx, target)
            await store.owners.claim(ctx, target)
            await self._move_in(tree, key)
        await task.checkpoint("finalizing", finalized=True, infos=infos, warnings=warnings)
        await asyncio.to_thread(shutil.rmtree, staging, True)
        await drop_published(store, staging_id)

    async def _index_import(
        self, task: TaskHandle, target: VikingURI, known: dict[str, FileInfo], semantic: bool
    ) -> tuple[int, int, list[str], ImportSummaries | None]:
        """Index the stored tree (its files described by ``known``, and first by the chat
        model if one is set) and bubble the change up; returns the rows written, the files
        indexed, the indexing warnings (files indexed from their start only) and the report
        of the model's file summaries."""

        async def flushed(rows: int) -> None:
            await task.report("embedding", passages_embedded=rows)

        async def progress(described: int) -> None:
            await task.report("summarizing", files_summarized=described)

        store, indexing = self._store, self._indexing
        buffer = RecordBuffer(store.require_index(), store.embedder, on_flush=flushed)
        report = None
        if semantic and indexing.semantic.llm is not None:
            report = await summarize_import(
                store, indexing.semantic.config, task.context, target, known, progress
            )
        job = indexing.new_job(task.context, semantic=semantic, buffer=buffer)
        job.infos.update(known)
        await indexing.refresh_uri(job, target, recursive=True)
        if target.parent is not None:
            await indexing.bubble(job, target.parent)
        await buffer.flush()
        store.index.schedule_optimize()
        return buffer.written, job.files_done, job.warnings, report

    async def _stage_source(self, task: TaskHandle, staging: Path) -> Path:
        """The import's source: fetched now for a URL, else the one staged at planning."""
        payload = task.payload
        source_dir = staging / "source"
        if payload["source_kind"] == "url":
            await task.report("fetching")
            allow = self._store.config.allow_private_networks
            try:
                return await fetch_url(payload["source"], source_dir, allow_private=allow)
            except OpenVikingError as exc:  # kept for a waiting caller: its code and status
                await task.checkpoint(fetch_error=saved_error(exc))
                raise final_error(exc) from exc
        staging_id = payload.get("staging_id") or task.record.task_id
        if not source_dir.exists() and not await fetch_published(
            self._store, staging_id, source_dir
        ):
            raise ProcessingError("Staged data of this import is missing (it was cleaned up)")
        entries = list(source_dir.iterdir())
        if len(entries) != 1:
            raise ProcessingError("Staged data of this import is incomplete")
        return entries[0]

    async def _move_in(self, tree: Path, key: str) -> None:
        """Copy the built tree into the content store at ``key`` (any backend)."""

        def files() -> list[Path]:
            return sorted(p for p in tree.rglob("*") if p.is_file())

        content = self._store.content

        async def copy(path: Path) -> None:
            rel = path.relative_to(tree).as_posix()
            await content.write_bytes(f"{key}/{rel}", await asyncio.to_thread(path.read_bytes))

        await run_bounded([partial(copy, path) for path in await asyncio.to_thread(files)])
        await content.mkdir(key, exist_ok=True)

    # -- rebuilding and checking -----------------------------------------------------------

    async def reindex(
        self, ctx: RequestContext, req: ReindexRequest
    ) -> ReindexAccepted | ReindexResult:
        """Rebuild the index rows under ``uri`` (see :mod:`openviking_mcp.resources.reindex`)."""
        return await self._reindexer.reindex(ctx, req)

    async def rebuild_index(
        self, ctx: RequestContext, req: RebuildIndexRequest
    ) -> RebuildAccepted | RebuildResult:
        """Drop the whole index and rebuild it with the configured embedder (ROOT only)."""
        return await self._reindexer.rebuild_index(ctx, req)

    async def consistency(self, ctx: RequestContext, req: ConsistencyRequest) -> ConsistencyResult:
        """Compare the content tree with the index: which tiers have no index rows. Only what
        the caller may read is counted and listed (not other users' spaces)."""
        store = self._store
        index = store.require_index()
        target = store.resolve(ctx, req.uri)
        prefixes = readable_prefixes(ctx, [target])
        expected: list[tuple[str, int]] = []
        if indexable(target) and can_read(ctx, target):
            expected += [(target.uri, 0), (target.uri, 1)]
        for prefix in prefixes:
            key = store.key(ctx, prefix)
            if prefix != target:
                if not await store.content.exists(key):
                    continue
                if indexable(prefix):
                    expected += [(prefix.uri, 0), (prefix.uri, 1)]
            with store.fs_errors(prefix, "directory"):
                walked = await store.content.walk(key, 10_000, 1_000_000)
            for item in walked:
                child = prefix.join(item.key[len(key) + 1 :])
                if indexable(child):
                    expected += (
                        [(child.uri, 0), (child.uri, 1)] if item.is_dir else [(child.uri, 2)]
                    )
        expected = readable(ctx, expected, lambda item: item[0])
        uri_prefixes = () if any(p.is_root for p in prefixes) else tuple(p.uri for p in prefixes)
        flt = IndexFilter(account_id=ctx.account_id, uri_prefixes=uri_prefixes)
        present = {(u, lvl) for u, lvl, _ in await index.uris(flt)}
        missing = [
            MissingRecord(uri=u, level=lvl) for u, lvl in expected if (u, lvl) not in present
        ]
        return ConsistencyResult(
            ok=not missing,
            expected_count=len(expected),
            missing_record_count=len(missing),
            missing_records=missing[:20],
            missing_records_truncated=len(missing) > 20,
        )
