"""One skill in detail: the tiers asked for, SKILL.md, the file manifest and its integrity.

The manifest lists every file and folder of the skill: ``SKILL.md`` is the ``definition``,
the ``.abstract.md``/``.overview.md`` tiers are ``summary`` files, folders are ``directory``
entries and the rest ``auxiliary``; other hidden files (bookkeeping of the store) are left out.
With integrity each file also carries its ``sha256``, and the package a ``revision``: the
sha256 of the compact, key-sorted JSON list of ``{path, is_dir, size, sha256}`` sorted by path
(``size`` and ``sha256`` are ``null`` for folders). An integrity read holds the skill's lock,
so it sees one version of the package, and is bounded (entries, bytes per file, bytes in all)
to keep a request from hashing without limit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from openviking_mcp.contract.errors import InvalidArgumentError, ResourceExhaustedError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.skills import (
    GetSkillRequest,
    SkillDetail,
    SkillFile,
    SkillFileKind,
)
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.skills.stored import SKILL_FILE, skill_summary, split_skill_md
from openviking_mcp.storage import Entry
from openviking_mcp.storage.sidecar import ABSTRACT_FILE, OVERVIEW_FILE, sidecar_body
from openviking_mcp.store import Store

__all__ = [
    "MAX_INTEGRITY_ENTRIES",
    "MAX_INTEGRITY_FILE_BYTES",
    "MAX_INTEGRITY_TOTAL_BYTES",
    "Restore",
    "read_skill_detail",
]

MAX_INTEGRITY_ENTRIES = 512
MAX_INTEGRITY_FILE_BYTES = 16 * 1024 * 1024
MAX_INTEGRITY_TOTAL_BYTES = 64 * 1024 * 1024
_MAX_DEPTH = 20
_MAX_ENTRIES = 10_000
_SUMMARIES = (ABSTRACT_FILE, OVERVIEW_FILE)
_UNTRACKED = {"tracked": False, "message": "Skill source metadata is not tracked yet."}

Restore = Callable[[RequestContext, str, str], Awaitable[str]]
"""``restore(ctx, skill_name, text)``: SKILL.md text with the caller's secrets put back."""


def _kind(rel: str, entry: Entry) -> SkillFileKind | None:
    """The entry's kind, ``None`` for a hidden file that is not a tier."""
    if entry.is_dir:
        return None if any(p.startswith(".") for p in rel.split("/")) else "directory"
    *folders, name = rel.split("/")
    if any(p.startswith(".") for p in folders):
        return None
    if name in _SUMMARIES:
        return "summary"
    if name.startswith("."):
        return None
    return "definition" if rel == SKILL_FILE else "auxiliary"


def _check_level(level: int | None) -> None:
    if level is not None and level not in (0, 1, 2):
        raise InvalidArgumentError(
            "Skill show level must be 0, 1, or 2", {"field": "level", "allowed": [0, 1, 2]}
        )


def _revision(files: list[SkillFile]) -> str:
    payload = [
        {
            "path": f.path,
            "is_dir": f.is_dir,
            "size": None if f.is_dir else f.size,
            "sha256": f.sha256,
        }
        for f in sorted(files, key=lambda f: f.path)
    ]
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_declared(files: list[tuple[str, Entry, SkillFileKind]]) -> None:
    """Refuse, before reading anything, a package too large to hash."""
    if len(files) > MAX_INTEGRITY_ENTRIES:
        raise ResourceExhaustedError(
            f"Skill integrity manifest exceeds {MAX_INTEGRITY_ENTRIES} entries"
        )
    total = 0
    for rel, entry, _ in files:
        if entry.is_dir:
            continue
        if entry.size > MAX_INTEGRITY_FILE_BYTES:
            raise ResourceExhaustedError(f"Skill file exceeds integrity size limit: {rel}")
        total += entry.size
        if total > MAX_INTEGRITY_TOTAL_BYTES:
            raise ResourceExhaustedError(
                f"Skill integrity manifest exceeds {MAX_INTEGRITY_TOTAL_BYTES} total bytes"
            )


async def _manifest(
    store: Store, ctx: RequestContext, directory: VikingURI, *, integrity: bool
) -> list[SkillFile]:
    key = store.key(ctx, directory)
    listed: list[tuple[str, Entry, SkillFileKind]] = []
    for entry in await store.content.walk(key, _MAX_DEPTH, _MAX_ENTRIES):
        rel = entry.key[len(key) + 1 :]
        kind = _kind(rel, entry)
        if kind is not None:
            listed.append((rel, entry, kind))
    if integrity:
        _check_declared(listed)
    files: list[SkillFile] = []
    total = 0
    for rel, entry, kind in listed:
        item = SkillFile(
            name=entry.name,
            path=rel,
            uri=directory.join(rel).uri,
            is_dir=entry.is_dir,
            kind=kind,
            size=entry.size,
        )
        if integrity and not entry.is_dir:
            data = await store.content.read_bytes(entry.key)
            total += len(data)
            if len(data) > MAX_INTEGRITY_FILE_BYTES or total > MAX_INTEGRITY_TOTAL_BYTES:
                raise ResourceExhaustedError(f"Skill file exceeds integrity size limit: {rel}")
            item.size = len(data)
            item.sha256 = hashlib.sha256(data).hexdigest()
        files.append(item)
    return files


def _source(meta: dict[str, Any]) -> dict[str, Any]:
    """Where the skill came from: only an MCP import records it (``metadata.mcp``)."""
    metadata = meta.get("metadata")
    mcp = metadata.get("mcp") if isinstance(metadata, dict) else None
    if isinstance(mcp, dict):
        return {**mcp, "type": "mcp", "tracked": True}
    return dict(_UNTRACKED)


async def _fields(
    store: Store,
    ctx: RequestContext,
    req: GetSkillRequest,
    directory: VikingURI,
    restore: Restore,
) -> dict[str, Any]:
    key = store.key(ctx, directory)
    raw = await store.read_text(f"{key}/{SKILL_FILE}") or ""
    content = await restore(ctx, req.skill_name, raw)
    meta, body = split_skill_md(content)
    root = directory.parent or directory
    fields = skill_summary(meta, body, req.skill_name, directory, root)
    level = req.level
    if level in (None, 0):
        fields["abstract"] = sidecar_body(await store.read_text(f"{key}/{ABSTRACT_FILE}") or "")
    if level in (None, 1):
        fields["overview"] = sidecar_body(await store.read_text(f"{key}/{OVERVIEW_FILE}") or "")
    if level == 2 or req.include_content or (level is None and req.include_content is None):
        fields["content"] = content
        fields["body"] = body
        fields["content_sha256"] = hashlib.sha256(content.encode("utf-8")).hexdigest()
    if req.include_files:
        files = await _manifest(store, ctx, directory, integrity=req.include_integrity)
        fields["files"] = files
        if req.include_integrity:
            fields["revision"] = _revision(files)
    if req.include_source:
        fields["source"] = _source(meta)
    return fields


async def read_skill_detail(
    store: Store,
    ctx: RequestContext,
    req: GetSkillRequest,
    directory: VikingURI,
    restore: Restore,
) -> SkillDetail:
    """The skill at ``directory`` as ``req`` asks for it (see the module docs)."""
    _check_level(req.level)
    if req.include_integrity:
        async with store.locks.lock(store.lock_path(ctx, directory)):
            fields = await _fields(store, ctx, req, directory, restore)
    else:
        fields = await _fields(store, ctx, req, directory, restore)
    return SkillDetail.model_validate(fields)
