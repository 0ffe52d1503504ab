"""Sessions: conversations an agent records, then commits so memories are extracted.

Storage is described in :mod:`.session_store`, commit and auto-commit in :mod:`.session_commit`.
The operations here, each under the session's path lock when it changes files:

* create (caller id or ``YYYYMMDD-HHMMSS-{16hex}``), list (newest first), get (optionally
  creating), delete;
* add a message (``content`` or ``parts``; the session is created if missing, as the original
  does) or a batch of ≤100; tool outputs over 20,000 chars are externalised;
* ``used``: contexts and skills the agent actually used, kept in ``.meta.json`` (so a commit run
  by another process sees them) and moved into the archive's ``.meta.json`` at commit;
* ``context``: live messages (and those of archives whose phase 2 has not finished) fitted to a
  token budget, plus the latest finished archive's overview if it still fits;
* archives: list, and one archive with its status (``done``, ``pending`` or ``failed`` with the
  contents of its ``.failed.json``).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from openviking_mcp.contract.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.ops.session_commit import SESSION_COMMIT_TASK, SessionCommitOps
from openviking_mcp.ops.session_store import (
    ARCHIVE_META,
    MESSAGES_FILE,
    TOOL_RESULTS_DIR,
    archive_name,
    check_session_id,
    dump_messages,
    new_meta,
    parse_archive,
)
from openviking_mcp.sessions.messages import (
    MAX_BATCH,
    ContextPart,
    Message,
    build_message,
    estimate_message_tokens,
    estimate_tokens,
    externalise_tool_outputs,
    now_iso,
)
from openviking_mcp.sessions.policy import parse_policy
from openviking_mcp.storage.sidecar import ABSTRACT_FILE, OVERVIEW_FILE

__all__ = ["SESSION_COMMIT_TASK", "SessionOps"]

_MAX_USED = 1000


def _new_session_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(8)}"


class SessionOps(SessionCommitOps):
    # -- lifecycle ---------------------------------------------------------------------------

    async def create_session(
        self,
        ctx: RequestContext,
        session_id: str | None = None,
        *,
        auto_commit_policy: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A new, empty session; an existing id is :class:`AlreadyExistsError` (409)."""
        policy = parse_policy(auto_commit_policy)
        sid = check_session_id(session_id) if session_id else _new_session_id()
        session = self._session_uri(ctx, sid)
        key = self._key(ctx, session)
        async with self.locks.lock(self._lock_path(ctx, session)):
            if await self.store.exists(key):
                raise AlreadyExistsError(sid, "session")
            meta = new_meta(ctx, sid, policy.model_dump() if policy else None)
            await self._write_meta(key, meta)
        return self._session_view(ctx, session, meta)

    def _session_view(
        self, ctx: RequestContext, session: VikingURI, meta: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            **meta,
            "uri": session.uri,
            "user": {"account_id": ctx.account_id, "user_id": ctx.user_id},
        }

    async def list_sessions(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """``[{session_id, uri, is_dir, mod_time}]``, most recently changed first."""
        root = self._sessions_root(ctx)
        found = await self._session_dirs(ctx)
        found.sort(key=lambda c: (c.mtime, c.name), reverse=True)
        return [
            {
                "session_id": c.name,
                "uri": root.join(c.name).uri,
                "is_dir": True,
                "mod_time": datetime.fromtimestamp(c.mtime, UTC).isoformat().replace("+00:00", "Z"),
            }
            for c in found
        ]

    async def get_session(
        self, ctx: RequestContext, session_id: str, *, auto_create: bool = False
    ) -> dict[str, Any]:
        """The session's ``.meta.json`` with ``uri`` and ``user``; 404 unless ``auto_create``."""
        session = self._session_uri(ctx, session_id)
        meta = await self._session_meta(ctx, session)
        if meta is None:
            if not auto_create:
                raise NotFoundError(session_id, "session")
            with contextlib.suppress(AlreadyExistsError):  # created meanwhile
                return await self.create_session(ctx, session_id)
            return await self.get_session(ctx, session_id)
        return self._session_view(ctx, session, meta)

    async def delete_session(self, ctx: RequestContext, session_id: str) -> dict[str, Any]:
        """Remove a session with its archives (memories extracted from it stay)."""
        session = self._session_uri(ctx, session_id)
        key = self._key(ctx, session)
        async with self.locks.lock(self._lock_path(ctx, session)):
            if not await self.store.exists(key):
                raise NotFoundError(session_id, "session")
            await self.store.remove(key, recursive=True)
        return {"session_id": session_id, "uri": session.uri}

    # -- messages ----------------------------------------------------------------------------

    async def add_message(
        self,
        ctx: RequestContext,
        session_id: str,
        role: str,
        content: str | None = None,
        parts: list[dict[str, Any]] | None = None,
        *,
        peer_id: str | None = None,
        turn_id: str | None = None,
        created_at: str | None = None,
    ) -> dict[str, Any]:
        """Append one message (the session is created if missing); returns
        ``{session_id, message_count, pending_tokens}`` (plus ``auto_commit`` if the session's
        policy committed it)."""
        message = build_message(
            role, content, parts, peer_id=peer_id, turn_id=turn_id, created_at=created_at
        )
        result = await self._append(ctx, session_id, [message])
        del result["added"]
        return await self._maybe_auto_commit(ctx, session_id, result)

    async def add_messages(
        self, ctx: RequestContext, session_id: str, messages: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Append up to 100 messages at once (each like :meth:`add_message`'s arguments);
        returns ``{session_id, message_count, added, pending_tokens}``."""
        if not isinstance(messages, list) or not messages:
            raise InvalidArgumentError("messages must be a non-empty list", {"field": "messages"})
        if len(messages) > MAX_BATCH:
            raise InvalidArgumentError(
                f"At most {MAX_BATCH} messages per batch", {"field": "messages"}
            )
        built: list[Message] = []
        for index, item in enumerate(messages):
            if not isinstance(item, Mapping):
                raise InvalidArgumentError(
                    f"messages[{index}] must be an object", {"field": "messages"}
                )
            try:
                built.append(
                    build_message(
                        item.get("role"),
                        item.get("content"),
                        item.get("parts"),
                        peer_id=item.get("peer_id"),
                        turn_id=item.get("turn_id"),
                        created_at=item.get("created_at"),
                    )
                )
            except InvalidArgumentError as exc:
                raise InvalidArgumentError(
                    f"messages[{index}]: {exc.message}", {**exc.details, "index": index}
                ) from None
        result = await self._append(ctx, session_id, built)
        return await self._maybe_auto_commit(ctx, session_id, result)

    async def remember(
        self,
        ctx: RequestContext,
        messages: list[dict[str, Any]],
        *,
        session_prefix: str = "mcp-store",
    ) -> dict[str, Any]:
        """Store ``messages`` in a fresh session ``{prefix}-{12 hex}`` and commit it at once, so
        their memories are extracted in the background; the commit result plus ``stored``."""
        session_id = f"{session_prefix}-{secrets.token_hex(6)}"
        await self.create_session(ctx, session_id)
        added = await self.add_messages(ctx, session_id, messages)
        result = await self.commit_session(ctx, session_id)
        return {**result, "session_id": session_id, "stored": added["added"]}

    async def _append(
        self, ctx: RequestContext, session_id: str, messages: list[Message]
    ) -> dict[str, Any]:
        session = self._session_uri(ctx, session_id)
        key = self._key(ctx, session)
        for message in messages:
            self._check_context_uris(ctx, message)
        async with self.locks.lock(self._lock_path(ctx, session)):
            meta = await self._session_meta(ctx, session) or new_meta(ctx, session.name, None)
            lines: list[dict[str, Any]] = []
            for message in messages:
                base = session.join(TOOL_RESULTS_DIR).uri
                for result_id, text in externalise_tool_outputs(message, base).items():
                    await self.store.write_bytes(
                        f"{key}/{TOOL_RESULTS_DIR}/{result_id}.txt", text.encode("utf-8")
                    )
                lines.append(message.to_json())
            await self.store.write_bytes(
                f"{key}/{MESSAGES_FILE}", dump_messages(lines), append=True
            )
            tokens = sum(estimate_message_tokens(m) for m in lines)
            meta["message_count"] = int(meta.get("message_count") or 0) + len(lines)
            meta["total_message_count"] = int(meta.get("total_message_count") or 0) + len(lines)
            meta["pending_tokens"] = int(meta.get("pending_tokens") or 0) + tokens
            meta["last_message_at"] = now_iso()
            await self._write_meta(key, meta)
        return {
            "session_id": session.name,
            "message_count": meta["message_count"],
            "added": len(lines),
            "pending_tokens": meta["pending_tokens"],
        }

    def _check_context_uris(self, ctx: RequestContext, message: Message) -> None:
        """Context parts name readable ``viking://`` URIs, stored canonical (``~`` expanded)."""
        for part in message.parts:
            if isinstance(part, ContextPart):
                part.uri = self._resolve(ctx, part.uri, field="parts.uri").uri

    async def record_used(
        self,
        ctx: RequestContext,
        session_id: str,
        contexts: list[str] | None = None,
        skill: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record contexts (URIs) and a skill (``{uri, input, output, success}``) the agent
        used; the next commit raises their ``active_count``. Returns the pending totals."""
        uris = [self._resolve(ctx, u, field="contexts").uri for u in contexts or []]
        entry: dict[str, Any] | None = None
        if skill is not None:
            if not isinstance(skill, Mapping) or not isinstance(skill.get("uri"), str):
                raise InvalidArgumentError("skill must be an object with a uri", {"field": "skill"})
            entry = dict(skill)
            entry["uri"] = self._resolve(ctx, str(skill["uri"]), field="skill.uri").uri
        session, key, _ = await self._require_session(ctx, session_id)
        async with self.locks.lock(self._lock_path(ctx, session)):
            meta = await self._session_meta(ctx, session)
            if meta is None:
                raise NotFoundError(session_id, "session")
            raw_used = meta.get("used")
            used: dict[str, Any] = raw_used if isinstance(raw_used, dict) else {}
            recorded = [*list(used.get("contexts") or []), *uris][-_MAX_USED:]
            skills = [*list(used.get("skills") or []), *([entry] if entry else [])][-_MAX_USED:]
            meta["used"] = {"contexts": recorded, "skills": skills}
            await self._write_meta(key, meta)
        return {
            "session_id": session_id,
            "contexts_used": len(recorded),
            "skills_used": len(skills),
        }

    # -- reading back ------------------------------------------------------------------------

    async def session_context(
        self, ctx: RequestContext, session_id: str, token_budget: int = 128_000
    ) -> dict[str, Any]:
        """Messages of unfinished archives and the live ones, newest kept first within
        ``token_budget``, then the latest finished archive's overview if it still fits."""
        if isinstance(token_budget, bool) or not isinstance(token_budget, int) or token_budget < 0:
            raise InvalidArgumentError(
                "token_budget must be a non-negative integer", {"field": "token_budget"}
            )
        session, key, _ = await self._require_session(ctx, session_id)
        numbers = await self._archive_numbers(key)
        pending: list[dict[str, Any]] = []
        failed = 0
        latest_done: int | None = None
        for number in numbers:
            archive_key = self._key(ctx, self._archive_uri(session, number))
            status, _ = await self._archive_status(archive_key)
            if status == "done":
                latest_done, pending = number, []  # only archives after the latest done
            else:
                failed += status == "failed"
                pending.extend(await self._messages_at(f"{archive_key}/{MESSAGES_FILE}"))
        candidates = pending + await self._messages_at(f"{key}/{MESSAGES_FILE}")
        kept: list[dict[str, Any]] = []
        active = 0
        for message in reversed(candidates):
            cost = estimate_message_tokens(message)
            if active + cost > token_budget:
                break
            kept.append(message)
            active += cost
        kept.reverse()
        overview: str | None = None
        archive_tokens = dropped = 0
        if latest_done is not None:
            archive_key = self._key(ctx, self._archive_uri(session, latest_done))
            text = await self._sidecar_body(archive_key, OVERVIEW_FILE) or ""
            cost = estimate_tokens(text)
            if text and active + cost <= token_budget:
                overview, archive_tokens = text, cost
            elif text:
                dropped = 1
        return {
            "latest_archive_overview": overview,
            "pre_archive_abstracts": [],
            "messages": kept,
            "estimatedTokens": active + archive_tokens,
            "stats": {
                "totalArchives": len(numbers),
                "includedArchives": 0,
                "droppedArchives": dropped,
                "failedArchives": failed,
                "activeTokens": active,
                "archiveTokens": archive_tokens,
            },
        }

    async def list_archives(self, ctx: RequestContext, session_id: str) -> list[dict[str, Any]]:
        """``[{archive_id, archive_uri, status, message_count, created_at}]``, oldest first."""
        session, key, _ = await self._require_session(ctx, session_id)
        archives = []
        for number in await self._archive_numbers(key):
            uri = self._archive_uri(session, number)
            archive_key = self._key(ctx, uri)
            status, _ = await self._archive_status(archive_key)
            meta = await self._read_json(f"{archive_key}/{ARCHIVE_META}") or {}
            archives.append(
                {
                    "archive_id": archive_name(number),
                    "archive_uri": uri.uri,
                    "status": status,
                    "message_count": meta.get("message_count"),
                    "created_at": meta.get("created_at"),
                }
            )
        return archives

    async def get_archive(
        self, ctx: RequestContext, session_id: str, archive: int | str
    ) -> dict[str, Any]:
        """One archive: ``{archive_id, archive_uri, status: done|pending|failed, failure,
        abstract, overview, messages, meta, task}`` (any status, unlike the original)."""
        number = parse_archive(archive)
        session, _, _ = await self._require_session(ctx, session_id)
        uri = self._archive_uri(session, number)
        archive_key = self._key(ctx, uri)
        if not await self.store.exists(archive_key):
            raise NotFoundError(f"{session_id}/{archive_name(number)}", "archive")
        status, failure = await self._archive_status(archive_key)
        tasks = await self.tasks.list(
            ctx, task_type=SESSION_COMMIT_TASK, resource_id=uri.uri, limit=1
        )
        return {
            "archive_id": archive_name(number),
            "archive_uri": uri.uri,
            "status": status,
            "failure": failure,
            "abstract": await self._sidecar_body(archive_key, ABSTRACT_FILE) or "",
            "overview": await self._sidecar_body(archive_key, OVERVIEW_FILE) or "",
            "messages": await self._messages_at(f"{archive_key}/{MESSAGES_FILE}"),
            "meta": await self._read_json(f"{archive_key}/{ARCHIVE_META}") or {},
            "task": tasks[0].to_dict() if tasks else None,
        }
