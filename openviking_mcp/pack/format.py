"""The ``.ovpack`` format: names, limits, and the validation of a pack before import.

Everything here is pure and blocking (run it in a thread). :func:`inspect_pack` opens a zip and
checks, before anything is written: entry names (no absolute, backslash, drive, ``.`` or ``..``
paths), the manifest, the exact entry set (nothing outside the manifest, nothing missing), every
size and sha256, and the vector rows. Every violation is ``INVALID_ARGUMENT``. The layout is
described in :mod:`openviking_mcp.pack.service`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.contract.identity import validate_identifier
from openviking_mcp.contract.pack import OnConflict, VectorMode
from openviking_mcp.storage.sidecar import render_sidecar, sidecar_body, sidecar_meta

__all__ = [
    "BACKUP_SCOPES",
    "FILES",
    "MANIFEST",
    "MAX_ENTRIES",
    "PACK_FORMAT",
    "PACK_KIND",
    "VECTORS",
    "ZIP_ERRORS",
    "OnConflict",
    "Pack",
    "VectorMode",
    "bad",
    "check_modes",
    "inspect_pack",
    "rebase_sidecar",
    "safe_path",
    "sha256_of",
]

PACK_KIND = "openviking-mcp.ovpack"
PACK_FORMAT = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.jsonl"
FILES = "files/"
BACKUP_SCOPES = ("resources", "agent", "user")
MAX_ENTRIES = 200_000
_MAX_BYTES = 16 * 1024**3
_MAX_MANIFEST = 256 * 1024**2
_CHUNK = 1024 * 1024
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
ZIP_ERRORS = (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, zlib.error, OSError)


def bad(message: str, **details: Any) -> InvalidArgumentError:
    return InvalidArgumentError(message, details)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_path(path: object, what: str = "path") -> str:
    """A relative POSIX path with no absolute, backslash, drive, empty, ``.`` or ``..`` part."""
    if not isinstance(path, str) or not path:
        raise bad(f"Invalid {what} in ovpack: empty")
    parts = path.split("/")
    if (
        "\\" in path
        or "\x00" in path
        or any(p in ("", ".", "..") or _DRIVE_RE.match(p) for p in parts)
    ):
        raise bad(f"Unsafe {what} in ovpack: {path!r}", path=path)
    return path


def check_modes(on_conflict: str, vector_mode: str) -> None:
    if on_conflict not in ("fail", "overwrite", "skip"):
        raise bad("on_conflict must be fail, overwrite or skip", on_conflict=on_conflict)
    if vector_mode not in ("auto", "recompute", "require"):
        raise bad("vector_mode must be auto, recompute or require", vector_mode=vector_mode)


@dataclass(slots=True)
class Pack:
    """A validated pack (file content stays in the zip until it is written)."""

    zip_path: Path
    name: str
    source_uri: str
    backup: bool
    directories: list[str]
    files: dict[str, str]  # path -> sha256
    vectors: dict[str, Any] | None
    rows: list[dict[str, Any]] = field(default_factory=list)


# -- reading and validating (blocking: run in a thread) --------------------------------------


def _digest(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    sha = hashlib.sha256()
    with zf.open(info) as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def _in_root(path: str, name: str, backup: bool) -> bool:
    if backup:
        first, _, rest = path.partition("/")
        if first == "user" and rest:
            validate_identifier(rest.split("/")[0], "user_id")
        return first in BACKUP_SCOPES
    return path == name or path.startswith(name + "/")


def _manifest_files(
    manifest: dict[str, Any], name: str, backup: bool
) -> dict[str, tuple[int, str]]:
    raw = manifest.get("files")
    if not isinstance(raw, list):
        raise bad("ovpack manifest has no file list")
    files: dict[str, tuple[int, str]] = {}
    total = 0
    for item in raw:
        if not isinstance(item, dict):
            raise bad("Invalid file entry in ovpack manifest")
        path = safe_path(item.get("path"))
        size, sha = item.get("size"), item.get("sha256")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise bad(f"Invalid size for {path} in ovpack manifest", path=path)
        if not isinstance(sha, str) or not _SHA_RE.match(sha):
            raise bad(f"Invalid sha256 for {path} in ovpack manifest", path=path)
        if not _in_root(path, name, backup):
            raise bad(f"ovpack path outside the pack's root: {path}", path=path)
        if path in files:
            raise bad(f"Duplicate path in ovpack manifest: {path}", path=path)
        files[path] = (size, sha)
        total += size
    if len(files) > MAX_ENTRIES or total > _MAX_BYTES:
        raise bad("ovpack is too large", files=len(files), bytes=total)
    return files


def _vector_rows(
    raw: bytes, meta: dict[str, Any], dirs: set[str], files: set[str]
) -> list[dict[str, Any]]:
    dimension = meta["dimension"]
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(raw.decode("utf-8", errors="strict").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise bad(f"Invalid vector row {number} in ovpack (not JSON)") from None
        vector = row.get("vector") if isinstance(row, dict) else None
        level = row.get("level") if isinstance(row, dict) else None
        path = row.get("path") if isinstance(row, dict) else None
        valid = (
            isinstance(row, dict)
            and level in (0, 1, 2)
            and not isinstance(level, bool)
            and isinstance(path, str)
            and path in (files if level == 2 else dirs)
            and all(isinstance(row.get(k, ""), str) for k in ("anchor", "text", "abstract"))
            and isinstance(row.get("tags", []), list)
            and all(isinstance(t, str) for t in row.get("tags", []))
            and isinstance(vector, list)
            and len(vector) == dimension
            and all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in vector
            )
        )
        if not valid:
            raise bad(f"Invalid vector row {number} in ovpack", row=number)
        assert isinstance(row, dict)
        row["vector"] = np.asarray(vector, dtype=np.float32)
        rows.append(row)
    if rows and len(rows) != meta.get("count", len(rows)):
        raise bad("ovpack vector count does not match manifest")
    return rows


def _entries(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The zip's entries by name, each name checked (no unsafe path, no duplicate)."""
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES + 2:
        raise bad("ovpack has too many entries", entries=len(infos))
    names: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        safe_path(info.filename[:-1] if info.is_dir() else info.filename, "zip entry")
        if info.filename in names:
            raise bad(f"Duplicate zip entry in ovpack: {info.filename}")
        names[info.filename] = info
    return names


