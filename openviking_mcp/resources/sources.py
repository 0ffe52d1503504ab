"""Where resources come from: URLs, local files and folders, temp uploads and zips.

Everything is first *staged*: copied into ``{workspace}/tmp/staging/{task_id}/`` while the
request is still being answered (local paths, uploads) or by the task itself (URLs), so an
accepted import survives a crash and does not depend on the original staying in place.

This module stays light (the HTTP clients walk folders with it); URLs are fetched by
:mod:`openviking_mcp.resources.fetch`.

Safety: URL fetches refuse every non-public address unless ``allow_private_networks`` is set
(:mod:`openviking_mcp.resources.netguard`: checked for every address of every redirect hop,
and the connection goes to the checked address), and are capped in size. Zip members that
would land outside the extraction folder (zip-slip), absolute paths, links and zip bombs are
refused.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)

__all__ = [
    "SourceFilter",
    "extract_zip",
    "is_url",
    "stage_local",
    "target_name",
    "walk_source",
]

MAX_ZIP_TOTAL_BYTES = 1024 * 1024 * 1024
MAX_ZIP_MEMBERS = 50_000
_DEFAULT_IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        "dist",
        "build",
        ".idea",
        ".vscode",
    }
)


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


@dataclass(frozen=True, slots=True)
class SourceFilter:
    """Which files of a folder to import: include/exclude globs, ignored folder names and
    ``.gitignore`` patterns (simple glob semantics, ``!`` negations honoured)."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    ignore_dirs: tuple[str, ...] = ()

    def dir_ignored(self, rel: str, name: str, gitignore: list[str]) -> bool:
        if name in _DEFAULT_IGNORED_DIRS or name in self.ignore_dirs:
            return True
        return _git_ignored(rel + "/", name, gitignore) or _matches(rel, self.exclude)

    def file_wanted(self, rel: str, name: str, gitignore: list[str]) -> bool:
        if _git_ignored(rel, name, gitignore) or _matches(rel, self.exclude):
            return False
        return not self.include or _matches(rel, self.include)


def _matches(rel: str, patterns: tuple[str, ...]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in patterns)


def _git_ignored(rel: str, name: str, patterns: list[str]) -> bool:
    ignored = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw[1:] if negate else raw
        dir_only = pattern.endswith("/")
        pattern = pattern.rstrip("/")
        if dir_only and not rel.endswith("/"):
            continue
        target = rel.rstrip("/")
        anchored = pattern.startswith("/") or "/" in pattern
        pattern = pattern.lstrip("/")
        hit = fnmatch.fnmatch(target, pattern) if anchored else fnmatch.fnmatch(name, pattern)
        if hit:
            ignored = not negate
    return ignored


def _read_gitignore(folder: Path) -> list[str]:
    path = folder / ".gitignore"
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def walk_source(root: Path, flt: SourceFilter) -> list[str]:
    """Relative POSIX paths of the files to import under ``root`` (sorted, links skipped)."""
    found: list[str] = []

    def visit(folder: Path, prefix: str, inherited: list[str]) -> None:
        patterns = inherited + _read_gitignore(folder)
        for child in sorted(folder.iterdir(), key=lambda p: p.name):
            rel = f"{prefix}{child.name}"
            if child.is_symlink():
                continue
            if child.is_dir():
                if not flt.dir_ignored(rel, child.name, patterns):
                    visit(child, rel + "/", patterns)
            elif (
                child.is_file()
                and child.name != ".gitignore"
                and flt.file_wanted(rel, child.name, patterns)
            ):
                found.append(rel)

    visit(root, "", [])
    return found


def stage_local(source: Path, dest_dir: Path, flt: SourceFilter) -> tuple[Path, int]:
    """Copy a local file or folder into ``dest_dir``; returns (staged path, files copied)."""
    source = source.expanduser()
    if not source.exists():
        raise NotFoundError(str(source), "path")
    dest_dir.mkdir(parents=True, exist_ok=True)
    if source.is_file():
        target = dest_dir / source.name
        shutil.copyfile(source, target)
        return target, 1
    root = dest_dir / (source.resolve().name or "folder")
    files = walk_source(source, flt)
    for rel in files:
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / rel, target)
    root.mkdir(parents=True, exist_ok=True)
    return root, len(files)


def extract_zip(archive: Path, dest_dir: Path) -> Path:
    """Extract a zip safely into ``dest_dir / {archive stem}``; returns that folder."""
    root = dest_dir / (archive.stem or "archive")
    root.mkdir(parents=True, exist_ok=True)
    base = os.path.realpath(root)
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise InvalidArgumentError(f"Zip has more than {MAX_ZIP_MEMBERS} entries")
            if sum(m.file_size for m in members) > MAX_ZIP_TOTAL_BYTES:
                raise InvalidArgumentError("Zip expands to more than 1 GiB")
            for member in members:
                name = member.filename.replace("\\", "/")
                mode = member.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise PermissionDeniedError(f"Zip entry is a link: {name}", {"entry": name})
                target = os.path.realpath(os.path.join(root, name))
                if (
                    name.startswith("/")
                    or ".." in PurePosixPath(name).parts
                    or (target != base and not target.startswith(base + os.sep))
                ):
                    raise PermissionDeniedError(
                        f"Zip entry escapes the extraction folder: {name}", {"entry": name}
                    )
                if member.is_dir():
                    Path(target).mkdir(parents=True, exist_ok=True)
                    continue
                Path(target).parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
    except zipfile.BadZipFile as exc:
        raise InvalidArgumentError(f"Not a valid zip file: {archive.name}") from exc
    # A zip holding exactly one top folder imports that folder.
    children = [c for c in root.iterdir() if not c.name.startswith("__MACOSX")]
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return root


def target_name(name: str, is_dir: bool, source_name: str | None) -> str:
    """An auto-named target's name: ``source_name`` (its last segment, without ``.zip`` or
    the source's extension), else the source's own name (a file's without its extension)."""
    leaf = (source_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not leaf:
        return name if is_dir else Path(name).stem
    suffix = Path(leaf).suffix.lower()
    if suffix == ".zip" or (suffix and not is_dir and suffix == Path(name).suffix.lower()):
        return Path(leaf).stem
    return leaf
