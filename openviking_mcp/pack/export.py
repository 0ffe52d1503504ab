"""Writing an ``.ovpack``: the exports folder, the file entries, the vector rows, the manifest.

A pack is always a new file with a random name in ``{workspace}/exports/``, never a name or a
path a caller chose. Preparing the folder purges exports older than
``server.upload_ttl_seconds`` (the HTTP route deletes what it sent; this catches the rest).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from openviking_mcp.contract.errors import OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI, parse_uri
from openviking_mcp.pack.format import FILES, MANIFEST, PACK_FORMAT, PACK_KIND, VECTORS, sha256_of
from openviking_mcp.storage.index import IndexFilter, IndexRecord
from openviking_mcp.store import Store, iso_time

if TYPE_CHECKING:
    from openviking_mcp.storage.index import SearchIndex

__all__ = ["PackContents", "PackWriter", "purge_old_exports", "vector_row"]

_SCROLL = 500


@dataclass(slots=True)
class PackContents:
    """What goes into one pack.

    ``base`` is the folder the paths are relative to, ``root`` the subtree whose index rows
    travel with it; ``head`` the manifest's identifying fields (``name``, ``source_uri``,
    ``backup``...); ``dirs`` and ``files`` paths relative to ``base``.
    """

    base: VikingURI
    root: VikingURI
    head: dict[str, Any]
    dirs: list[str]
    files: list[str]


def purge_old_exports(folder: Path, ttl_seconds: float) -> Path:
    """Create ``folder`` and remove the files in it older than ``ttl_seconds`` (blocking)."""
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - ttl_seconds
    for item in folder.iterdir():
        try:
            if item.is_file() and item.stat().st_mtime < cutoff:
                item.unlink()
        except OSError:
            continue
    return folder


def vector_row(rec: IndexRecord, rel: str) -> dict[str, Any]:
    """One line of ``vectors.jsonl``: an index row without its runtime fields."""
    return {
        "path": rel,
        "uri": rec.uri,
        "level": rec.level,
        "anchor": rec.anchor,
        "text": rec.text,
        "abstract": rec.abstract,
        "tags": list(rec.tags),
        "vector": [float(v) for v in rec.vector.tolist()],
    }


class PackWriter:
    """Writes packs of one store's content (and index rows) into its exports folder."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @property
    def folder(self) -> Path:
        return self._store.config.workspace / "exports"

    async def write(
        self, ctx: RequestContext, contents: PackContents, include_vectors: bool
    ) -> Path:
        """Write ``contents`` as a new pack and return its path (nothing is left on failure)."""
        index = self._store.require_index() if include_vectors else None
        ttl = self._store.config.server.upload_ttl_seconds
        folder = await asyncio.to_thread(purge_old_exports, self.folder, ttl)
        path = folder / f"{uuid.uuid4().hex}.ovpack"
        try:
            zf = await asyncio.to_thread(zipfile.ZipFile, path, "w", zipfile.ZIP_DEFLATED)
            try:
                listed = await self._write_files(ctx, zf, contents)
                vectors = None
                if index is not None:
                    kept = {f["path"] for f in listed}
                    vectors = await self._write_vectors(ctx, index, zf, contents, kept)
                manifest = {
                    "kind": PACK_KIND,
                    "format_version": PACK_FORMAT,
                    **contents.head,
                    "created_at": iso_time(time.time()),
                    "directories": contents.dirs,
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

    async def _write_files(
        self, ctx: RequestContext, zf: zipfile.ZipFile, contents: PackContents
    ) -> list[dict[str, Any]]:
        """Copy the files into ``files/``; returns their manifest entries (files removed
        meanwhile are left out)."""
        base_key = self._store.key(ctx, contents.base)
        listed: list[dict[str, Any]] = []
        for rel in contents.files:
            try:
                data = await self._store.content.read_bytes(f"{base_key}/{rel}")
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                continue
            await asyncio.to_thread(zf.writestr, FILES + rel, data)
            listed.append({"path": rel, "size": len(data), "sha256": sha256_of(data)})
        return listed

    async def _write_vectors(
        self,
        ctx: RequestContext,
        index: SearchIndex,
        zf: zipfile.ZipFile,
        contents: PackContents,
        files: set[str],
    ) -> dict[str, Any]:
        """Stream the index rows of ``contents.root`` into ``vectors.jsonl`` (rows of packed
        paths only); returns the manifest's ``vectors`` entry."""
        flt = IndexFilter(account_id=ctx.account_id, uri_prefixes=(contents.root.uri,))
        dirs = set(contents.dirs)
        sha, count, cursor = hashlib.sha256(), 0, None
        handle = await asyncio.to_thread(zf.open, VECTORS, "w")
        try:
            while True:
                records, cursor = await index.scroll(flt, _SCROLL, cursor)
                lines = _vector_lines(records, contents.base, dirs, files)
                if lines:
                    blob = "".join(lines).encode("utf-8")
                    sha.update(blob)
                    count += len(lines)
                    await asyncio.to_thread(_write_blob, handle, blob)
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


def _vector_lines(
    records: list[IndexRecord], base: VikingURI, dirs: set[str], files: set[str]
) -> list[str]:
    """The JSON lines of the rows whose path (relative to ``base``) is in the pack."""
    lines: list[str] = []
    for rec in records:
        try:
            rel = parse_uri(rec.uri).relative_to(base)
        except (OpenVikingError, ValueError):
            continue
        if rel not in (files if rec.level == 2 else dirs):
            continue
        lines.append(json.dumps(vector_row(rec, rel), ensure_ascii=False) + "\n")
    return lines


def _write_blob(handle: IO[bytes], blob: bytes) -> None:
    handle.write(blob)
