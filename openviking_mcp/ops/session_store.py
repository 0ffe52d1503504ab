"""Where sessions live and how their files are read and written (no public operations).

A session is the folder ``viking://user/{uid}/sessions/{sid}/``, a managed area that the
filesystem API cannot change and that is never indexed; only the session operations write it,
straight to the content store, under the session's path lock:

* ``.meta.json``: counters and settings (see :func:`new_meta`);
* ``messages.jsonl``: the live messages, one JSON object per line;
* ``tool-results/{id}.txt``: tool outputs too long to keep inline;
* ``history/archive_NNN/``: what each commit archived: ``messages.jsonl`` and ``.meta.json``
  from phase 1; ``.abstract.md``/``.overview.md``, ``memory_diff.json`` and ``.done`` (or
  ``.failed.json``) from phase 2.
"""

from __future__ import annotations

import json
import re
from typing import Any

from openviking_mcp.contract.errors import InvalidArgumentError, NotFoundError
from openviking_mcp.contract.identity import RequestContext, validate_identifier
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.ops.base import ServiceCore
from openviking_mcp.sessions.messages import estimate_message_tokens, now_iso
from openviking_mcp.storage.base import Entry

__all__ = [
    "ARCHIVE_META",
    "DONE_FILE",
    "FAILED_FILE",
    "HISTORY_DIR",
    "MESSAGES_FILE",
    "META_FILE",
    "TOOL_RESULTS_DIR",
    "SessionStore",
    "archive_name",
    "check_session_id",
    "dump_json",
    "dump_messages",
    "new_meta",
    "parse_archive",
]

META_FILE = ".meta.json"
MESSAGES_FILE = "messages.jsonl"
HISTORY_DIR = "history"
TOOL_RESULTS_DIR = "tool-results"
ARCHIVE_META = ".meta.json"
DONE_FILE = ".done"
FAILED_FILE = ".failed.json"
_ARCHIVE_RE = re.compile(r"archive_(\d{3,})")


def check_session_id(value: object) -> str:
    """A session id: an identifier (``[A-Za-z0-9_.@-]``, ≤128) not starting with ``.``."""
    if isinstance(value, str) and value.startswith("."):
        raise InvalidArgumentError(
            f"Invalid session_id: {value!r}", {"field": "session_id", "value": value}
        )
    return validate_identifier(value if isinstance(value, str) else "", "session_id")


def archive_name(number: int) -> str:
    return f"archive_{number:03d}"


def parse_archive(value: int | str) -> int:
    """An archive number from ``3``, ``"3"``, ``"003"`` or ``"archive_003"``."""
    text = str(value).strip()
    match = _ARCHIVE_RE.fullmatch(text)
    digits = match.group(1) if match else text
    if isinstance(value, bool) or not digits.isdigit() or int(digits) < 1:
        raise InvalidArgumentError(
            f"Invalid archive id: {value!r} (archive_NNN or a positive number)",
            {"field": "archive_id", "value": text},
        )
    return int(digits)


def dump_json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


def dump_messages(messages: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in messages).encode("utf-8")


def new_meta(
    ctx: RequestContext, session_id: str, auto_commit_policy: dict[str, Any] | None
) -> dict[str, Any]:
    """The ``.meta.json`` of a new session (a subset of the original's keys)."""
    now = now_iso()
    return {
        "session_id": session_id,
        "created_at": now,
        "updated_at": now,
        "created_by_account_id": ctx.account_id,
        "created_by_user_id": ctx.user_id,
        "message_count": 0,
        "total_message_count": 0,
        "commit_count": 0,
        "pending_tokens": 0,
        "last_message_at": None,
        "last_commit_at": None,
        "last_auto_commit_at": None,
        "memories_extracted": {},
        "auto_commit_policy": auto_commit_policy,
        "used": {"contexts": [], "skills": []},
    }


class SessionStore(ServiceCore):
    # -- addressing --------------------------------------------------------------------------

    def _sessions_root(self, ctx: RequestContext) -> VikingURI:
        """``viking://user/{uid}/sessions`` of the caller (ROOT has no user space)."""
        return self._user_area(ctx, "sessions")

    def _session_uri(self, ctx: RequestContext, session_id: str) -> VikingURI:
        root = self._sessions_root(ctx)
        return VikingURI(root.scope, (*root.segments, check_session_id(session_id)))

    async def _session_dirs(self, ctx: RequestContext) -> list[Entry]:
        """The caller's session folders (unsorted)."""
        try:
            children = await self.store.listdir(self._key(ctx, self._sessions_root(ctx)))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [c for c in children if c.is_dir and not c.name.startswith(".")]

    def _archive_uri(self, session: VikingURI, number: int) -> VikingURI:
        return session.join(HISTORY_DIR, archive_name(number))

    # -- files -------------------------------------------------------------------------------

    async def _messages_at(self, key: str) -> list[dict[str, Any]]:
        """The messages of a ``messages.jsonl`` (unreadable lines skipped; none if missing)."""
        text = await self._read_text(key)
        messages: list[dict[str, Any]] = []
        for line in (text or "").splitlines():
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict):
                messages.append(message)
        return messages

    async def _session_meta(self, ctx: RequestContext, session: VikingURI) -> dict[str, Any] | None:
        """The session's ``.meta.json``; ``None`` if the session does not exist. A folder
        without one (written by hand or by an old version) gets counters from its messages."""
        key = self._key(ctx, session)
        meta = await self._read_json(f"{key}/{META_FILE}")
        if meta is not None:
            meta.setdefault("used", {"contexts": [], "skills": []})
            return meta
        if not await self.store.exists(key):
            return None
        messages = await self._messages_at(f"{key}/{MESSAGES_FILE}")
        meta = new_meta(ctx, session.name, None)
        meta.update(
            message_count=len(messages),
            total_message_count=len(messages),
            pending_tokens=sum(estimate_message_tokens(m) for m in messages),
        )
        return meta

    async def _require_session(
        self, ctx: RequestContext, session_id: str
    ) -> tuple[VikingURI, str, dict[str, Any]]:
        """``(uri, storage key, meta)`` of an existing session, else 404."""
        session = self._session_uri(ctx, session_id)
        meta = await self._session_meta(ctx, session)
        if meta is None:
            raise NotFoundError(session_id, "session")
        return session, self._key(ctx, session), meta

    async def _write_meta(self, key: str, meta: dict[str, Any]) -> None:
        meta["updated_at"] = now_iso()
        await self.store.write_bytes(f"{key}/{META_FILE}", dump_json(meta))

    async def _archive_numbers(self, key: str) -> list[int]:
        """Numbers of the session's archives, ascending."""
        try:
            children = await self.store.listdir(f"{key}/{HISTORY_DIR}")
        except (FileNotFoundError, NotADirectoryError):
            return []
        found = (_ARCHIVE_RE.fullmatch(c.name) for c in children if c.is_dir)
        return sorted(int(m.group(1)) for m in found if m)

    async def _archive_status(self, archive_key: str) -> tuple[str, dict[str, Any] | None]:
        """``("done" | "failed" | "pending", failure)`` of an archive."""
        if await self.store.exists(f"{archive_key}/{DONE_FILE}"):
            return "done", None
        failure = await self._read_json(f"{archive_key}/{FAILED_FILE}")
        if failure is not None or await self.store.exists(f"{archive_key}/{FAILED_FILE}"):
            return "failed", failure or {}
        return "pending", None
