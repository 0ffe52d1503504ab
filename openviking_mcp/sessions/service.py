"""The session service: conversations an agent records, their archives and statistics.

Storage is described in :mod:`.layout` and done by :class:`~.files.SessionFiles`. The
operations here, each under the session's path lock when it changes files:

* create (caller id or ``YYYYMMDD-HHMMSS-{16hex}``), list (newest first), get (optionally
  creating), change the settings (auto-commit policy, memory extraction config), delete;
* add a message (``content`` or ``parts``; the session is created if missing, as the original
  does) or a batch of ≤100; tool outputs over 20,000 chars are externalised. After each write
  :class:`~openviking_mcp.events.MessagesAdded` is published: the commit service commits the
  session when its auto-commit policy says so, and that commit is the result's
  ``auto_commit``;
* ``used``: contexts and skills the agent actually used, kept in ``.meta.json`` (so a commit run
  by another process sees them) and moved into the archive's ``.meta.json`` at commit;
* ``context``: live messages (and those of archives whose phase 2 has not finished) fitted to a
  token budget, plus the latest finished archive's overview if it still fits;
* archives: list, and one archive with its status (``done``, ``pending`` or ``failed`` with the
  contents of its ``.failed.json``);
* ``stats``: message counts, commits, pending tokens, used contexts/skills and the memories each
  finished archive extracted (from its ``memory_diff.json``).

Committing (archiving and memory extraction) is the memory feature's
(:mod:`openviking_mcp.memory.commit`).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from openviking_mcp.contract.base import Empty
from openviking_mcp.contract.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.sessions import (
    AddedMessages,
    AddMessageRequest,
    AddMessagesRequest,
    ArchiveCounts,
    ArchiveDetail,
    ArchiveEntry,
    ArchiveRequest,
    CommitResult,
    ContextStats,
    CreateSessionRequest,
    DeletedSession,
    GetSessionRequest,
    MessageAdded,
    RecordUsedRequest,
    SessionConfig,
    SessionContext,
    SessionContextRequest,
    SessionEntry,
    SessionRequest,
    SessionStats,
    SessionView,
    UpdateSessionConfigRequest,
    UsedTotals,
)
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.events import MessagesAdded, SessionDeleted
from openviking_mcp.sessions.config import (
    EXTRACTION_FIELD,
    POLICY_FIELD,
    apply_update,
    extraction_config,
    parse_extraction_config,
)
from openviking_mcp.sessions.context import check_budget, fit_messages, fit_overview
from openviking_mcp.sessions.files import SessionFiles
from openviking_mcp.sessions.layout import (
    ARCHIVE_META,
    DIFF_FILE,
    MESSAGES_FILE,
    SESSION_COMMIT_TASK,
    TOOL_RESULTS_DIR,
    archive_name,
    check_session_id,
    detail_fields,
    dump_messages,
    new_meta,
    parse_archive,
    parse_messages,
    usage_record,
)
from openviking_mcp.sessions.messages import (
    MAX_BATCH,
    ContextPart,
    Message,
    build_message,
    estimate_message_tokens,
    externalise_tool_outputs,
    message_text,
    now_iso,
)
from openviking_mcp.sessions.policy import parse_policy
from openviking_mcp.sessions.tally import tally_archives
from openviking_mcp.storage.sidecar import ABSTRACT_FILE, OVERVIEW_FILE
from openviking_mcp.store import Store, iso_time

__all__ = ["SessionService"]

_MAX_USED = 1000


def _new_session_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(8)}"


def _view(ctx: RequestContext, session: VikingURI, meta: dict[str, Any]) -> SessionView:
    return SessionView.model_validate(
        {
            **meta,
            "uri": session.uri,
            "user": {"account_id": ctx.account_id, "user_id": ctx.user_id},
        }
    )


def _batch_message(index: int, item: object) -> Message:
    """``messages[index]`` of a batch as a message (errors name the index)."""
    if not isinstance(item, Mapping):
        raise InvalidArgumentError(f"messages[{index}] must be an object", {"field": "messages"})
    try:
        return build_message(
            item.get("role"),
            item.get("content"),
            item.get("parts"),
            peer_id=item.get("peer_id"),
            turn_id=item.get("turn_id"),
            created_at=item.get("created_at"),
        )
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(
            f"messages[{index}]: {exc.message}", {**exc.details, "index": index}
        ) from None


class SessionService:
    """See the module docs. ``files`` are the session files it shares with the commit
    service."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.files = SessionFiles(store)

    # -- lifecycle ---------------------------------------------------------------------------

    async def create(self, ctx: RequestContext, req: CreateSessionRequest) -> SessionView:
        """A new, empty session; an existing id is :class:`AlreadyExistsError` (409). The answer
        has the fields of :meth:`get` (zero counters, unset times ``""``)."""
        policy = parse_policy(req.auto_commit_policy)
        extraction = parse_extraction_config(req.memory_extraction_config)
        sid = check_session_id(req.session_id) if req.session_id else _new_session_id()
        files = self.files
        session = files.session_uri(ctx, sid)
        key = files.key(ctx, session)
        async with files.lock(ctx, session):
            if await self._store.content.exists(key):
                raise AlreadyExistsError(sid, "session")
            meta = new_meta(ctx, sid, policy.model_dump() if policy else None)
            meta[EXTRACTION_FIELD] = extraction
            await files.write_meta(key, meta)
        detail = detail_fields(meta)
        detail["memories_extracted"] = {"total": 0}
        return _view(ctx, session, detail)

    async def list_sessions(self, ctx: RequestContext, req: Empty) -> list[SessionEntry]:
        """``[{session_id, uri, is_dir, mod_time}]``, most recently changed first."""
        root = self.files.sessions_root(ctx)
        found = await self.files.session_dirs(ctx)
        found.sort(key=lambda c: (c.mtime, c.name), reverse=True)
        return [
            SessionEntry(
                session_id=c.name,
                uri=root.join(c.name).uri,
                is_dir=True,
                mod_time=iso_time(c.mtime),
            )
            for c in found
        ]

    async def get(self, ctx: RequestContext, req: GetSessionRequest) -> SessionView:
        """The session's ``.meta.json`` with ``uri`` and ``user``; 404 unless ``auto_create``."""
        session = self.files.session_uri(ctx, req.session_id)
        meta = await self.files.session_meta(ctx, session)
        if meta is None:
            if not req.auto_create:
                raise NotFoundError(req.session_id, "session")
            with contextlib.suppress(AlreadyExistsError):  # created meanwhile
                return await self.create(ctx, CreateSessionRequest(session_id=req.session_id))
            return await self.get(ctx, GetSessionRequest(session_id=req.session_id))
        tally = await tally_archives(self._store, self.files, ctx, session, meta)
        detail = detail_fields(meta)
        detail["memories_extracted"] = tally.memories_extracted()
        detail["llm_token_usage"] = tally.llm_token_usage
        return _view(ctx, session, detail)

    async def update_config(
        self, ctx: RequestContext, req: UpdateSessionConfigRequest
    ) -> SessionConfig:
        """Change the session's auto-commit policy and/or memory extraction config (see
        :mod:`.config`): only the fields the request sets change, ``null`` clears one. The
        policy takes effect at the next message write and idle scan; 404 for an unknown
        session."""
        changes = {name: getattr(req, name) for name in req.model_fields_set - {"session_id"}}
        apply_update({}, changes)  # a bad value is refused before the session is looked up
        files = self.files
        session, key, _ = await files.require_session(ctx, req.session_id)
        async with files.lock(ctx, session):
            meta = await files.session_meta(ctx, session)
            if meta is None:
                raise NotFoundError(req.session_id, "session")
            apply_update(meta, changes)
            if changes:
                await files.write_meta(key, meta)
        return SessionConfig(
            session_id=session.name,
            auto_commit_policy=meta.get(POLICY_FIELD),
            memory_extraction_config=extraction_config(meta.get(EXTRACTION_FIELD)),
        )

    async def delete(self, ctx: RequestContext, req: SessionRequest) -> DeletedSession:
        """Remove a session with its archives and the copies of its turns kept as
        conversation memory (memories extracted from it stay)."""
        files = self.files
        session = files.session_uri(ctx, req.session_id)
        key = files.key(ctx, session)
        async with files.lock(ctx, session):
            if not await self._store.content.exists(key):
                raise NotFoundError(req.session_id, "session")
            await self._store.content.remove(key, recursive=True)
        await self._store.events.publish(SessionDeleted(ctx, req.session_id))
        return DeletedSession(session_id=req.session_id, uri=session.uri)

    # -- messages ----------------------------------------------------------------------------

    async def add_message(self, ctx: RequestContext, req: AddMessageRequest) -> MessageAdded:
        """Append one message (the session is created if missing); returns
        ``{session_id, message_count, pending_tokens}`` (plus ``auto_commit`` if the session's
        policy committed it)."""
        message = build_message(
            req.role,
            req.content,
            req.parts,
            peer_id=req.peer_id,
            turn_id=req.turn_id,
            created_at=req.created_at,
        )
        added = await self._append(ctx, req.session_id, [message])
        return MessageAdded(
            session_id=added.session_id,
            message_count=added.message_count,
            pending_tokens=added.pending_tokens,
            auto_commit=added.auto_commit,
        )

    async def add_messages(self, ctx: RequestContext, req: AddMessagesRequest) -> AddedMessages:
        """Append up to 100 messages at once (each like :meth:`add_message`'s arguments), all
        or nothing; returns ``{session_id, message_count, added, pending_tokens}``."""
        if not isinstance(req.messages, list) or not req.messages:
            raise InvalidArgumentError("messages must be a non-empty list", {"field": "messages"})
        if len(req.messages) > MAX_BATCH:
            raise InvalidArgumentError(
                f"At most {MAX_BATCH} messages per batch", {"field": "messages"}
            )
        built = [_batch_message(i, item) for i, item in enumerate(req.messages)]
        return await self._append(ctx, req.session_id, built)

    async def _append(
        self, ctx: RequestContext, session_id: str, messages: list[Message]
    ) -> AddedMessages:
        """Store ``messages`` and move the counters, then let the auto-commit policy act."""
        files, content = self.files, self._store.content
        session = files.session_uri(ctx, session_id)
        key = files.key(ctx, session)
        for message in messages:
            self._check_context_uris(ctx, message)
        async with files.lock(ctx, session):
            meta = await files.session_meta(ctx, session) or new_meta(ctx, session.name, None)
            lines: list[dict[str, Any]] = []
            base = session.join(TOOL_RESULTS_DIR).uri
            for message in messages:
                for result_id, text in externalise_tool_outputs(message, base).items():
                    await content.write_bytes(
                        f"{key}/{TOOL_RESULTS_DIR}/{result_id}.txt", text.encode("utf-8")
                    )
                lines.append(message.to_json())
            await content.append_lines(f"{key}/{MESSAGES_FILE}", dump_messages(lines))
            tokens = sum(estimate_message_tokens(m) for m in lines)
            meta["message_count"] = int(meta.get("message_count") or 0) + len(lines)
            meta["total_message_count"] = int(meta.get("total_message_count") or 0) + len(lines)
            meta["pending_tokens"] = int(meta.get("pending_tokens") or 0) + tokens
            meta["last_message_at"] = now_iso()
            await files.write_meta(key, meta)
        count, pending = int(meta["message_count"]), int(meta["pending_tokens"])
        reply = await self._store.events.report(MessagesAdded(ctx, session.name, count, pending))
        auto = reply.get("auto_commit")
        return AddedMessages(
            session_id=session.name,
            message_count=count,
            added=len(lines),
            pending_tokens=pending,
            auto_commit=auto if isinstance(auto, CommitResult) else None,
        )

    def _check_context_uris(self, ctx: RequestContext, message: Message) -> None:
        """Context parts name readable ``viking://`` URIs, stored canonical (``~`` expanded)."""
        for part in message.parts:
            if isinstance(part, ContextPart):
                part.uri = self._store.resolve(ctx, part.uri, field="parts.uri").uri

    async def record_used(self, ctx: RequestContext, req: RecordUsedRequest) -> UsedTotals:
        """Record contexts (URIs) and a skill (``{uri, input, output, success}``) the agent
        used; the next commit raises their ``active_count``. Returns the pending totals."""
        store, files = self._store, self.files
        uris = [
            usage_record(store.resolve(ctx, u, field="contexts").uri, "context")
            for u in req.contexts or []
        ]
        entry: dict[str, Any] | None = None
        skill = req.skill
        if skill is not None:
            if not isinstance(skill, Mapping) or not isinstance(skill.get("uri"), str):
                raise InvalidArgumentError("skill must be an object with a uri", {"field": "skill"})
            uri = store.resolve(ctx, str(skill["uri"]), field="skill.uri").uri
            entry = usage_record(uri, "skill", dict(skill))
        session, key, _ = await files.require_session(ctx, req.session_id)
        async with files.lock(ctx, session):
            meta = await files.session_meta(ctx, session)
            if meta is None:
                raise NotFoundError(req.session_id, "session")
            raw_used = meta.get("used")
            used: dict[str, Any] = raw_used if isinstance(raw_used, dict) else {}
            recorded = [*list(used.get("contexts") or []), *uris][-_MAX_USED:]
            skills = [*list(used.get("skills") or []), *([entry] if entry else [])][-_MAX_USED:]
            meta["used"] = {"contexts": recorded, "skills": skills}
            await files.write_meta(key, meta)
        return UsedTotals(
            session_id=req.session_id, contexts_used=len(recorded), skills_used=len(skills)
        )

    # -- reading back ------------------------------------------------------------------------

    async def context(self, ctx: RequestContext, req: SessionContextRequest) -> SessionContext:
        """Messages of unfinished archives and the live ones, newest kept first within
        ``token_budget``, then the latest finished archive's overview if it still fits."""
        budget = check_budget(req.token_budget)
        files = self.files
        session, key, _ = await files.require_session(ctx, req.session_id)
        numbers = await files.archive_numbers(key)
        pending: list[dict[str, Any]] = []
        failed = 0
        latest_done: int | None = None
        for number in numbers:
            archive_key = files.key(ctx, files.archive_uri(session, number))
            status, _ = await files.archive_status(archive_key)
            if status == "done":
                latest_done, pending = number, []  # only archives after the latest done
            else:
                failed += status == "failed"
                pending.extend(await files.messages_at(f"{archive_key}/{MESSAGES_FILE}"))
        live = await files.messages_at(f"{key}/{MESSAGES_FILE}")
        kept, active = fit_messages(pending + live, budget)
        text = ""
        if latest_done is not None:
            archive_key = files.key(ctx, files.archive_uri(session, latest_done))
            text = await self._store.sidecar_body(archive_key, OVERVIEW_FILE) or ""
        overview, archive_tokens, dropped = fit_overview(text, active, budget)
        stats = ContextStats(
            total_archives=len(numbers),
            included_archives=0,
            dropped_archives=dropped,
            failed_archives=failed,
            active_tokens=active,
            archive_tokens=archive_tokens,
        )
        return SessionContext(
            latest_archive_overview=overview,
            pre_archive_abstracts=[],
            messages=kept,
            estimated_tokens=active + archive_tokens,
            stats=stats,
        )

    async def recent_texts(self, ctx: RequestContext, session_id: str, n: int) -> list[str]:
        """The texts of the session's last ``n`` messages that have any (``NOT_FOUND`` if
        there is no such session; ``[]`` for one without messages yet)."""
        store = self._store
        key = self.files.key(ctx, self.files.session_uri(ctx, session_id))
        text = await store.read_text(f"{key}/{MESSAGES_FILE}")
        if text is None:
            if not await store.content.exists(key):
                raise NotFoundError(session_id, "session")
            return []  # a session without messages yet
        texts = (message_text(m) for m in parse_messages(text)[-n:])
        return [t for t in texts if t]

    async def list_archives(self, ctx: RequestContext, req: SessionRequest) -> list[ArchiveEntry]:
        """``[{archive_id, archive_uri, status, message_count, created_at}]``, oldest first."""
        files = self.files
        session, key, _ = await files.require_session(ctx, req.session_id)
        archives = []
        for number in await files.archive_numbers(key):
            uri = files.archive_uri(session, number)
            archive_key = files.key(ctx, uri)
            status, _ = await files.archive_status(archive_key)
            meta = await self._store.read_json(f"{archive_key}/{ARCHIVE_META}") or {}
            archives.append(
                ArchiveEntry(
                    archive_id=archive_name(number),
                    archive_uri=uri.uri,
                    status=status,
                    message_count=meta.get("message_count"),
                    created_at=meta.get("created_at"),
                )
            )
        return archives

    async def get_archive(self, ctx: RequestContext, req: ArchiveRequest) -> ArchiveDetail:
        """One archive: ``{archive_id, archive_uri, status: done|pending|failed, failure,
        abstract, overview, messages, meta, task, memory_diff}`` (any status, unlike the
        original)."""
        number = parse_archive(req.archive)
        store, files = self._store, self.files
        session, _, _ = await files.require_session(ctx, req.session_id)
        uri = files.archive_uri(session, number)
        archive_key = files.key(ctx, uri)
        if not await store.content.exists(archive_key):
            raise NotFoundError(f"{req.session_id}/{archive_name(number)}", "archive")
        status, failure = await files.archive_status(archive_key)
        tasks = await store.tasks.list(
            ctx, task_type=SESSION_COMMIT_TASK, resource_id=uri.uri, limit=1
        )
        return ArchiveDetail(
            archive_id=archive_name(number),
            archive_uri=uri.uri,
            status=status,
            failure=failure,
            abstract=await store.sidecar_body(archive_key, ABSTRACT_FILE) or "",
            overview=await store.sidecar_body(archive_key, OVERVIEW_FILE) or "",
            messages=await files.messages_at(f"{archive_key}/{MESSAGES_FILE}"),
            meta=await store.read_json(f"{archive_key}/{ARCHIVE_META}") or {},
            task=tasks[0].to_dict() if tasks else None,
            memory_diff=await store.read_json(f"{archive_key}/{DIFF_FILE}"),
        )

    async def live_messages(self, ctx: RequestContext, req: SessionRequest) -> list[dict[str, Any]]:
        """The session's messages not yet archived, oldest first."""
        _, key, _ = await self.files.require_session(ctx, req.session_id)
        return await self.files.messages_at(f"{key}/{MESSAGES_FILE}")

    # -- statistics --------------------------------------------------------------------------

    async def stats(self, ctx: RequestContext, req: SessionRequest) -> SessionStats:
        """``{session_id, total_turns, message_count, commit_count, pending_tokens,
        last_commit_at, archives: {total, done, pending, failed}, memories_extracted:
        {category: n, total}, contexts_used, skills_used}``; 404 for an unknown session."""
        session, _, meta = await self.files.require_session(ctx, req.session_id)
        tally = await tally_archives(self._store, self.files, ctx, session, meta)
        return SessionStats(
            session_id=session.name,
            total_turns=int(meta.get("total_message_count") or 0),
            message_count=int(meta.get("message_count") or 0),
            commit_count=int(meta.get("commit_count") or 0),
            pending_tokens=int(meta.get("pending_tokens") or 0),
            last_commit_at=meta.get("last_commit_at"),
            archives=ArchiveCounts(**tally.archives),
            memories_extracted=tally.memories_extracted(),
            contexts_used=tally.contexts_used,
            skills_used=tally.skills_used,
        )
