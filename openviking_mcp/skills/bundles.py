"""Skills given as a path: a SKILL.md file, a directory or a zip.

A directory must hold ``SKILL.md`` at its top; every other file under it (nested ``SKILL.md``
included) becomes an auxiliary file at its relative path. Hidden entries (``.git``, ``.env``,
``.DS_Store``...), ``__pycache__`` and ``__MACOSX`` are skipped, and so are links that lead out
of the directory. A zip is read in memory, never extracted to disk: entries that are absolute,
contain ``..``, backslashes or a drive letter, or are links, are refused; when the zip's only
top-level entry is a folder holding ``SKILL.md``, that folder is the skill. Both are capped at
:data:`MAX_BUNDLE_FILES` files and :data:`MAX_BUNDLE_BYTES` bytes.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.skills.model import Skill
from openviking_mcp.skills.skill_md import parse_skill_md

__all__ = [
    "MAX_BUNDLE_BYTES",
    "MAX_BUNDLE_FILES",
    "SKILL_FILE",
    "load_skill_directory",
    "load_skill_path",
    "load_skill_zip",
]

SKILL_FILE = "SKILL.md"
MAX_BUNDLE_BYTES = 50 * 1024 * 1024
MAX_BUNDLE_FILES = 2000
_SKIPPED_NAMES = frozenset({"__pycache__", "__MACOSX"})
_DRIVE = re.compile(r"^[A-Za-z]:")


def _invalid(message: str, **details: object) -> InvalidArgumentError:
    return InvalidArgumentError(message, {"field": "data", **details})


def _skipped(parts: tuple[str, ...]) -> bool:
    return any(part.startswith(".") or part in _SKIPPED_NAMES for part in parts)


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid(f"{where} is not UTF-8 text", reason="encoding") from exc


class _Budget:
    """Counts files and bytes against the bundle caps."""

    def __init__(self) -> None:
        self.files = 0
        self.bytes = 0

    def add_file(self, where: str) -> None:
        self.files += 1
        if self.files > MAX_BUNDLE_FILES:
            raise _invalid(
                f"{where} has more than {MAX_BUNDLE_FILES} files", reason="too_many_files"
            )

    def add_bytes(self, size: int, where: str) -> None:
        self.bytes += size
        if self.bytes > MAX_BUNDLE_BYTES:
            raise _invalid(
                f"{where} is larger than {MAX_BUNDLE_BYTES // (1024 * 1024)} MiB",
                reason="too_large",
            )


def load_skill_directory(root: Path) -> Skill:
    """The skill of a directory with a top-level ``SKILL.md`` and its auxiliary files."""
    where = f"Skill directory {root.name or root}"
    skill_file = root / SKILL_FILE
    if not skill_file.is_file():
        raise _invalid(f"{where} must contain {SKILL_FILE} at its top level", reason="no_skill_md")
    base = root.resolve()
    budget = _Budget()
    auxiliary: list[tuple[str, bytes]] = []
    skill_text: str | None = None
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not _skipped((d,)))
        for filename in sorted(filenames):
            path = here / filename
            rel = path.relative_to(root).as_posix()
            if _skipped((filename,)) or not path.resolve().is_relative_to(base):
                continue
            if not path.is_file():
                continue
            budget.add_file(where)
            budget.add_bytes(path.stat().st_size, where)
            data = path.read_bytes()
            if rel == SKILL_FILE:
                skill_text = _decode(data, f"{where}/{SKILL_FILE}")
            else:
                auxiliary.append((rel, data))
    if skill_text is None:  # a link leading out of the directory
        raise _invalid(f"{where}: {SKILL_FILE} cannot be read", reason="no_skill_md")
    return parse_skill_md(skill_text, source="directory", auxiliary=auxiliary)


def _entry_parts(name: str) -> tuple[str, ...]:
    """The path parts of a zip entry; an unsafe name is refused (naming the entry)."""
    if (
        name.startswith("/")
        or "\\" in name
        or _DRIVE.match(name)
        or ".." in PurePosixPath(name).parts
    ):
        raise _invalid(f"Unsafe zip entry path: '{name}'", reason="unsafe_entry", entry=name)
    return tuple(part for part in name.split("/") if part not in ("", "."))


def _zip_files(archive: zipfile.ZipFile, where: str) -> dict[tuple[str, ...], bytes]:
    infos = archive.infolist()
    if len(infos) > MAX_BUNDLE_FILES:
        raise _invalid(f"{where} has more than {MAX_BUNDLE_FILES} entries", reason="too_many_files")
    budget = _Budget()
    files: dict[tuple[str, ...], bytes] = {}
    for info in infos:
        parts = _entry_parts(info.filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _invalid(
                f"Zip entry is a link: '{info.filename}'", reason="link", entry=info.filename
            )
        if info.is_dir() or not parts or _skipped(parts):
            continue
        if parts in files:
            raise _invalid(
                f"Duplicate zip entry: '{info.filename}'", reason="duplicate", entry=info.filename
            )
        budget.add_file(where)
        budget.add_bytes(info.file_size, where)
        try:
            with archive.open(info) as member:
                # One byte past the declared size: a lying header cannot inflate past the cap.
                data = member.read(info.file_size + 1)
        except (RuntimeError, NotImplementedError, EOFError, zlib.error) as exc:
            raise _invalid(
                f"Cannot read zip entry '{info.filename}': {exc}",
                reason="unreadable",
                entry=info.filename,
            ) from exc
        if len(data) != info.file_size:
            raise _invalid(
                f"Zip entry size does not match its header: '{info.filename}'",
                reason="size_mismatch",
                entry=info.filename,
            )
        files[parts] = data
    return files


def load_skill_zip(data: bytes | Path, *, label: str = "Skill zip") -> Skill:
    """The skill of a zip (bytes or a file), read in memory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as archive:
            files = _zip_files(archive, label)
    except zipfile.BadZipFile as exc:
        raise _invalid(f"{label} is not a valid zip file", reason="bad_zip") from exc
    if not files:
        raise _invalid(f"{label} is empty", reason="empty")
    prefix: tuple[str, ...] = ()
    if (SKILL_FILE,) not in files:
        tops = {parts[0] for parts in files}
        top = next(iter(tops))
        if len(tops) != 1 or (top, SKILL_FILE) not in files:
            raise _invalid(
                f"{label} must contain {SKILL_FILE} at its top level or inside its only folder",
                reason="no_skill_md",
            )
        prefix = (top,)
    skill_text = _decode(files[(*prefix, SKILL_FILE)], f"{label}: {SKILL_FILE}")
    auxiliary = [
        ("/".join(parts[len(prefix) :]), content)
        for parts, content in files.items()
        if parts[: len(prefix)] == prefix and parts[len(prefix) :] != (SKILL_FILE,)
    ]
    return parse_skill_md(skill_text, source="zip", auxiliary=auxiliary)


def load_skill_path(path: Path) -> Skill:
    """The skill at ``path``: a directory, a ``.zip`` or a SKILL.md file."""
    if path.is_dir():
        return load_skill_directory(path)
    if not path.is_file():
        raise _invalid(f"Skill path does not exist: {path}", reason="not_found")
    if path.suffix.lower() == ".zip":
        return load_skill_zip(path, label=f"Skill zip {path.name}")
    if path.stat().st_size > MAX_BUNDLE_BYTES:
        raise _invalid(f"Skill file {path.name} is too large", reason="too_large")
    return parse_skill_md(_decode(path.read_bytes(), f"Skill file {path.name}"), source="file")