def _read_manifest(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo]) -> dict[str, Any]:
    """The manifest, checked for its kind and format version."""
    found = names.get(MANIFEST)
    if found is None or found.is_dir():
        raise bad("Missing ovpack manifest")
    if found.file_size > _MAX_MANIFEST:
        raise bad("ovpack manifest is too large")
    try:
        manifest = json.loads(zf.read(found))
    except ValueError:
        raise bad("ovpack manifest is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != PACK_KIND:
        raise bad("Not an openviking-mcp ovpack (manifest kind)")
    if manifest.get("format_version") != PACK_FORMAT:
        raise bad(f"Unsupported ovpack format_version: {manifest.get('format_version')!r}")
    return manifest


def _manifest_dirs(
    manifest: dict[str, Any], name: str, backup: bool, files: dict[str, tuple[int, str]]
) -> list[str]:
    """The manifest's directories, all inside the pack's root and none also a file."""
    raw_dirs = manifest.get("directories", [])
    if not isinstance(raw_dirs, list):
        raise bad("ovpack manifest directories must be a list")
    directories = [safe_path(d, "directory") for d in raw_dirs]
    if any(not _in_root(d, name, backup) or d in files for d in directories):
        raise bad("ovpack directory outside the pack's root or also a file")
    if not backup and name not in files and name not in directories:
        raise bad("ovpack manifest does not list its root", name=name)
    return directories


def _manifest_vectors(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The manifest's ``vectors`` section, ``None`` if the pack has no vectors."""
    vectors = manifest.get("vectors")
    if vectors is not None and not (
        isinstance(vectors, dict)
        and vectors.get("path") == VECTORS
        and isinstance(vectors.get("sha256"), str)
        and isinstance(vectors.get("model_id"), str)
        and isinstance(vectors.get("dimension"), int)
        and vectors["dimension"] > 0
    ):
        raise bad("Invalid vectors section in ovpack manifest")
    return vectors


def _check_entry_set(
    names: dict[str, zipfile.ZipInfo],
    files: dict[str, tuple[int, str]],
    directories: list[str],
    with_vectors: bool,
) -> None:
    """The zip holds exactly the manifest, its files (and folders) and, if listed, vectors."""
    expected = {MANIFEST, *(FILES + p for p in files)}
    if with_vectors:
        expected.add(VECTORS)
    folders = {FILES, *(FILES + d + "/" for d in directories)}
    for p in files:
        parts = p.split("/")
        folders.update(FILES + "/".join(parts[:i]) + "/" for i in range(1, len(parts)))
    for entry, item in names.items():
        if (entry not in folders) if item.is_dir() else (entry not in expected):
            raise bad(f"ovpack entry not in the manifest: {entry}", entry=entry)
    present = {n for n, i in names.items() if not i.is_dir()}
    if expected - present:
        raise bad(f"ovpack entry missing: {sorted(expected - present)[0]}")


def _read_rows(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    vectors: dict[str, Any],
    directories: list[str],
    files: dict[str, tuple[int, str]],
) -> list[dict[str, Any]]:
    raw = zf.read(info)
    if sha256_of(raw) != vectors["sha256"]:
        raise bad("ovpack vectors sha256 does not match manifest")
    try:
        return _vector_rows(raw, vectors, set(directories), set(files))
    except UnicodeDecodeError:
        raise bad("ovpack vectors are not UTF-8") from None


def _inspect_zip(path: Path, zf: zipfile.ZipFile) -> Pack:
    names = _entries(zf)
    manifest = _read_manifest(zf, names)
    backup = manifest.get("backup") is True
    name = "" if backup else safe_path(manifest.get("name"), "root name")
    if "/" in name:
        raise bad("ovpack root name may not contain '/'", name=name)
    files = _manifest_files(manifest, name, backup)
    directories = _manifest_dirs(manifest, name, backup, files)
    vectors = _manifest_vectors(manifest)
    _check_entry_set(names, files, directories, vectors is not None)
    for p, (size, sha) in files.items():
        item = names[FILES + p]
        if item.file_size != size or _digest(zf, item) != sha:
            raise bad(f"ovpack file sha256 does not match manifest: {p}", path=p)
    rows: list[dict[str, Any]] = []
    if vectors is not None:
        rows = _read_rows(zf, names[VECTORS], vectors, directories, files)
    return Pack(
        zip_path=path,
        name=name,
        source_uri=str(manifest.get("source_uri") or ""),
        backup=backup,
        directories=directories,
        files={p: sha for p, (_, sha) in files.items()},
        vectors=vectors,
        rows=rows,
    )


def inspect_pack(path: Path) -> Pack:
    try:
        with zipfile.ZipFile(path) as zf:
            return _inspect_zip(path, zf)
    except ZIP_ERRORS as exc:
        raise bad(f"Not a readable ovpack: {type(exc).__name__}: {exc}") from None


def rebase_sidecar(data: bytes, directory: str) -> bytes:
    """A sidecar whose front matter names ``directory`` (imports move folders)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    meta = sidecar_meta(text)
    named = meta.get("directory")
    if not isinstance(named, str) or named.rstrip("/") == directory.rstrip("/"):
        return data
    made = meta.get("generated_by")
    made = made if isinstance(made, dict) else {}
    return render_sidecar(
        directory,
        sidecar_body(text),
        component=str(made.get("component") or "import"),
        trigger=str(made.get("trigger") or "import"),
    ).encode("utf-8")
