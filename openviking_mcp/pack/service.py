"""The pack service: ``.ovpack`` export and import of a subtree, backup and restore of an account.

An ``.ovpack`` is a ZIP holding:

* ``manifest.json``: ``{kind: "openviking-mcp.ovpack", format_version: 1, name, source_uri,
  backup, created_at, directories: [path], files: [{path, size, sha256}], vectors}``;
* ``files/{path}``: the content. Paths are relative to the parent of the exported root, so
  they all start with ``{name}`` (a backup's are relative to the account: ``resources/...``,
  ``agent/...``, ``user/{uid}/...``). Dot-files are included: sidecars, relations ledgers.
* ``vectors.jsonl`` (only with ``include_vectors``; ``vectors`` in the manifest then says
  ``{path, count, sha256, model_id, dimension}``): one index row per line without its runtime
  fields, ``{path, uri, level, anchor, text, abstract, tags, vector}``.

Exports are written only below ``{workspace}/exports/`` under a random name
(:mod:`openviking_mcp.pack.export`); the HTTP route streams the file and deletes it.

Import checks everything before writing anything (:func:`~openviking_mcp.pack.format.inspect_pack`):
entry names, the exact entry set, every size and sha256, and the vector rows. Violations are
``INVALID_ARGUMENT``. The tree is staged beside its target and swapped in whole; sidecars and
relation ledgers are rebased onto the new location. Vectors are reused when they fit the index
(:mod:`openviking_mcp.pack.vectors`, ``vector_mode="auto"``); otherwise a refresh task
recomputes them. Export and import are open to every role (an export holds only what its
caller may read; an import writes only where its caller may write, and replacing shared data
follows the owner rule); backup and restore need the ROOT or ADMIN role.

Packs follow the read rules (:mod:`openviking_mcp.contract.access`): an export leaves out what
its caller may not read; an ADMIN's backup holds the shared scopes and the ADMIN's own user
space (ROOT's holds every user space); a restore writes only where its caller may: entries in
other users' spaces are never written, and are reported as ``refused``.
"""

from __future__ import annotations

import asyncio
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

