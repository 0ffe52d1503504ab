"""Packs: ``.ovpack`` export and import of a subtree, backup and restore of a whole account.

An ``.ovpack`` is a ZIP holding:

* ``manifest.json``: ``{kind: "openviking-mcp.ovpack", format_version: 1, name, source_uri,
  backup, created_at, directories: [path], files: [{path, size, sha256}], vectors}``;
* ``files/{path}``: the content. Paths are relative to the parent of the exported root, so
  they all start with ``{name}`` (a backup's are relative to the account: ``resources/...``,
  ``agent/...``, ``user/{uid}/...``). Dot-files are included: sidecars, relations ledgers.
* ``vectors.jsonl`` (only with ``include_vectors``; ``vectors`` in the manifest then says
  ``{path, count, sha256, model_id, dimension}``): one index row per line without its runtime
  fields, ``{path, uri, level, anchor, text, abstract, tags, vector}``.

Exports are written only below ``{workspace}/exports/`` under a random name (never a name or
path a caller chose: the original's issue #1232); the HTTP route streams the file and deletes it,
and leftovers older than ``server.upload_ttl_seconds`` are purged at the next export.

Import checks everything before writing anything: entry names (no absolute, backslash, ``.`` or
``..`` paths), the exact entry set, every size and sha256, and the vector rows. Violations are
``INVALID_ARGUMENT`` (400). The tree is staged beside its target and swapped in whole; sidecars
and relation ledgers are rebased onto the new location. Vectors are reused when the pack's model
and dimension equal the index's and every indexable file has rows (``vector_mode="auto"``);
otherwise they are recomputed by a refresh task. Every operation needs the ROOT or ADMIN role
(seed 000).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openviking_mcp.contract.access import can_read, check_access
from openviking_mcp.contract.errors import (
    AlreadyExistsError,
    OpenVikingError,
    PermissionDeniedError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI, context_type_of, parse_uri
from openviking_mcp.indexing.rows import owner_of
from openviking_mcp.ops.base import iso_time
from openviking_mcp.indexing.service import indexable
from openviking_mcp.ops.base import ServiceCore
from openviking_mcp.relations.service import RELATIONS_FILE, rebase_ledger
from openviking_mcp.pack.format import (
    BACKUP_SCOPES,
    FILES,
    MANIFEST,
    MAX_ENTRIES,
    PACK_FORMAT,
    PACK_KIND,
    VECTORS,
    ZIP_ERRORS,
    OnConflict,
    Pack,
    VectorMode,
    bad,
    check_modes,
    inspect_pack,
    rebase_sidecar,
    sha256_of,
)
from openviking_mcp.storage import Entry
from openviking_mcp.storage.index import IndexFilter, IndexRecord
from openviking_mcp.storage.queue import BULK
from openviking_mcp.storage.sidecar import SIDECAR_FILES

__all__ = ["OnConflict", "PackOps", "VectorMode"]

_BATCH = 256


class PackOps(ServiceCore):
    @staticmethod
    def _require_admin(ctx: RequestContext, action: str) -> None:
        if not ctx.is_admin:
            raise PermissionDeniedError(
                f"{action} needs the ROOT or ADMIN role", {"role": ctx.role}
            )

    def _exports_dir(self) -> Path:
        return self.config.workspace / "exports"

    def _prepare_exports(self) -> Path:
        """Create ``exports/`` and purge exports older than the upload TTL (blocking)."""
        folder = self._exports_dir()
        folder.mkdir(parents=True, exist_ok=True)
        cutoff = time.time() - self.config.server.upload_ttl_seconds
        for item in folder.iterdir():
            try:
                if item.is_file() and item.stat().st_mtime < cutoff:
                    item.unlink()
            except OSError:
                continue
        return folder

    async def _walk_all(self, key: str) -> list[Entry]:
        items = await self.store.walk(key, 10_000, MAX_ENTRIES + 1)
        if len(items) > MAX_ENTRIES:
            raise bad(f"Too many entries to pack (more than {MAX_ENTRIES})")
        return items

    # -- export ----------------------------------------------------------------------------

    async def export_pack(
        self, ctx: RequestContext, uri: str, *, include_vectors: bool = False
    ) -> Path:
        """Write an ``.ovpack`` of the folder or file ``uri`` and return its path, always a new
        random file in ``{workspace}/exports/`` (the caller deletes it when done). Parts of the
        subtree the caller may not read (other users' spaces) are left out."""
        self._require_admin(ctx, "Exporting a pack")
        root = self._resolve(ctx, uri)
        if root.is_root or root.parent is None:
            raise bad(
                "Export a folder or file below viking:// (backup exports an account)", uri=root.uri
            )
        key = self._key(ctx, root)
        with self._fs_errors(root):
            entry = await self.store.stat(key)
        dirs: list[str] = []
        files: list[str] = []
        if entry.is_dir:
            dirs.append(root.name)
            for item in await self._walk_all(key):
                rel = item.key[len(key) + 1 :]
                if can_read(ctx, root.join(rel)):
                    (dirs if item.is_dir else files).append(f"{root.name}/{rel}")
        else:
            files.append(root.name)
        head = {"name": root.name, "source_uri": root.uri, "backup": False}
        return await self._write_pack(ctx, root.parent, root, head, dirs, files, include_vectors)

    async def backup(self, ctx: RequestContext, include_vectors: bool = False) -> Path:
        """Export the caller's whole account (resources, agent, every user space) as a backup
        pack in ``{workspace}/exports/``; only :meth:`restore` takes it back."""
        self._require_admin(ctx, "Backup")
        self._require_open()
        dirs: list[str] = []
        files: list[str] = []
        for scope in BACKUP_SCOPES:
            key = f"{ctx.account_id}/{scope}"
            if not await self.store.exists(key):
                continue
            dirs.append(scope)
            for item in await self._walk_all(key):
                rel = f"{scope}/{item.key[len(key) + 1 :]}"
                (dirs if item.is_dir else files).append(rel)
        head = {"name": "", "source_uri": "viking://", "backup": True, "account_id": ctx.account_id}
        root = VikingURI("")
        return await self._write_pack(ctx, root, root, head, dirs, files, include_vectors)

    async def _write_pack(
        self,
        ctx: RequestContext,
        base: VikingURI,
        root: VikingURI,
        head: dict[str, Any],
        dirs: list[str],
        files: list[str],
        include_vectors: bool,
    ) -> Path:
        if include_vectors:
            self._require_index()
        folder = await asyncio.to_thread(self._prepare_exports)
        path = folder / f"{uuid.uuid4().hex}.ovpack"
        base_key = self._key(ctx, base)
        listed: list[dict[str, Any]] = []
        try:
            zf = await asyncio.to_thread(zipfile.ZipFile, path, "w", zipfile.ZIP_DEFLATED)
            try:
                for rel in files:
                    try:
                        data = await self.store.read_bytes(f"{base_key}/{rel}")
                    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                        continue  # removed while exporting
                    await asyncio.to_thread(zf.writestr, FILES + rel, data)
                    listed.append({"path": rel, "size": len(data), "sha256": sha256_of(data)})
                vectors = None
                if include_vectors:
                    kept = {f["path"] for f in listed}
                    vectors = await self._write_vectors(ctx, zf, base, root, set(dirs), kept)
                manifest = {
                    "kind": PACK_KIND,
                    "format_version": PACK_FORMAT,
                    **head,
                    "created_at": iso_time(time.time()),
                    "directories": dirs,
                    "files": listed,
                    "vectors": vectors,
                }
                text = json.dumps(manifest, ensure_ascii=False, indent=2)
                await asyncio.to_thread(zf.writestr, MANIFEST, text)
            finally:
                await asyncio.to_thread(zf.close)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    async def _write_vectors(
        self,
        ctx: RequestContext,
        zf: zipfile.ZipFile,
        base: VikingURI,
        root: VikingURI,
        dirs: set[str],
        files: set[str],
    ) -> dict[str, Any]:
        """Stream the index rows of ``root`` into ``vectors.jsonl`` (rows of packed paths only)."""
        index = self._require_index()
        flt = IndexFilter(account_id=ctx.account_id, uri_prefixes=(root.uri,))
        sha, count, cursor = hashlib.sha256(), 0, None
        handle = await asyncio.to_thread(zf.open, VECTORS, "w")
        try:
            while True:
                records, cursor = await index.scroll(flt, 500, cursor)
                lines: list[str] = []
                for rec in records:
                    try:
                        rel = parse_uri(rec.uri).relative_to(base)
                    except (OpenVikingError, ValueError):
                        continue
                    if rel not in (files if rec.level == 2 else dirs):
                        continue
                    row = {
                        "path": rel,
                        "uri": rec.uri,
                        "level": rec.level,
                        "anchor": rec.anchor,
                        "text": rec.text,
                        "abstract": rec.abstract,
                        "tags": list(rec.tags),
                        "vector": [float(v) for v in rec.vector.tolist()],
                    }
                    lines.append(json.dumps(row, ensure_ascii=False) + "\n")
                if lines:
                    blob = "".join(lines).encode("utf-8")
                    sha.update(blob)
                    count += len(lines)
                    await asyncio.to_thread(handle.write, blob)
                if cursor is None:
                    break
        finally:
            await asyncio.to_thread(handle.close)
        return {
            "path": VECTORS,
            "count": count,
            "sha256": sha.hexdigest(),
            "model_id": index.model_id,
            "dimension": index.dimension,
        }

    # -- import ----------------------------------------------------------------------------

    async def _load_pack(self, ctx: RequestContext, temp_file_id: str) -> Pack:
        path, _ = await asyncio.to_thread(self._upload_path, ctx, temp_file_id)
        return await asyncio.to_thread(inspect_pack, path)

    @staticmethod
    def _destinations(pack: Pack, base: VikingURI) -> dict[str, VikingURI]:
        out: dict[str, VikingURI] = {}
        for path in (*pack.directories, *pack.files):
            try:
                out[path] = base.join(path)
            except OpenVikingError as exc:
                raise bad(f"Invalid path in ovpack: {path!r} ({exc.message})", path=path) from None
        return out

    def _reuse_vectors(self, pack: Pack, dests: dict[str, VikingURI], mode: VectorMode) -> bool:
        """Whether the pack's vectors can be used as they are; ``require`` raises if not."""
        if mode == "recompute":
            return False
        reason = ""
        if self._index_error is not None:
            if mode == "require":
                raise self._index_error
            return False
        if pack.vectors is None:
            reason = "the pack has no vectors"
        elif (pack.vectors["model_id"], pack.vectors["dimension"]) != (
            self.index.model_id,
            self.index.dimension,
        ):
            reason = (
                f"the pack's vectors are from {pack.vectors['model_id']} "
                f"({pack.vectors['dimension']}), the index uses {self.index.model_id} "
                f"({self.index.dimension})"
            )
        else:
            covered = {row["path"] for row in pack.rows if row["level"] == 2}
            missing = [p for p in pack.files if indexable(dests[p]) and p not in covered]
            if missing:
                reason = f"the pack has no vectors for {missing[0]}"
        if reason and mode == "require":
            raise bad(f"vector_mode=require: {reason}", vector_mode=mode)
        return not reason

    async def _copy_entries(
        self,
        pack: Pack,
        key_base: str,
        skip: set[str],
        transform: Callable[[str, bytes], bytes] | None = None,
    ) -> set[str]:
        """Write the pack's folders and files below ``key_base``; returns the written paths."""
        for directory in pack.directories:
            await self.store.mkdir(f"{key_base}/{directory}", exist_ok=True)
        written: set[str] = set()
        zf = await asyncio.to_thread(zipfile.ZipFile, pack.zip_path)
        try:
            for path, sha in pack.files.items():
                if path in skip:
                    continue
                try:
                    data = await asyncio.to_thread(zf.read, FILES + path)
                except ZIP_ERRORS as exc:
                    raise bad(f"ovpack changed while importing: {exc}") from None
                if sha256_of(data) != sha:
                    raise bad(f"ovpack file sha256 does not match manifest: {path}", path=path)
                await self.store.write_bytes(
                    f"{key_base}/{path}", transform(path, data) if transform else data
                )
                written.add(path)
        finally:
            await asyncio.to_thread(zf.close)
        return written

    async def import_pack(
        self,
        ctx: RequestContext,
        temp_file_id: str,
        parent: str,
        *,
        on_conflict: OnConflict = "fail",
        vector_mode: VectorMode = "auto",
    ) -> dict[str, Any]:
        """Import an uploaded ``.ovpack`` as ``{parent}/{name}``.

        ``on_conflict``: ``fail`` (409 if the target exists), ``overwrite`` (replace it whole)
        or ``skip`` (keep it and write nothing). Result: ``{uri, status, files, vectors,
        task_ids}`` with ``status`` created/replaced/skipped and ``vectors``
        reused/recomputed/skipped.
        """
        self._require_admin(ctx, "Importing a pack")
        check_modes(on_conflict, vector_mode)
        base = self._resolve(ctx, parent, field="parent")
        pack = await self._load_pack(ctx, temp_file_id)
        if pack.backup:
            raise bad("This is a backup package; restore it with /api/v1/pack/restore")
        dests = self._destinations(pack, base)
        target = dests[pack.name]
        for dest in dests.values():
            check_access(ctx, dest, mutate=True)
        await self._require_dir(ctx, base)
        reuse = self._reuse_vectors(pack, dests, vector_mode)
        key = self._key(ctx, target)
        if await self.store.exists(key):
            if on_conflict == "fail":
                raise AlreadyExistsError(target.uri)
            if on_conflict == "skip":
                return {"uri": target.uri, "status": "skipped", "files": 0, "vectors": "skipped"}
        staging = f"{self._key(ctx, base)}/.ovpack-staging-{uuid.uuid4().hex}"
        old, new = pack.source_uri, target.uri

        def rebase(path: str, data: bytes) -> bytes:
            folder, _, leaf = path.rpartition("/")
            if folder and leaf in SIDECAR_FILES:
                return rebase_sidecar(data, dests[folder].uri)
            if leaf == RELATIONS_FILE and old and old != new:
                return rebase_ledger(data, old, new)
            return data

        try:
            written = await self._copy_entries(pack, staging, set(), rebase)
            async with self.locks.lock(self._lock_path(ctx, target)):
                replaced = await self.store.exists(key)
                if replaced and on_conflict != "overwrite":
                    raise AlreadyExistsError(target.uri)
                if replaced:
                    await self.store.remove(key, recursive=True)
                await self.store.move(f"{staging}/{pack.name}", key)
        finally:
            if await self.store.exists(staging):
                await self.store.remove(staging, recursive=True)
        if replaced and self._index_error is None:
            await self.index.delete(
                IndexFilter(account_id=ctx.account_id, uri_prefixes=(target.uri,))
            )
        status, task_ids = await self._index_imported(ctx, pack, dests, written, reuse, [target])
        if indexable(base) and self._index_error is None:  # the parent now lists the import
            task_ids.append(
                await self._queue_refresh(ctx, [base.uri], recursive=False, resource_id=base.uri)
            )
        return {
            "uri": target.uri,
            "status": "replaced" if replaced else "created",
            "files": len(written),
            "vectors": status,
            "task_ids": task_ids,
        }

    async def _index_imported(
        self,
        ctx: RequestContext,
        pack: Pack,
        dests: dict[str, VikingURI],
        written: set[str],
        reuse: bool,
        roots: list[VikingURI],
    ) -> tuple[str, list[str]]:
        """Upsert the pack's rows of what was written, or queue a refresh of ``roots``."""
        if self._index_error is not None:
            return "skipped", []
        if not reuse:
            uris = [r.uri for r in roots if indexable(r)]
            if not uris:
                return "skipped", []
            task = await self._queue_refresh(
                ctx, uris, recursive=True, bubble=False, semantic=False, priority=BULK
            )
            return "recomputed", [task]
        sources = {0: "/.abstract.md", 1: "/.overview.md", 2: ""}
        records: list[IndexRecord] = []
        for row in pack.rows:
            uri = dests[row["path"]]
            if row["path"] + sources[row["level"]] not in written or not indexable(uri):
                continue
            parent = uri.parent
            records.append(
                IndexRecord(
                    uri=uri.uri,
                    level=row["level"],
                    account_id=ctx.account_id,
                    context_type=context_type_of(uri),
                    vector=row["vector"],
                    text=row.get("text", ""),
                    abstract=row.get("abstract", ""),
                    name=uri.name,
                    parent_uri=parent.uri if parent else "",
                    anchor=row.get("anchor", ""),
                    owner_user_id=owner_of(uri),
                    tags=list(row.get("tags", [])),
                )
            )
        for start in range(0, len(records), _BATCH):
            await self.index.upsert(records[start : start + _BATCH])
        if records:
            self.index.schedule_optimize()
        return "reused", []

    # -- restore ---------------------------------------------------------------------------

    async def restore(
        self,
        ctx: RequestContext,
        temp_file_id: str,
        *,
        on_conflict: OnConflict = "fail",
        vector_mode: VectorMode = "auto",
    ) -> dict[str, Any]:
        """Merge an uploaded backup pack into the caller's account (ROOT or ADMIN).

        Files that already exist with the same bytes are left alone; for other existing files
        ``on_conflict`` decides: ``fail`` (409 before anything is written; folder sidecars are
        merged, not counted), ``overwrite`` or ``skip``. Result: ``{uri, files, skipped,
        vectors, task_ids}``.
        """
        self._require_admin(ctx, "Restore")
        check_modes(on_conflict, vector_mode)
        self._require_open()
        pack = await self._load_pack(ctx, temp_file_id)
        if not pack.backup:
            raise bad("Not a backup package; import it with /api/v1/pack/import")
        dests = self._destinations(pack, VikingURI(""))
        reuse = self._reuse_vectors(pack, dests, vector_mode)
        account = ctx.account_id
        skip: set[str] = set()
        existing: list[str] = []
        conflicts: list[str] = []
        for path, sha in pack.files.items():
            try:
                current = await self.store.read_bytes(f"{account}/{path}")
            except FileNotFoundError:
                continue
            except (IsADirectoryError, NotADirectoryError):
                current = None
            existing.append(path)
            if (current is not None and sha256_of(current) == sha) or on_conflict == "skip":
                skip.add(path)
            elif on_conflict == "fail" and (
                current is None or path.rpartition("/")[2] not in SIDECAR_FILES
            ):
                conflicts.append(path)
        if conflicts:
            raise AlreadyExistsError(
                dests[conflicts[0]].uri,
                message=f"{len(conflicts)} file(s) of the backup exist with other content, "
                f"e.g. {dests[conflicts[0]].uri} (use on_conflict=overwrite or skip)",
            )
        async with self.locks.lock((account,)):
            written = await self._copy_entries(pack, account, skip)
        replaced = [dests[p].uri for p in existing if p in written]
        for start in range(0, len(replaced) if self._index_error is None else 0, 100):
            # rows of overwritten files (a shorter file has fewer passages)
            chunk = tuple(replaced[start : start + 100])
            await self.index.delete(
                IndexFilter(account_id=account, uri_prefixes=chunk, levels=(2,))
            )
        roots = [VikingURI(s) for s in BACKUP_SCOPES if s in pack.directories]
        status, task_ids = await self._index_imported(ctx, pack, dests, written, reuse, roots)
        return {
            "uri": "viking://",
            "files": len(written),
            "skipped": len(skip),
            "vectors": status,
            "task_ids": task_ids,
        }
