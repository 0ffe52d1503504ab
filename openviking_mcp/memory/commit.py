"""The commit service: session commit phase 1, retries of phase 2, auto-commit and ``remember``.

Phase 1 (:meth:`CommitService.commit`) runs under the session's path lock: the live messages
but the ``keep_recent_count`` newest go to ``history/archive_NNN/messages.jsonl`` with an
archive ``.meta.json`` (``created_at``, ``message_count``, the ``used`` records, ...), the live
``messages.jsonl`` is rewritten with the tail (atomically), the counters move, and the durable
``session_commit`` task (phase 2, :class:`~.phase2.ArchiveProcessor`, whose handler is
:attr:`CommitService.run_phase2`) is queued for that archive with the archive URI as its
``resource_id``. Unlike the original, an archive whose phase 2 failed does not block later
commits (no 412); :meth:`CommitService.retry` queues it again (also reached by retrying the
failed task, :meth:`CommitService.retry_task`).

Auto-commit (off unless a session has a policy, see :mod:`openviking_mcp.sessions.policy`) is
checked after each message write (:meth:`CommitService.on_messages_added`, subscribed to
:class:`~openviking_mcp.events.MessagesAdded`) and, for idle sessions, by a scan every
:attr:`CommitService.SCAN_SECONDS` that the service starts and stops with itself.

The path lock is per process; the content store's writes are atomic, so another process sees
whole files, but two processes committing one session at the same instant could both archive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any

from openviking_mcp import faults
from openviking_mcp.contract.base import Empty
from openviking_mcp.contract.errors import (
    ConflictError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    OpenVikingError,
    UnimplementedError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.memory import (
    CommitRequest,
    CommitResult,
    RememberRequest,
    RememberResult,
    RetryRequest,
    RetryResult,
    WaitedCommit,
    WaitedRetry,
)
from openviking_mcp.contract.sessions import AddMessagesRequest, CreateSessionRequest
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.events import MessagesAdded
from openviking_mcp.memory.phase2 import ArchiveProcessor
from openviking_mcp.memory.service import MemoryService
from openviking_mcp.sessions.layout import (
    ARCHIVE_META,
    FAILED_FILE,
    MESSAGES_FILE,
    SESSION_COMMIT_TASK,
    archive_name,
    dump_json,
    dump_messages,
    empty_used,
    parse_archive,
    parse_messages,
)
from openviking_mcp.sessions.messages import estimate_message_tokens, now_iso
from openviking_mcp.sessions.policy import parse_policy
from openviking_mcp.sessions.service import SessionService
from openviking_mcp.storage.queue import INTERACTIVE, TaskHandle, TaskRecord
from openviking_mcp.store import Store, iso_epoch

__all__ = ["CommitService"]

logger = logging.getLogger("openviking_mcp.sessions")

_MAX_KEEP = 500


def _check_keep(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_KEEP:
        raise InvalidArgumentError(
            f"keep_recent_count must be an integer between 0 and {_MAX_KEEP}",
            {"field": "keep_recent_count", "value": str(value)},
        )
    return value


def _interval_passed(meta: Mapping[str, Any], seconds: int) -> bool:
    last = iso_epoch(meta.get("last_commit_at"))
    return not seconds or last is None or time.time() - last >= seconds


def _waited(record: TaskRecord) -> dict[str, Any]:
    """The fields a waited commit or retry adds: the task's status, result and error."""
    fields: dict[str, Any] = {"task_status": record.status, "result": record.result}
    if record.error:
        fields["error"] = record.error
    return fields


