"""Reading a user's memories back: each memory file with its bookkeeping fields, and the
commits that changed one memory.

A memory's fields block (:mod:`.memory_file`) keeps its ``version`` (1 when written, +1 per
update or merge), ``created_at``/``updated_at``, ``source_sessions`` and ``tags``; its
``active_count`` is kept on its index rows. What each change did is in the
``memory_diff.json`` of the archives of its source sessions (commit phase 2 writes one per
archive): :func:`memory_history` gathers the entries that name the memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from openviking_mcp.contract.errors import OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.memory import MemoryChange, MemoryEntry
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.memory.conversation import is_conversation_uri
from openviking_mcp.memory.memory_file import parse_memory
from openviking_mcp.memory.stats import category_of
from openviking_mcp.parsers.text import truncate_text
from openviking_mcp.sessions.files import SessionFiles
from openviking_mcp.sessions.layout import DIFF_FILE, archive_name
from openviking_mcp.store import Store

__all__ = [
    "CONVERSATIONS",
    "MemoryFile",
    "memory_entry",
    "memory_files",
    "memory_history",
    "read_memory",
]

CONVERSATIONS = "conversations"
"""The category of the conversation turns (``memories/conversations/``)."""

_ABSTRACT_CHARS = 240
_MAX_SESSIONS = 50
_KINDS: tuple[tuple[str, Literal["add", "update", "delete"]], ...] = (
    ("adds", "add"),
    ("updates", "update"),
    ("deletes", "delete"),
)


@dataclass(frozen=True)
class MemoryFile:
    """A memory file: its path below ``memories/``, URI, fields, body and change time."""

    rel: str
    uri: VikingURI
    fields: dict[str, Any]
    body: str
    mtime: float


async def memory_files(
    store: Store,
    ctx: RequestContext,
    base: VikingURI,
    limit: int,
    *,
    conversations: bool = False,
) -> list[MemoryFile]:
    """The memory files under ``base`` (``viking://user/{uid}/memories``), at most ``limit``
    entries walked; conversation turns only with ``conversations``. A file whose fields block
    is broken is listed with no fields (its category then comes from its path)."""
    key = store.key(ctx, base)
    try:
        entries = await store.content.walk(key, 16, limit)
    except (FileNotFoundError, NotADirectoryError):
        return []
    out: list[MemoryFile] = []
    for entry in entries:
        if entry.is_dir or not entry.name.endswith(".md") or entry.name.startswith("."):
            continue
        rel = entry.key[len(key) + 1 :]
        uri = base.join(rel)
        if not conversations and is_conversation_uri(uri.uri):
            continue
        text = await store.read_text(entry.key)
        if text is not None:
            out.append(_parsed(rel, uri, text, entry.mtime))
    return out


def _parsed(rel: str, uri: VikingURI, text: str, mtime: float) -> MemoryFile:
    try:
        doc = parse_memory(text)
    except OpenVikingError:  # a broken fields block
        return MemoryFile(rel, uri, {}, text, mtime)
    return MemoryFile(rel, uri, doc.fields, doc.body, mtime)


async def read_memory(
    store: Store, ctx: RequestContext, base: VikingURI, target: VikingURI
) -> MemoryFile | None:
    """The memory file at ``target`` (below ``base``), ``None`` if there is none."""
    if not base.is_ancestor_of(target) or not target.name.endswith(".md"):
        return None
    if target.name.startswith("."):
        return None
    key = store.key(ctx, target)
    try:
        entry = await store.content.stat(key)
    except (FileNotFoundError, NotADirectoryError):
        return None
    text = None if entry.is_dir else await store.read_text(key)
    if text is None:
        return None
    return _parsed(target.uri[len(base.uri) + 1 :], target, text, entry.mtime)


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def memory_entry(file: MemoryFile, active_count: int) -> MemoryEntry:
    """The listing entry of one memory file."""
    fields = file.fields
    conversation = is_conversation_uri(file.uri.uri)
    version = fields.get("version")
    tags = fields.get("tags")
    return MemoryEntry(
        uri=file.uri.uri,
        category=CONVERSATIONS if conversation else category_of(file.rel, fields),
        abstract=truncate_text(file.body, _ABSTRACT_CHARS),
        version=version if isinstance(version, int) and not isinstance(version, bool) else 1,
        created_at=_text(fields.get("created_at")),
        updated_at=_text(fields.get("updated_at")),
        source_sessions=[str(s) for s in fields.get("source_sessions") or [] if s],
        tags=[str(t) for t in tags] if isinstance(tags, list) else [],
        active_count=active_count,
    )


def _changes_of(
    diff: Mapping[str, Any], uri: str, session_id: str, archive_id: str
) -> list[MemoryChange]:
    """The entries of one ``memory_diff.json`` that name ``uri``."""
    operations = diff.get("operations")
    if not isinstance(operations, dict):
        return []
    out: list[MemoryChange] = []
    for name, kind in _KINDS:
        for op in operations.get(name) or []:
            if not isinstance(op, dict) or op.get("uri") != uri:
                continue
            after = op.get("after")
            before = op.get("before", op.get("deleted_content"))
            out.append(
                MemoryChange(
                    session_id=session_id,
                    archive_id=archive_id,
                    extracted_at=_text(diff.get("extracted_at")),
                    kind=kind,
                    before=str(before) if before is not None else None,
                    after=str(after) if after is not None else None,
                )
            )
    return out


async def memory_history(
    store: Store, files: SessionFiles, ctx: RequestContext, uri: str, sessions: list[str]
) -> list[MemoryChange]:
    """The commits of the caller's ``sessions`` that changed ``uri``, oldest first (sessions
    deleted since are skipped)."""
    changes: list[MemoryChange] = []
    for session_id in list(dict.fromkeys(sessions))[:_MAX_SESSIONS]:
        try:
            session = files.session_uri(ctx, session_id)
        except OpenVikingError:  # not a valid session id
            continue
        key = files.key(ctx, session)
        for number in await files.archive_numbers(key):
            archive_key = files.key(ctx, files.archive_uri(session, number))
            diff = await store.read_json(f"{archive_key}/{DIFF_FILE}")
            if diff is not None:
                changes += _changes_of(diff, uri, session_id, archive_name(number))
    changes.sort(key=lambda c: c.extracted_at or "")
    return changes