from openviking_mcp.contract.access import (
    can_read,
    check_access,
    readable,
    readable_prefixes,
    readable_roots,
)
from openviking_mcp.contract.errors import (
    AlreadyExistsError,
    OpenVikingError,
    PermissionDeniedError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.pack import (
    BackupRequest,
    ExportPackRequest,
    ImportPackRequest,
    ImportPackResult,
    OnConflict,
    RestoreRequest,
    RestoreResult,
    VectorMode,
    VectorStatus,
)
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.indexing.service import IndexingService, indexable
from openviking_mcp.pack.export import PackContents, PackWriter
from openviking_mcp.pack.format import (
    BACKUP_SCOPES,
    FILES,
    MAX_ENTRIES,
    ZIP_ERRORS,
    Pack,
    bad,
    check_modes,
    inspect_pack,
    rebase_sidecar,
    sha256_of,
)
from openviking_mcp.pack.vectors import imported_records, vector_mismatch
from openviking_mcp.relations.service import RELATIONS_FILE, rebase_ledger
from openviking_mcp.storage import Entry
from openviking_mcp.storage.index import IndexFilter
from openviking_mcp.storage.queue import BULK
from openviking_mcp.storage.sidecar import SIDECAR_FILES
from openviking_mcp.store import Store
from openviking_mcp.uploads.service import UploadService

__all__ = ["PackService"]

_BATCH = 256  # index rows upserted at once
_DELETE_BATCH = 100  # URIs per index delete

Transform = Callable[[str, bytes], bytes]


def _require_admin(ctx: RequestContext, action: str) -> None:
    if not ctx.is_admin:
        raise PermissionDeniedError(f"{action} needs the ROOT or ADMIN role", {"role": ctx.role})


def _uri_of(ctx: RequestContext, key: str) -> str:
    """The URI of a storage key of ``ctx``'s account."""
    return "viking://" + key[len(ctx.account_id) + 1 :]


def _backup_roots(ctx: RequestContext) -> list[VikingURI]:
    """What a backup walks: every backup scope for ROOT, else what the caller may read."""
    if ctx.is_root:
        return [VikingURI(scope) for scope in BACKUP_SCOPES]
    return list(readable_roots(ctx))


def _restorable(ctx: RequestContext, pack: Pack, dests: dict[str, VikingURI]) -> list[str]:
    """A restore writes only where its caller may: the entries of ``pack`` in other users'
    spaces are taken out of it (never written) and returned as URIs, to be reported."""
    refused = {path for path, uri in dests.items() if not can_read(ctx, uri)}
    if refused:
        pack.directories = [d for d in pack.directories if d not in refused]
        pack.files = {p: sha for p, sha in pack.files.items() if p not in refused}
        pack.rows = [row for row in pack.rows if row.get("path") not in refused]
    return sorted(dests[path].uri for path in refused)


def _destinations(pack: Pack, base: VikingURI) -> dict[str, VikingURI]:
    """The URI of every folder and file of ``pack`` once placed below ``base``."""
    out: dict[str, VikingURI] = {}
    for path in (*pack.directories, *pack.files):
        try:
            out[path] = base.join(path)
        except OpenVikingError as exc:
            raise bad(f"Invalid path in ovpack: {path!r} ({exc.message})", path=path) from None
    return out


def _rebaser(pack: Pack, target: VikingURI, dests: dict[str, VikingURI]) -> Transform:
    """Rewrites sidecars and relation ledgers of ``pack`` for its new root ``target``."""
    old, new = pack.source_uri, target.uri

    def rebase(path: str, data: bytes) -> bytes:
        folder, _, leaf = path.rpartition("/")
        if folder and leaf in SIDECAR_FILES:
            return rebase_sidecar(data, dests[folder].uri)
        if leaf == RELATIONS_FILE and old and old != new:
            return rebase_ledger(data, old, new)
        return data

    return rebase


class PackService:
    """See the module docs. ``indexing`` queues the refresh of what was imported; ``uploads``
    finds the uploaded pack of a ``temp_file_id``."""

    def __init__(self, store: Store, indexing: IndexingService, uploads: UploadService) -> None:
        self._store = store
        self._indexing = indexing
        self._uploads = uploads
        self._writer = PackWriter(store)

    async def _walk_all(self, key: str) -> list[Entry]:
        items = await self._store.content.walk(key, 10_000, MAX_ENTRIES + 1)
        if len(items) > MAX_ENTRIES:
            raise bad(f"Too many entries to pack (more than {MAX_ENTRIES})")
        return items

    # -- export ----------------------------------------------------------------------------

    async def export_pack(self, ctx: RequestContext, req: ExportPackRequest) -> Path:
        """Write an ``.ovpack`` of the folder or file ``uri`` and return its path, always a new
        random file in ``{workspace}/exports/`` (the caller deletes it when done). Parts of the
        subtree the caller may not read (other users' spaces) are left out."""
        store = self._store
        root = store.resolve(ctx, req.uri)
        if root.is_root or root.parent is None:
            raise bad(
                "Export a folder or file below viking:// (backup exports an account)", uri=root.uri
            )
        key = store.key(ctx, root)
        with store.fs_errors(root):
            entry = await store.content.stat(key)
        dirs: list[str] = []
        files: list[str] = []
        if entry.is_dir:
            dirs.append(root.name)
            for item in readable(ctx, await self._walk_all(key), lambda i: _uri_of(ctx, i.key)):
                rel = item.key[len(key) + 1 :]
                (dirs if item.is_dir else files).append(f"{root.name}/{rel}")
        else:
            files.append(root.name)
        head = {"name": root.name, "source_uri": root.uri, "backup": False}
        contents = PackContents(root.parent, root, head, dirs, files)
        return await self._writer.write(ctx, contents, req.include_vectors)

    async def backup(self, ctx: RequestContext, req: BackupRequest) -> Path:
        """Export the caller's account as a backup pack in ``{workspace}/exports/``; only
        :meth:`restore` takes it back.

        It holds what the caller may read: the shared scopes (``resources``, ``agent``) and
        the caller's own user space; other users' spaces only in a ROOT backup."""
        _require_admin(ctx, "Backup")
        self._store.require_open()
        dirs: list[str] = []
        files: list[str] = []
        for root in _backup_roots(ctx):
            key = self._store.key(ctx, root)
            if not await self._store.content.exists(key):
                continue
            for depth in range(1, len(root.parts) + 1):
                folder = "/".join(root.parts[:depth])
                if folder not in dirs:
                    dirs.append(folder)
            for item in await self._walk_all(key):
                rel = f"{'/'.join(root.parts)}/{item.key[len(key) + 1 :]}"
                (dirs if item.is_dir else files).append(rel)
        dirs = readable(ctx, dirs, lambda path: f"viking://{path}")
        files = readable(ctx, files, lambda path: f"viking://{path}")
        head = {"name": "", "source_uri": "viking://", "backup": True, "account_id": ctx.account_id}
        root = VikingURI("")
        contents = PackContents(root, root, head, dirs, files)
        return await self._writer.write(ctx, contents, req.include_vectors)

    # -- reading and writing a pack --------------------------------------------------------

    async def _load_pack(self, ctx: RequestContext, temp_file_id: str) -> Pack:
        await self._uploads.localize(temp_file_id)
        path, _ = await asyncio.to_thread(self._uploads.upload_path, ctx, temp_file_id)
        return await asyncio.to_thread(inspect_pack, path)

    def _reuse_vectors(self, pack: Pack, dests: dict[str, VikingURI], mode: VectorMode) -> bool:
        """Whether the pack's vectors can be used as they are; ``require`` raises if not."""
        if mode == "recompute":
            return False
        store = self._store
        if store.index_error is not None:
            if mode == "require":
                raise store.index_error
            return False
        reason = vector_mismatch(pack, dests, store.index.model_id, store.index.dimension)
        if reason and mode == "require":
            raise bad(f"vector_mode=require: {reason}", vector_mode=mode)
        return not reason

    async def _copy_entries(
        self, pack: Pack, key_base: str, skip: set[str], transform: Transform | None = None
    ) -> set[str]:
        """Write the pack's folders and files below ``key_base`` (each file checked against
        its sha256 again); returns the written paths."""
        content = self._store.content
        for directory in pack.directories:
            await content.mkdir(f"{key_base}/{directory}", exist_ok=True)
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
                await content.write_bytes(
                    f"{key_base}/{path}", transform(path, data) if transform else data
                )
                written.add(path)
        finally:
            await asyncio.to_thread(zf.close)
        return written

    async def _index_imported(
        self,
        ctx: RequestContext,
        pack: Pack,
        dests: dict[str, VikingURI],
        written: set[str],
        reuse: bool,
        roots: list[VikingURI],
    ) -> tuple[VectorStatus, list[str]]:
        """Upsert the pack's rows of what was written, or queue a refresh of ``roots``."""
        store = self._store
        if not store.indexing_enabled:
            return "skipped", []
        if not reuse:
            uris = [r.uri for r in roots if indexable(r)]
            if not uris:
                return "skipped", []
            task = await self._indexing.queue_refresh(
                ctx, uris, recursive=True, bubble=False, semantic=False, priority=BULK
            )
            return "recomputed", [task]
        records = imported_records(ctx, pack, dests, written)
        for start in range(0, len(records), _BATCH):
            await store.index.upsert(records[start : start + _BATCH])
        if records:
            store.index.schedule_optimize()
        return "reused", []

    # -- import ----------------------------------------------------------------------------

    async def import_pack(self, ctx: RequestContext, req: ImportPackRequest) -> ImportPackResult:
        """Import an uploaded ``.ovpack`` as ``{parent}/{name}``.

        ``on_conflict``: ``fail`` (409 if the target exists), ``overwrite`` (replace it whole)
        or ``skip`` (keep it and write nothing).
        """
        check_modes(req.on_conflict, req.vector_mode)
        store = self._store
        base = store.resolve(ctx, req.parent, field="parent")
        pack = await self._load_pack(ctx, req.temp_file_id)
        if pack.backup:
            raise bad("This is a backup package; restore it with /api/v1/pack/restore")
        dests = _destinations(pack, base)
        target = dests[pack.name]
        for dest in dests.values():
            check_access(ctx, dest, mutate=True)
        await store.require_dir(ctx, base)
        reuse = self._reuse_vectors(pack, dests, req.vector_mode)
        if await store.content.exists(store.key(ctx, target)):
            if req.on_conflict == "fail":
                raise AlreadyExistsError(target.uri)
            if req.on_conflict == "skip":
                return ImportPackResult(
                    uri=target.uri, status="skipped", files=0, vectors="skipped"
                )
        written, replaced = await self._stage_and_swap(ctx, pack, base, dests, req.on_conflict)
        if replaced and store.indexing_enabled:
            await store.index.delete(
                IndexFilter(account_id=ctx.account_id, uri_prefixes=(target.uri,))
            )
        status, task_ids = await self._index_imported(ctx, pack, dests, written, reuse, [target])
        if indexable(base) and store.indexing_enabled:  # the parent now lists the import
            task_ids.append(
                await self._indexing.queue_refresh(
                    ctx, [base.uri], recursive=False, resource_id=base.uri
                )
            )
        return ImportPackResult(
            uri=target.uri,
            status="replaced" if replaced else "created",
            files=len(written),
            vectors=status,
            task_ids=task_ids,
        )

    async def _stage_and_swap(
        self,
        ctx: RequestContext,
        pack: Pack,
        base: VikingURI,
        dests: dict[str, VikingURI],
        on_conflict: OnConflict,
    ) -> tuple[set[str], bool]:
        """Write the pack into a staging folder in ``base``, then move its root into place
        under the target's lock (replacing it with ``overwrite``). Returns the written paths
        and whether a previous target was replaced; the staging folder never stays."""
        store, content = self._store, self._store.content
        target = dests[pack.name]
        key = store.key(ctx, target)
        staging = f"{store.key(ctx, base)}/.ovpack-staging-{uuid.uuid4().hex}"
        try:
            written = await self._copy_entries(pack, staging, set(), _rebaser(pack, target, dests))
            async with store.locks.lock(store.lock_path(ctx, target)):
                replaced = await content.exists(key)
                if replaced and on_conflict != "overwrite":
                    raise AlreadyExistsError(target.uri)
                if replaced:
                    await store.owners.require(ctx, target)
                    await content.remove(key, recursive=True)
                    await store.owners.removed(ctx, target)
                await store.owners.claim(ctx, target)
                await content.move(f"{staging}/{pack.name}", key)
        finally:
            if await content.exists(staging):
                await content.remove(staging, recursive=True)
        return written, replaced

    # -- restore ---------------------------------------------------------------------------

    async def restore(self, ctx: RequestContext, req: RestoreRequest) -> RestoreResult:
        """Merge an uploaded backup pack into the caller's account (ROOT or ADMIN). Entries in
        other users' spaces are left out and reported (``refused``, ``refused_uris``).

        Files that already exist with the same bytes are left alone; for other existing files
        ``on_conflict`` decides: ``fail`` (409 before anything is written; folder sidecars are
        merged, not counted), ``overwrite`` or ``skip``.
        """
        _require_admin(ctx, "Restore")
        check_modes(req.on_conflict, req.vector_mode)
        store = self._store
        store.require_open()
        pack = await self._load_pack(ctx, req.temp_file_id)
        if not pack.backup:
            raise bad("Not a backup package; import it with /api/v1/pack/import")
        dests = _destinations(pack, VikingURI(""))
        refused = _restorable(ctx, pack, dests)
        reuse = self._reuse_vectors(pack, dests, req.vector_mode)
        account = ctx.account_id
        skip, existing = await self._existing_files(ctx, pack, dests, req.on_conflict)
        async with store.locks.lock((account,)):
            written = await self._copy_entries(pack, account, skip)
        await self._forget_rows(ctx, [dests[p].uri for p in existing if p in written])
        scopes = [VikingURI(s) for s in BACKUP_SCOPES if s in pack.directories]
        roots = list(readable_prefixes(ctx, scopes)) if scopes else []
        status, task_ids = await self._index_imported(ctx, pack, dests, written, reuse, roots)
        return RestoreResult(
            uri="viking://",
            files=len(written),
            skipped=len(skip),
            vectors=status,
            task_ids=task_ids,
            refused=len(refused) if refused else None,
            refused_uris=refused[:20] if refused else None,
        )

    async def _existing_files(
        self,
        ctx: RequestContext,
        pack: Pack,
        dests: dict[str, VikingURI],
        on_conflict: OnConflict,
    ) -> tuple[set[str], list[str]]:
        """The backup's files to skip (same bytes, or ``skip``) and all that already exist;
        with ``fail``, any other existing file (but a folder sidecar) is a conflict."""
        skip: set[str] = set()
        existing: list[str] = []
        conflicts: list[str] = []
        for path, sha in pack.files.items():
            try:
                current = await self._store.content.read_bytes(f"{ctx.account_id}/{path}")
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
            first = dests[conflicts[0]].uri
            raise AlreadyExistsError(
                first,
                message=f"{len(conflicts)} file(s) of the backup exist with other content, "
                f"e.g. {first} (use on_conflict=overwrite or skip)",
            )
        return skip, existing

    async def _forget_rows(self, ctx: RequestContext, uris: list[str]) -> None:
        """Delete the passage rows of overwritten files (a shorter file has fewer)."""
        if not self._store.indexing_enabled:
            return
        for start in range(0, len(uris), _DELETE_BATCH):
            chunk = tuple(uris[start : start + _DELETE_BATCH])
            await self._store.index.delete(
                IndexFilter(account_id=ctx.account_id, uri_prefixes=chunk, levels=(2,))
            )