class CommitService:
    """See the module docs."""

    SCAN_SECONDS: float = 60.0

    def __init__(self, store: Store, sessions: SessionService, memory: MemoryService) -> None:
        self._store = store
        self._sessions = sessions
        self._files = sessions.files
        self._phase2 = ArchiveProcessor(store, memory)
        self._scanner: asyncio.Task[None] | None = None

    async def run_phase2(self, task: TaskHandle) -> dict[str, Any]:
        """The ``session_commit`` task handler (phase 2 of one archive). A task queued by
        phase 1 first makes sure phase 1 finished (:meth:`_complete_phase1`); an archive
        removed in the meantime (its session was deleted) is skipped."""
        store, ctx = self._store, task.context
        archive = store.resolve(ctx, str(task.payload["archive_uri"]))
        if not await store.content.exists(store.key(ctx, archive)):
            return {"status": "skipped", "reason": "archive_removed"}
        if task.state.get("phase1") == "writing":
            if not await self._complete_phase1(task):
                return {"status": "skipped", "reason": "phase1_incomplete"}
            await task.checkpoint("phase1", phase1="done")
        return await self._phase2.run(task)

    async def _complete_phase1(self, task: TaskHandle) -> bool:
        """Finish a phase 1 that a crash interrupted; ``False`` if its archive was never
        completed (it is removed: its messages are still live, the next commit takes them)."""
        store, files, ctx = self._store, self._files, task.context
        session = files.session_uri(ctx, str(task.payload["session_id"]))
        archive = store.resolve(ctx, str(task.payload["archive_uri"]))
        archive_key = files.key(ctx, archive)
        async with files.lock(ctx, session):
            archive_meta = await store.read_json(f"{archive_key}/{ARCHIVE_META}")
            archived = await store.read_text(f"{archive_key}/{MESSAGES_FILE}")
            if archive_meta is None or archived is None:
                if await store.content.exists(archive_key):
                    await store.content.remove(archive_key, recursive=True)
                return False
            meta = await files.session_meta(ctx, session)
            if meta is None:
                return True
            key = files.key(ctx, session)
            live = await files.messages_at(f"{key}/{MESSAGES_FILE}")
            ids = {m.get("id") for m in parse_messages(archived) if m.get("id")}
            tail = [m for m in live if m.get("id") not in ids]
            await self._settle(ctx, session, meta, live, tail, archive_meta)
        return True

    # -- commit ------------------------------------------------------------------------------

    async def commit(self, ctx: RequestContext, req: CommitRequest) -> CommitResult:
        """Phase 1: archive the live messages but the ``keep_recent_count`` newest and queue
        phase 2. ``status: "accepted"`` with ``task_id`` and ``archive_uri``, or ``status:
        "skipped"`` with ``reason`` ``no_messages``/``all_within_keep_window``. ``wait`` waits
        for phase 2 (its result in ``result``, its status in ``task_status``)."""
        keep = _check_keep(req.keep_recent_count)
        result = await self.archive(ctx, req.session_id, keep, "manual")
        if req.wait and result.task_id:
            record = await self._store.tasks.wait(result.task_id, req.timeout)
            return WaitedCommit(**result.model_dump(), **_waited(record))
        return result

    async def archive(
        self, ctx: RequestContext, session_id: str, keep: int, trigger: str
    ) -> CommitResult:
        """Phase 1 for ``session_id``, keeping ``keep`` messages live; ``trigger`` is
        ``manual`` or what made an auto-commit due."""
        files = self._files
        session, key, _ = await files.require_session(ctx, session_id)
        async with files.lock(ctx, session):
            meta = await files.session_meta(ctx, session)
            if meta is None:
                raise NotFoundError(session_id, "session")
            messages = await files.messages_at(f"{key}/{MESSAGES_FILE}")
            if messages and len(messages) > keep:
                return await self._archive_locked(ctx, session, meta, messages, keep, trigger)
        return CommitResult(
            session_id=session.name,
            status="skipped",
            task_id=None,
            archive_uri=None,
            archived=False,
            reason="all_within_keep_window" if messages else "no_messages",
        )

    async def _archive_locked(
        self,
        ctx: RequestContext,
        session: VikingURI,
        meta: dict[str, Any],
        messages: list[dict[str, Any]],
        keep: int,
        trigger: str,
    ) -> CommitResult:
        """Move all but the ``keep`` newest ``messages`` into a new archive, update the
        session's counters and queue phase 2 (the caller holds the session's lock)."""
        files, content = self._files, self._store.content
        key = files.key(ctx, session)
        cut = len(messages) - keep
        archived, tail = messages[:cut], messages[cut:]
        number = max(await files.archive_numbers(key), default=0) + 1
        archive = files.archive_uri(session, number)
        archive_key = files.key(ctx, archive)
        now = now_iso()
        # Phase 2 is recorded first and held until phase 1 is written: a crash in between
        # leaves a task that finishes this commit (or drops its partial archive).
        task_id = await self._submit_phase2(ctx, session.name, archive, hold=True)
        try:
            faults.point("commit.planned")
            await content.write_bytes(f"{archive_key}/{MESSAGES_FILE}", dump_messages(archived))
            archive_meta = {
                "archive_id": archive_name(number),
                "session_id": session.name,
                "created_at": now,
                "message_count": len(archived),
                "first_message_id": archived[0].get("id"),
                "last_message_id": archived[-1].get("id"),
                "keep_recent_count": keep,
                "trigger": trigger,
                "used": meta.get("used") or empty_used(),
            }
            await content.write_bytes(f"{archive_key}/{ARCHIVE_META}", dump_json(archive_meta))
            faults.point("commit.archived")
            await self._settle(ctx, session, meta, messages, tail, archive_meta)
            faults.point("commit.settled")
        finally:
            if task_id is not None:
                await self._store.tasks.release(task_id)
        return CommitResult(
            session_id=session.name,
            status="accepted",
            task_id=task_id,
            archive_uri=archive.uri,
            archived=True,
            archive_id=archive_name(number),
            message_count=len(archived),
            kept=len(tail),
        )

    async def _settle(
        self,
        ctx: RequestContext,
        session: VikingURI,
        meta: dict[str, Any],
        live: list[dict[str, Any]],
        tail: list[dict[str, Any]],
        archive_meta: Mapping[str, Any],
    ) -> None:
        """The end of phase 1, safe to run twice: the live messages become ``tail`` and the
        session's counters record the archive's commit (once: a session whose
        ``last_commit_at`` is this archive's or later has it already)."""
        key = self._files.key(ctx, session)
        if len(tail) != len(live):
            await self._store.content.write_bytes(f"{key}/{MESSAGES_FILE}", dump_messages(tail))
        created = str(archive_meta["created_at"])
        last = meta.get("last_commit_at")
        if last == created or (iso_epoch(last) or 0.0) > (iso_epoch(created) or 0.0):
            return
        meta.update(
            message_count=len(tail),
            commit_count=int(meta.get("commit_count") or 0) + 1,
            pending_tokens=sum(estimate_message_tokens(m) for m in tail),
            last_commit_at=created,
            used=empty_used(),
        )
        if archive_meta.get("trigger") != "manual":
            meta["last_auto_commit_at"] = created
        await self._files.write_meta(key, meta)

    async def _submit_phase2(
        self, ctx: RequestContext, session_id: str, archive: VikingURI, *, hold: bool = False
    ) -> str | None:
        """Queue phase 2 for an archive; ``None`` when this build has no phase-2 handler
        (the archive then stays pending and can be retried later). ``hold``: phase 1 is still
        writing; the caller releases the task (see :meth:`TaskQueue.submit`)."""
        payload = {"session_id": session_id, "archive": archive.name, "archive_uri": archive.uri}
        try:
            return await self._store.tasks.submit(
                SESSION_COMMIT_TASK,
                ctx,
                payload,
                priority=INTERACTIVE,
                resource_id=archive.uri,
                hold=hold,
                state={"phase1": "writing"} if hold else None,
            )
        except InvalidArgumentError:  # "Unknown task type": no phase-2 handler registered
            logger.warning("no %s handler: %s stays pending", SESSION_COMMIT_TASK, archive.uri)
            return None

    async def retry(self, ctx: RequestContext, req: RetryRequest) -> RetryResult:
        """Queue phase 2 again for an archive that failed (or never finished); its
        ``.failed.json`` is removed. A finished archive is 412, one still queued 409."""
        number = parse_archive(req.archive)
        store, files = self._store, self._files
        session, _, _ = await files.require_session(ctx, req.session_id)
        uri = files.archive_uri(session, number)
        archive_key = files.key(ctx, uri)
        async with files.lock(ctx, uri):
            if not await store.content.exists(archive_key):
                raise NotFoundError(f"{req.session_id}/{archive_name(number)}", "archive")
            status, _ = await files.archive_status(archive_key)
            if status == "done":
                raise FailedPreconditionError(
                    f"Archive {archive_name(number)} of session {req.session_id} already completed",
                    {"archive_uri": uri.uri, "status": status},
                )
            await self._refuse_active(ctx, uri, number)
            task_id = await self._submit_phase2(ctx, session.name, uri)
            if task_id is None:
                raise UnimplementedError("Memory extraction (commit phase 2) is not available")
            if await store.content.exists(f"{archive_key}/{FAILED_FILE}"):
                await store.content.remove(f"{archive_key}/{FAILED_FILE}")
        result = RetryResult(
            session_id=session.name,
            status="accepted",
            task_id=task_id,
            archive_id=archive_name(number),
            archive_uri=uri.uri,
        )
        if req.wait:
            record = await store.tasks.wait(task_id, req.timeout)
            return WaitedRetry(**result.model_dump(), **_waited(record))
        return result

    async def retry_task(self, record: TaskRecord) -> str:
        """The retry function of ``session_commit`` tasks: :meth:`retry` of the task's archive
        for the task's owner; the new task's id."""
        payload = record.payload
        request = RetryRequest(session_id=str(payload["session_id"]), archive=payload["archive"])
        return (await self.retry(record.context, request)).task_id

    async def _refuse_active(self, ctx: RequestContext, uri: VikingURI, number: int) -> None:
        """``CONFLICT`` if phase 2 of the archive is pending or running."""
        for state in ("pending", "running"):
            active = await self._store.tasks.list(
                ctx, task_type=SESSION_COMMIT_TASK, status=state, resource_id=uri.uri, limit=1
            )
            if active:
                raise ConflictError(
                    f"Archive {archive_name(number)} is already being processed",
                    {"archive_uri": uri.uri, "task_id": active[0].task_id},
                )

    async def remember(self, ctx: RequestContext, req: RememberRequest) -> RememberResult:
        """Store ``messages`` in a fresh session ``{prefix}-{12 hex}`` and commit it at once, so
        their memories are extracted in the background; the commit result plus ``stored``."""
        session_id = f"{req.session_prefix}-{secrets.token_hex(6)}"
        sessions = self._sessions
        await sessions.create(ctx, CreateSessionRequest(session_id=session_id))
        added = await sessions.add_messages(
            ctx, AddMessagesRequest(session_id=session_id, messages=req.messages)
        )
        result = await self.archive(ctx, session_id, 0, "manual")
        fields = result.model_dump() | {"session_id": session_id}
        return RememberResult(**fields, stored=added.added)

    # -- auto-commit -------------------------------------------------------------------------

    async def on_messages_added(self, event: MessagesAdded) -> dict[str, Any]:
        """Commit after a write when the session's policy says so (strictly greater-than);
        ``{"auto_commit": commit}`` then, else ``{}``."""
        ctx, session_id = event.ctx, event.session_id
        meta = await self._files.session_meta(ctx, self._files.session_uri(ctx, session_id))
        policy = parse_policy(meta.get("auto_commit_policy") if meta else None)
        if meta is None or policy is None:
            return {}
        reason = policy.due(event.message_count, event.pending_tokens)
        if reason is None or not _interval_passed(meta, policy.min_commit_interval_seconds):
            return {}
        commit = await self.archive(ctx, session_id, policy.keep_recent_count, reason)
        return {"auto_commit": commit.model_copy(update={"reason": commit.reason or reason})}

    async def check_idle(self, ctx: RequestContext, req: Empty) -> list[CommitResult]:
        """Commit the caller's sessions whose policy's idle timeout has passed since their
        last message; returns the commits made."""
        files = self._files
        commits: list[CommitResult] = []
        for entry in await files.session_dirs(ctx):
            session = files.session_uri(ctx, entry.name)
            meta = await files.session_meta(ctx, session)
            policy = parse_policy(meta.get("auto_commit_policy") if meta else None)
            if meta is None or policy is None or not meta.get("message_count"):
                continue
            last = iso_epoch(meta.get("last_message_at"))
            if last is None or time.time() - last <= policy.idle_timeout_seconds:
                continue
            if not _interval_passed(meta, policy.min_commit_interval_seconds):
                continue
            commit = await self.archive(ctx, session.name, policy.keep_recent_count, "idle")
            if commit.status == "accepted":
                commits.append(commit)
        return commits

    async def scan_idle_sessions(self) -> int:
        """One pass of :meth:`check_idle` over every user; returns the commits made."""
        accounts = self._store.accounts
        count = 0
        for account in await accounts.list_accounts():
            for user in await accounts.list_users(account["account_id"]):
                ctx = RequestContext(user.account_id, user.user_id, user.role)
                try:
                    count += len(await self.check_idle(ctx, Empty()))
                except OpenVikingError as exc:
                    logger.warning("idle session scan of %s failed: %s", user.user_id, exc)
        return count

    async def _scan_loop(self) -> None:
        while True:
            await asyncio.sleep(self.SCAN_SECONDS)
            try:
                await self.scan_idle_sessions()
            except Exception:  # never let the scanner die
                logger.exception("idle session scan failed")

    def start_scanner(self) -> None:
        """Start the idle-session scan (the service does at start-up)."""
        if self._scanner is None:
            self._scanner = asyncio.create_task(
                self._scan_loop(), name="openviking-session-scanner"
            )

    async def stop_scanner(self) -> None:
        task, self._scanner = self._scanner, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
