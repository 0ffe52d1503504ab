"""Importing resources, rebuilding the index, and the task API.

``add_resource`` plans synchronously: it validates the source, stages local data, picks and
*reserves* the target (auto-named targets get ``_1``, ``_2``... on collision, also against
imports still in flight) and queues an ``add_resource`` task. The task runs the stages
``fetching → parsing → finalizing → summarizing/embedding`` and records progress (files parsed,
summarised, embedded); ``wait=True`` waits for this request's own task only.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path
from typing import Any, Literal

from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    InvalidURIError,
    NotFoundError,
    PermissionDeniedError,
    ProcessingError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.indexing.rows import RecordBuffer
from openviking_mcp.indexing.semantic import FileInfo
from openviking_mcp.indexing.service import RefreshJob as _Refresh
from openviking_mcp.indexing.service import indexable
from openviking_mcp.ops.base import ServiceCore
from openviking_mcp.resources.parsers import parse_document, sanitize_name
from openviking_mcp.resources.sources import (
    SourceFilter,
    extract_zip,
    fetch_url,
    is_url,
    name_from_url,
    stage_local,
    walk_source,
)
from openviking_mcp.storage.index import IndexFilter
from openviking_mcp.storage.queue import BULK, NORMAL, TaskHandle, TaskRecord

__all__ = ["ProcessingMode", "ResourceOps"]

ProcessingMode = Literal["semantic_and_vectors", "vectors_only"]


def _is_resource_root(uri: VikingURI) -> bool:
    parts = uri.parts
    return parts == ("resources",) or (
        len(parts) == 3 and parts[0] == "user" and parts[2] == "resources"
    )


def _under_resources(uri: VikingURI) -> bool:
    parts = uri.parts
    return (len(parts) >= 2 and parts[0] == "resources") or (
        len(parts) >= 4 and parts[0] == "user" and parts[2] == "resources"
    )


def _unique(rel: str, taken: dict[str, Any]) -> str:
    """``rel``, or ``stem_1.ext``, ``stem_2.ext``... if another source file already became it
    (``a.md`` and ``a.html`` both convert to ``a.md``)."""
    if rel not in taken:
        return rel
    folder, _, name = rel.rpartition("/")
    stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
    n = 1
    while True:
        candidate = f"{folder}/{stem}_{n}{dot}{ext}" if folder else f"{stem}_{n}{dot}{ext}"
        if candidate not in taken:
            return candidate
        n += 1


class ResourceOps(ServiceCore):
    def _staging(self, task_key: str) -> Path:
        return self.config.workspace / "tmp" / "staging" / task_key

    # -- add_resource ----------------------------------------------------------------------

    async def add_resource(
        self,
        ctx: RequestContext,
        path: str | None = None,
        *,
        temp_file_id: str | None = None,
        to: str | None = None,
        parent: str | None = None,
        create_parent: bool = False,
        reason: str = "",
        instruction: str = "",
        wait: bool = False,
        timeout: float | None = None,
        processing_mode: ProcessingMode = "semantic_and_vectors",
        include: list[str] | None = None,
        exclude: list[str] | None = None,
        ignore_dirs: list[str] | None = None,
        no_split: bool = False,
        allow_local_paths: bool = True,
    ) -> dict[str, Any]:
        """Import a URL, a local file or folder (embedded/CLI only), a temp upload or a zip."""
        self._require_index()
        if bool(path) == bool(temp_file_id):
            raise InvalidArgumentError(
                "Give exactly one of path (URL or local path) or temp_file_id"
            )
        if to and parent:
            raise InvalidArgumentError("'to' and 'parent' are mutually exclusive")
        if processing_mode not in ("semantic_and_vectors", "vectors_only"):
            raise InvalidArgumentError(
                "processing_mode must be semantic_and_vectors or vectors_only",
                {"processing_mode": processing_mode},
            )
        flt = SourceFilter(tuple(include or ()), tuple(exclude or ()), tuple(ignore_dirs or ()))
        name, source_kind, source_ref, is_dir = await asyncio.to_thread(
            self._inspect_source, ctx, path, temp_file_id, allow_local_paths
        )
        stem = name if is_dir else Path(name).stem
        target, existed = await self._plan_target(
            ctx, sanitize_name(stem), to, parent, create_parent
        )
        payload: dict[str, Any] = {
            "source_kind": source_kind,
            "source": source_ref,
            "filename": name,
            "target": target.uri,
            "target_existed": existed,
            "mode": processing_mode,
            "reason": reason,
            "instruction": instruction,
            "no_split": no_split,
            "filter": {
                "include": list(flt.include),
                "exclude": list(flt.exclude),
                "ignore_dirs": list(flt.ignore_dirs),
            },
        }
        # Stage before the task exists: a worker may pick the task up at once.
        staging_id = uuid.uuid4().hex
        payload["staging_id"] = staging_id
        if source_kind in ("local", "upload"):
            await asyncio.to_thread(
                self._stage, ctx, staging_id, source_kind, source_ref, name, flt
            )
        task_id = await self.tasks.submit(
            "add_resource",
            ctx,
            payload,
            priority=BULK if is_dir else NORMAL,
            resource_id=target.uri,
            max_attempts=3,
        )
        if not wait:
            return {"status": "success", "task_id": task_id, "root_uri": target.uri}
        record = await self.tasks.wait(task_id, timeout)
        return self._task_outcome(record)

    def _inspect_source(
        self,
        ctx: RequestContext,
        path: str | None,
        temp_file_id: str | None,
        allow_local_paths: bool,
    ) -> tuple[str, str, str, bool]:
        """``(name, kind, reference, is_directory)`` of a source (blocking: run in a thread)."""
        if temp_file_id:
            _, name = self._upload_path(ctx, temp_file_id)
            return name, "upload", temp_file_id, False
        assert path is not None
        if is_url(path):
            return name_from_url(path), "url", path, False
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
        src = Path(ref) if kind == "local" else self._upload_path(ctx, ref)[0]
        staged, _ = stage_local(src, staging, flt)
        if kind == "upload" and staged.name != name:
            staged.rename(staged.with_name(name))

    @staticmethod
    def _task_outcome(record: TaskRecord) -> dict[str, Any]:
        if record.status == "cancelled":
            return {"status": "cancelled"}
        if record.status == "failed":
            raise ProcessingError(record.error or "Import failed", {"task_id": record.task_id})
        return dict(record.result or {})

    async def _plan_target(
        self,
        ctx: RequestContext,
        name: str,
        to: str | None,
        parent: str | None,
        create_parent: bool,
    ) -> tuple[VikingURI, bool]:
        if to:
            target = self._resolve(ctx, to, field="to", mutate=True)
            if _is_resource_root(target):
                parent, to = to, None
            elif not _under_resources(target):
                raise InvalidURIError(target.uri, "to must target resource content")
            else:
                existed = await self.store.exists(self._key(ctx, target))
                return target, existed
        base = self._resolve(ctx, parent or "viking://resources", field="parent", mutate=False)
        if not (_is_resource_root(base) or _under_resources(base)):
            raise InvalidURIError(base.uri, "parent must be under a resources folder")
        base_key = self._key(ctx, base)
        if not await self.store.exists(base_key):
            if not create_parent:
                raise NotFoundError(
                    base.uri,
                    "directory",
                    message=(
                        f"Parent not found: {base.uri} (pass create_parent=true to create it)"
                    ),
                )
            await self.store.mkdir(base_key, exist_ok=True)
        in_flight = await self.tasks.active_resources(ctx.account_id, "add_resource")
        candidate = base.join(name)
        n = 0
        while await self.store.exists(self._key(ctx, candidate)) or candidate.uri in in_flight:
            n += 1
            candidate = base.join(f"{name}_{n}")
        return candidate, False

    async def _task_add_resource(self, task: TaskHandle) -> dict[str, Any]:
        ctx, payload = task.context, task.payload
        target = self._resolve(ctx, payload["target"], mutate=True)
        staging = self._staging(payload.get("staging_id") or task.record.task_id)
        warnings: list[str] = []
        if not task.state.get("finalized"):
            source = await self._stage_source(task, staging)
            await task.report("parsing")
            tree, infos = await asyncio.to_thread(
                self._build_tree, source, staging / "tree", payload, warnings
            )
            await task.report("parsing", files_parsed=len(infos))
            await task.report("finalizing")
            key = self._key(ctx, target)
            async with self.locks.lock(self._lock_path(ctx, target)):
                if await self.store.exists(key):
                    await self.index.delete(
                        IndexFilter(account_id=ctx.account_id, uri_prefixes=(target.uri,))
                    )
                    await self.store.remove(key, recursive=True)
                await self._move_in(tree, key)
            await task.checkpoint("finalizing", finalized=True, infos=infos, warnings=warnings)
            await asyncio.to_thread(shutil.rmtree, staging, True)
        infos = task.state.get("infos", {})
        warnings = task.state.get("warnings", warnings)
        known = {target.join(rel).uri: FileInfo(**info) for rel, info in infos.items()}
        await task.report(
            "summarizing" if payload["mode"] != "vectors_only" else "embedding",
            files_total=len(known),
        )

        async def flushed(rows: int) -> None:
            await task.report("embedding", passages_embedded=rows)

        buffer = RecordBuffer(self._require_index(), self.embedder, on_flush=flushed)
        job = _Refresh(ctx, buffer, known, semantic=payload["mode"] != "vectors_only")
        if job.semantic and self.semantic.llm is not None:
            for uri, info in list(known.items()):
                known[uri] = await self.semantic.improve(uri.rsplit("/", 1)[-1], info)
        await self._refresh_uri(job, target, recursive=True)
        if target.parent is not None:
            await self._bubble(job, target.parent)
        await buffer.flush()
        self.index.schedule_optimize()
        await task.report("done", files_indexed=job.files_done, passages_embedded=buffer.written)
        return {
            "status": "success",
            "root_uri": target.uri,
            "source_path": payload["source"],
            "meta": {"files": len(known), "source_kind": payload["source_kind"]},
            "errors": [],
            "warnings": warnings,
            "context_count": buffer.written,
        }

    async def _stage_source(self, task: TaskHandle, staging: Path) -> Path:
        payload = task.payload
        source_dir = staging / "source"
        if payload["source_kind"] == "url":
            await task.report("fetching")
            fetched = await fetch_url(
                payload["source"], source_dir, allow_private=self.config.allow_private_networks
            )
            return fetched
        if not source_dir.exists():
            raise ProcessingError("Staged data of this import is missing (it was cleaned up)")
        entries = list(source_dir.iterdir())
        if len(entries) != 1:
            raise ProcessingError("Staged data of this import is incomplete")
        return entries[0]

    def _build_tree(
        self, source: Path, tree_root: Path, payload: dict[str, Any], warnings: list[str]
    ) -> tuple[Path, dict[str, dict[str, Any]]]:
        """Parse the staged source into ``tree_root/{name}``; returns it and file infos."""
        if tree_root.exists():
            shutil.rmtree(tree_root)
        if source.is_file() and source.suffix.lower() == ".zip":
            source = extract_zip(source, source.parent / "unzipped")
        flt = SourceFilter(**{k: tuple(v) for k, v in payload["filter"].items()})
        infos: dict[str, dict[str, Any]] = {}
        out = tree_root / "resource"
        out.mkdir(parents=True)
        if source.is_file():
            self._parse_into(source.name, source.read_bytes(), out, "", payload, infos, warnings)
            return out, infos
        for rel in walk_source(source, flt):
            parent = rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""
            name = rel.rsplit("/", 1)[-1]
            self._parse_into(
                name,
                (source / rel).read_bytes(),
                out,
                parent,
                payload,
                infos,
                warnings,
                nested=True,
            )
        return out, infos

    @staticmethod
    def _parse_into(
        name: str,
        data: bytes,
        out: Path,
        prefix: str,
        payload: dict[str, Any],
        infos: dict[str, dict[str, Any]],
        warnings: list[str],
        nested: bool = False,
    ) -> None:
        parsed = parse_document(name, data, no_split=bool(payload.get("no_split")))
        warnings.extend(parsed.warnings)
        split = len(parsed.files) > 1
        base = f"{prefix}{sanitize_name(parsed.name)}/" if nested and split else prefix
        for item in parsed.files:
            rel = _unique(base + item.path, infos)
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item.content)
            # The text is re-read from the stored file; the task state stays small.
            infos[rel] = {
                "kind": item.kind,
                "title": item.title,
                "summary": item.summary,
                "text": None,
            }

    async def _move_in(self, tree: Path, key: str) -> None:
        """Copy the built tree into the content store at ``key`` (any backend)."""

        def files() -> list[Path]:
            return sorted(p for p in tree.rglob("*") if p.is_file())

        for path in await asyncio.to_thread(files):
            rel = path.relative_to(tree).as_posix()
            await self.store.write_bytes(f"{key}/{rel}", await asyncio.to_thread(path.read_bytes))
        await self.store.mkdir(key, exist_ok=True)

    # -- rebuilding and checking -----------------------------------------------------------

    async def reindex(
        self,
        ctx: RequestContext,
        uri: str = "viking://",
        *,
        mode: ProcessingMode = "vectors_only",
        wait: bool = True,
        timeout: float | None = None,
        recursive: bool = True,
    ) -> dict[str, Any]:
        """Rebuild index rows (and, with ``semantic_and_vectors``, the L0/L1) under ``uri``
        (``recursive=False``: of ``uri`` itself only)."""
        self._require_index()
        target = self._resolve(ctx, uri)
        roots = (
            [target]
            if not target.is_root
            else [
                VikingURI("resources"),
                VikingURI("agent"),
                VikingURI("user", (ctx.user_id,)),
            ]
        )
        task_id = await self._queue_refresh(
            ctx,
            [r.uri for r in roots if indexable(r)],
            recursive=recursive,
            bubble=False,
            semantic=mode == "semantic_and_vectors",
            priority=BULK,
            resource_id=target.uri,
        )
        if not wait:
            return {"status": "accepted", "task_id": task_id, "uri": target.uri}
        record = await self.tasks.wait(task_id, timeout)
        if record.status != "completed":
            raise ProcessingError(record.error or "Reindex failed", {"task_id": task_id})
        return {"status": "success", "uri": target.uri, **(record.result or {})}

    async def rebuild_index(
        self, ctx: RequestContext, *, wait: bool = True, timeout: float | None = None
    ) -> dict[str, Any]:
        """Drop the whole index and rebuild it with the configured embedder (ROOT only).

        This is the fix for an index built with another embedding model: vectors of two
        models are never mixed, so everything is embedded again from the content tree.
        """
        self._require_open()
        if not ctx.is_root:
            raise PermissionDeniedError("Rebuilding the whole index needs the ROOT role")
        embedder = self.embedder
        await self.index.reset(embedder.model_id, embedder.dimension)
        self._index_error = None
        task_ids: list[str] = []
        for account in await self.accounts.list_accounts():
            owner = RequestContext.root(account["account_id"])
            task_ids.append(
                await self._queue_refresh(
                    owner,
                    ["viking://resources", "viking://agent", "viking://user"],
                    recursive=True,
                    bubble=False,
                    semantic=False,
                    priority=BULK,
                )
            )
        if not wait:
            return {"status": "accepted", "task_ids": task_ids, "model_id": embedder.model_id}
        rows = 0
        for task_id in task_ids:
            record = await self.tasks.wait(task_id, timeout)
            if record.status != "completed":
                raise ProcessingError(record.error or "Rebuild failed", {"task_id": task_id})
            rows += int((record.result or {}).get("rows_written", 0))
        return {
            "status": "success",
            "model_id": embedder.model_id,
            "dimension": embedder.dimension,
            "rows_written": rows,
        }

    async def consistency(self, ctx: RequestContext, uri: str = "viking://") -> dict[str, Any]:
        """Compare the content tree with the index: which tiers have no index rows."""
        index = self._require_index()
        target = self._resolve(ctx, uri)
        key = self._key(ctx, target)
        walked = await self.store.walk(key, 10_000, 1_000_000)
        expected: list[tuple[str, int]] = []
        if indexable(target):
            expected += [(target.uri, 0), (target.uri, 1)]
        for item in walked:
            child = target.join(item.key[len(key) + 1 :])
            if indexable(child):
                expected += [(child.uri, 0), (child.uri, 1)] if item.is_dir else [(child.uri, 2)]
        present = {
            (u, lvl)
            for u, lvl, _ in await index.uris(
                IndexFilter(account_id=ctx.account_id, uri_prefixes=(target.uri,))
            )
        }
        missing = [{"uri": u, "level": lvl} for u, lvl in expected if (u, lvl) not in present]
        # A directory without an L1 body is not missing anything.
        return {
            "ok": not missing,
            "expected_count": len(expected),
            "missing_record_count": len(missing),
            "missing_records": missing[:20],
            "missing_records_truncated": len(missing) > 20,
        }

    # -- tasks -----------------------------------------------------------------------------

    async def get_task(self, ctx: RequestContext, task_id: str) -> dict[str, Any]:
        self._require_open()
        return (await self.tasks.get(task_id, ctx)).to_dict()

    async def list_tasks(
        self,
        ctx: RequestContext,
        *,
        task_type: str | None = None,
        status: str | None = None,
        resource_id: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        self._require_open()
        records = await self.tasks.list(
            ctx, task_type=task_type, status=status, resource_id=resource_id, limit=limit
        )
        return [r.to_dict() for r in records]

    async def cancel_task(self, ctx: RequestContext, task_id: str) -> dict[str, Any]:
        self._require_open()
        return (await self.tasks.cancel(task_id, ctx)).to_dict()

    async def wait_processing(
        self, ctx: RequestContext, timeout: float | None = None
    ) -> dict[str, Any]:
        """Wait until no task is pending or running (all queues idle)."""
        self._require_open()
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not await self.tasks.idle():
            if deadline is not None and loop.time() > deadline:
                from openviking_mcp.contract.errors import DeadlineExceededError

                raise DeadlineExceededError("queue processing", timeout)
            await asyncio.sleep(0.1)
        return {"tasks": await self.tasks.counts(), **self.tasks.stats}
