"""Local sources the HTTP clients upload before calling the API (seed 000: "CLI,
SyncHTTPClient, and AsyncHTTPClient automatically upload local files or directories").

A file is sent as it is; a directory is zipped first into a temporary file (one top folder
named after the directory, so the server imports it under that name). Resource folders keep
exactly the files an embedded import would take (``.gitignore``, include/exclude globs, ignored
folder names; links are never followed). Skill folders keep every file whose real path stays
inside the folder, so a symlink that escapes it is left out, as the embedded loader does.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

from openviking_mcp.contract.errors import InvalidArgumentError, NotFoundError
from openviking_mcp.resources.sources import SourceFilter, walk_source
from openviking_mcp.skills.paths import is_existing_path, looks_like_path

__all__ = [
    "PreparedUpload",
    "UploadSource",
    "local_file",
    "prepare_upload",
    "resource_source",
    "skill_source",
]

_ZIP_MAGIC = b"PK\x03\x04"

UploadKind = Literal["file", "resource_dir", "skill_dir", "bytes"]
_Fill = Callable[[IO[bytes]], object]


@dataclass(frozen=True, slots=True)
class UploadSource:
    """Something to send to ``POST /api/v1/resources/temp_upload``."""

    kind: UploadKind
    filename: str
    path: Path | None = None
    data: bytes | None = None
    filter: SourceFilter = field(default_factory=SourceFilter)


@dataclass(frozen=True, slots=True)
class PreparedUpload:
    """A file ready to send; ``temporary`` ones are deleted by :meth:`cleanup`."""

    path: Path
    filename: str
    temporary: bool

    def cleanup(self) -> None:
        if self.temporary:
            self.path.unlink(missing_ok=True)


def local_file(path: str | os.PathLike[str]) -> UploadSource:
    """The upload of one existing local file."""
    local = Path(path).expanduser()
    if not local.is_file():
        raise NotFoundError(str(path), "file", message=f"Local file not found: {path}")
    return UploadSource("file", local.name, path=local)


def resource_source(
    path: str,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    ignore_dirs: list[str] | None = None,
) -> UploadSource | None:
    """The upload for ``add_resource(path)``; ``None`` when ``path`` is a URL for the server.

    A string that is neither a URL nor an existing path is :class:`NotFoundError` here, rather
    than a host path the server would refuse.
    """
    if "://" in path or path.startswith("git@"):
        return None
    local = Path(path).expanduser()
    if local.is_dir():
        flt = SourceFilter(tuple(include or ()), tuple(exclude or ()), tuple(ignore_dirs or ()))
        name = local.resolve().name or "folder"
        return UploadSource("resource_dir", f"{name}.zip", path=local, filter=flt)
    if local.is_file():
        return UploadSource("file", local.name, path=local)
    raise NotFoundError(path, "path", message=f"Local path not found: {path}")


def skill_source(data: object) -> UploadSource | None:
    """The upload for ``add_skill(data)``, or ``None`` when ``data`` travels as JSON.

    Paths (``os.PathLike``, or a one-line string that looks like a path or names an existing
    one) are uploaded; so are bytes (a zip or SKILL.md text), which JSON cannot carry.
    """
    if isinstance(data, bytes | bytearray):
        raw = bytes(data)
        name = "skill.zip" if raw.startswith(_ZIP_MAGIC) else "SKILL.md"
        return UploadSource("bytes", name, data=raw)
    if isinstance(data, os.PathLike):
        text = os.fspath(data)
        local = Path(text if isinstance(text, str) else os.fsdecode(text))
    elif isinstance(data, str) and (looks_like_path(data) or is_existing_path(data)):
        local = Path(data.strip())
    else:
        return None
    local = local.expanduser()
    if local.is_dir():
        name = local.resolve().name or "skill"
        return UploadSource("skill_dir", f"{name}.zip", path=local)
    if local.is_file():
        return UploadSource("file", local.name, path=local)
    raise InvalidArgumentError(
        f"Skill path does not exist: {local}", {"field": "data", "reason": "not_found"}
    )


def prepare_upload(source: UploadSource) -> PreparedUpload:
    """The file to send for ``source`` (blocking: zips folders, writes bytes to a temp file)."""
    if source.kind == "file":
        assert source.path is not None
        return PreparedUpload(source.path, source.filename, temporary=False)
    if source.kind == "bytes":
        assert source.data is not None
        return _temp_file(source.filename, lambda handle: handle.write(source.data or b""))
    assert source.path is not None
    root = source.path
    top = Path(source.filename).stem
    files = (
        walk_source(root, source.filter)
        if source.kind == "resource_dir"
        else list(_skill_files(root))
    )

    def write_zip(handle: IO[bytes]) -> None:
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{top}/", b"")
            for rel in files:
                archive.write(root / rel, arcname=f"{top}/{rel}")

    return _temp_file(source.filename, write_zip)


def _skill_files(root: Path) -> Iterable[str]:
    """Files under a skill folder whose real path stays inside it (sorted, hidden skipped)."""
    base = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            path = here / filename
            if filename.startswith(".") or not path.is_file():
                continue
            if not path.resolve().is_relative_to(base):
                continue  # a link leading out of the folder
            yield path.relative_to(root).as_posix()


def _temp_file(filename: str, fill: _Fill) -> PreparedUpload:
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, deleted by cleanup()
        prefix="openviking-upload-", suffix=Path(filename).suffix, delete=False
    )
    path = Path(handle.name)
    try:
        with handle:
            fill(handle)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return PreparedUpload(path, filename, temporary=True)
