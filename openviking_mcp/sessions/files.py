"""Reading and writing a session's files (the layout is in :mod:`.layout`).

:class:`SessionFiles` maps a caller's session ids onto URIs and storage keys and reads and
writes ``.meta.json``, ``messages.jsonl`` and the archives' status files. The session service
and the commit service share one instance; callers hold the session's path lock
(:meth:`SessionFiles.lock`) around changes.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from openviking_mcp.contract.errors import NotFoundError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.sessions import ArchiveStatus
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.sessions.layout import (
    ARCHIVE_RE,
    DONE_FILE,
    FAILED_FILE,
    HISTORY_DIR,
    MESSAGES_FILE,
    META_FILE,
    archive_name,
    check_session_id,
    dump_json,
    empty_used,
    new_meta,
    parse_messages,
)
from openviking_mcp.sessions.messages import estimate_message_tokens, now_iso
from openviking_mcp.storage.base import Entry
from openviking_mcp.store import Store

__all__ = ["SessionFiles"]


class SessionFiles:
    """See the module docs."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # -- addressing --------------------------------------------------------------------------

    def sessions_root(self, ctx: RequestContext) -> VikingURI:
        """``viking://user/{uid}/sessions`` of the caller (ROOT has no user space)."""
        return self._store.user_area(ctx, "sessions")

    def session_uri(self, ctx: RequestContext, session_id: str) -> VikingURI:
        root = self.sessions_root(ctx)
        return VikingURI(root.scope, (*root.segments, check_session_id(session_id)))

    def archive_uri(self, session: VikingURI, number: int) -> VikingURI:
        return session.join(HISTORY_DIR, archive_name(number))

    def key(self, ctx: RequestContext, uri: VikingURI) -> str:
        return self._store.key(ctx, uri)

    def lock(self, ctx: RequestContext, uri: VikingURI) -> AbstractAsyncContextManager[None]:
        """The path lock of a session (or archive) folder."""
        store = self._store
        return store.locks.lock(store.lock_path(ctx, uri))

    async def session_dirs(self, ctx: RequestContext) -> list[Entry]:
        """The caller's session folders (unsorted)."""
        store = self._store
        try:
            children = await store.content.listdir(store.key(ctx, self.sessions_root(ctx)))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [c for c in children if c.is_dir and not c.name.startswith(".")]

    # -- files -------------------------------------------------------------------------------

    async def messages_at(self, key: str) -> list[dict[str, Any]]:
        """The messages of a ``messages.jsonl`` (unreadable lines skipped; none if missing)."""
        return parse_messages(await self._store.read_text(key))

    async def session_meta(self, ctx: RequestContext, session: VikingURI) -> dict[str, Any] | None:
        """The session's ``.meta.json``; ``None`` if the session does not exist. A folder
        without one (written by hand or by an old version) gets counters from its messages."""
        store = self._store
        key = store.key(ctx, session)
        meta = await store.read_json(f"{key}/{META_FILE}")
        if meta is not None:
            meta.setdefault("used", empty_used())
            return meta
        if not await store.content.exists(key):
            return None
        messages = await self.messages_at(f"{key}/{MESSAGES_FILE}")
        meta = new_meta(ctx, session.name, None)
        meta.update(
            message_count=len(messages),
            total_message_count=len(messages),
            pending_tokens=sum(estimate_message_tokens(m) for m in messages),
        )
        return meta

    async def require_session(
        self, ctx: RequestContext, session_id: str
    ) -> tuple[VikingURI, str, dict[str, Any]]:
        """``(uri, storage key, meta)`` of an existing session, else ``NOT_FOUND``."""
        session = self.session_uri(ctx, session_id)
        meta = await self.session_meta(ctx, session)
        if meta is None:
            raise NotFoundError(session_id, "session")
        return session, self._store.key(ctx, session), meta

    async def write_meta(self, key: str, meta: dict[str, Any]) -> None:
        """Store ``meta`` as the session's ``.meta.json`` (``updated_at`` set to now)."""
        meta["updated_at"] = now_iso()
        await self._store.content.write_bytes(f"{key}/{META_FILE}", dump_json(meta))

    async def archive_numbers(self, key: str) -> list[int]:
        """Numbers of the session's archives, ascending."""
        try:
            children = await self._store.content.listdir(f"{key}/{HISTORY_DIR}")
        except (FileNotFoundError, NotADirectoryError):
            return []
        found = (ARCHIVE_RE.fullmatch(c.name) for c in children if c.is_dir)
        return sorted(int(m.group(1)) for m in found if m)

    async def archive_status(self, archive_key: str) -> tuple[ArchiveStatus, dict[str, Any] | None]:
        """``("done" | "failed" | "pending", failure)`` of an archive."""
        store = self._store
        if await store.content.exists(f"{archive_key}/{DONE_FILE}"):
            return "done", None
        failure = await store.read_json(f"{archive_key}/{FAILED_FILE}")
        if failure is not None or await store.content.exists(f"{archive_key}/{FAILED_FILE}"):
            return "failed", failure or {}
        return "pending", None
