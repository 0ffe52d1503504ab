"""Session commit phase 1, retries of phase 2, ``extract`` and the auto-commit policy.

Phase 1 (:meth:`SessionCommitOps.commit_session`) runs under the session's path lock: the live
messages but the ``keep_recent_count`` newest go to ``history/archive_NNN/messages.jsonl`` with
an archive ``.meta.json`` (``created_at``, ``message_count``, the ``used`` records, ...), the
live ``messages.jsonl`` is rewritten with the tail (atomically), the counters move, and the
durable ``session_commit`` task (phase 2, :mod:`.memory`) is queued for that archive with the
archive URI as its ``resource_id``. Unlike the original, an archive whose phase 2 failed does
not block later commits (no 412); :meth:`SessionCommitOps.retry_archive` queues it again.

Auto-commit (off unless a session has a policy, see :mod:`..sessions.policy`) is checked after
each message write and, for idle sessions, by a scan every
:attr:`SessionCommitOps.SESSION_SCAN_SECONDS` that the service starts and stops with itself.

The path lock is per process; the content store's writes are atomic, so another process sees
whole files, but two processes committing one session at the same instant could both archive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from openviking_mcp.contract.errors import (
    ConflictError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    OpenVikingError,
    UnimplementedError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.ops.base import iso_epoch
from openviking_mcp.ops.session_store import (
    ARCHIVE_META,
    FAILED_FILE,
    MESSAGES_FILE,
    SessionStore,
    archive_name,
    dump_json,
    dump_messages,
    parse_archive,
)
from openviking_mcp.sessions.messages import estimate_message_tokens, now_iso
from openviking_mcp.sessions.policy import parse_policy
from openviking_mcp.storage.queue import INTERACTIVE

__all__ = ["SESSION_COMMIT_TASK", "SessionCommitOps"]

logger = logging.getLogger("openviking_mcp.sessions")

SESSION_COMMIT_TASK = "session_commit"
_MAX_KEEP = 500


def _check_keep(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_KEEP:
        raise InvalidArgumentError(
            f"keep_recent_count must be an integer between 0 and {_MAX_KEEP}",
            {"field": "keep_recent_count", "value": str(value)},
        )
    return value


class SessionCommitOps(SessionStore):
    SESSION_SCAN_SECONDS: float = 60.0
    _session_scanner: asyncio.Task[None] | None = None

    # -- commit ------------------------------------------------------------------------------

    async def commit_session(
        self,
        ctx: RequestContext,
        session_id: str,
        *,
        keep_recent_count: int = 0,
        wait: bool = False,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Phase 1: archive the live messages but the ``keep_recent_count`` newest and queue
        phase 2. ``{session_id, status: "accepted", task_id, archive_uri, archived: true}``, or
        ``status: "skipped"`` with ``reason`` ``no_messages``/``all_within_keep_window``.
        ``wait`` waits for phase 2 (its result in ``result``, its status in ``task_status``).
        """
        result = await self._commit(ctx, session_id, _check_keep(keep_recent_count), "manual")
        if wait and result["task_id"]:
            await self._wait_into(result, timeout)
        return result

    async def _commit(
        self, ctx: RequestContext, session_id: str, keep: int, trigger: str
    ) -> dict[str, Any]:
        session, key, _ = await self._require_session(ctx, session_id)
        skipped = {
            "session_id": session.name,
            "status": "skipped",
            "task_id": None,
            "archive_uri": None,
            "archived": False,
        }
        async with self.locks.lock(self._lock_path(ctx, session)):
            meta = await self._session_meta(ctx, session)
            if meta is None:
                raise NotFoundError(session_id, "session")
            messages = await self._messages_at(f"{key}/{MESSAGES_FILE}")
            if not messages:
                return {**skipped, "reason": "no_messages"}
            if len(messages) <= keep:
                return {**skipped, "reason": "all_within_keep_window"}
            cut = len(messages) - keep
            archived, tail = messages[:cut], messages[cut:]
            number = max(await self._archive_numbers(key), default=0) + 1
            archive = self._archive_uri(session, number)
            archive_key = self._key(ctx, archive)
            now = now_iso()
            used = meta.get("used") or {"contexts": [], "skills": []}
            await self.store.write_bytes(f"{archive_key}/{MESSAGES_FILE}", dump_messages(archived))
            archive_meta = {
                "archive_id": archive_name(number),
                "session_id": session.name,
                "created_at": now,
                "message_count": len(archived),
                "first_message_id": archived[0].get("id"),
                "last_message_id": archived[-1].get("id"),
                "keep_recent_count": keep,
                "trigger": trigger,
                "used": used,
            }
            await self.store.write_bytes(f"{archive_key}/{ARCHIVE_META}", dump_json(archive_meta))
            await self.store.write_bytes(f"{key}/{MESSAGES_FILE}", dump_messages(tail))
            meta.update(
                message_count=len(tail),
                commit_count=int(meta.get("commit_count") or 0) + 1,
                pending_tokens=sum(estimate_message_tokens(m) for m in tail),
                last_commit_at=now,
                used={"contexts": [], "skills": []},
            )
            if trigger != "manual":
                meta["last_auto_commit_at"] = now
            await self._write_meta(key, meta)
            task_id = await self._submit_phase2(ctx, session.name, archive)
        return {
            "session_id": session.name,
            "status": "accepted",
            "task_id": task_id,
            "archive_uri": archive.uri,
            "archived": True,
            "archive_id": archive_name(number),
            "message_count": len(archived),
            "kept": len(tail),
        }

    async def _submit_phase2(
        self, ctx: RequestContext, session_id: str, archive: VikingURI
    ) -> str | None:
        """Queue phase 2 for an archive; ``None`` when this build has no phase-2 handler
        (the archive then stays pending and can be retried later)."""
        payload = {"session_id": session_id, "archive": archive.name, "archive_uri": archive.uri}
        try:
            return await self.tasks.submit(
                SESSION_COMMIT_TASK,
                ctx,
                payload,
                priority=INTERACTIVE,
                resource_id=archive.uri,
            )
        except InvalidArgumentError:  # "Unknown task type": no phase-2 handler registered
            logger.warning("no %s handler: %s stays pending", SESSION_COMMIT_TASK, archive.uri)
            return None

    async def _wait_into(self, result: dict[str, Any], timeout: float | None) -> None:
        record = await self.tasks.wait(str(result["task_id"]), timeout)
        result["task_status"] = record.status
        result["result"] = record.result
        if record.error:
            result["error"] = record.error

    async def retry_archive(
        self,
        ctx: RequestContext,
        session_id: str,
        archive: int | str,
        *,
        wait: bool = False,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Queue phase 2 again for an archive that failed (or never finished); its
        ``.failed.json`` is removed. A finished archive is 412, one still queued 409."""
        number = parse_archive(archive)
        session, _, _ = await self._require_session(ctx, session_id)
        uri = self._archive_uri(session, number)
        archive_key = self._key(ctx, uri)
        async with self.locks.lock(self._lock_path(ctx, uri)):
            if not await self.store.exists(archive_key):
                raise NotFoundError(f"{session_id}/{archive_name(number)}", "archive")
            status, _ = await self._archive_status(archive_key)
            if status == "done":
                raise FailedPreconditionError(
                    f"Archive {archive_name(number)} of session {session_id} already completed",
                    {"archive_uri": uri.uri, "status": status},
                )
            for state in ("pending", "running"):
                active = await self.tasks.list(
                    ctx, task_type=SESSION_COMMIT_TASK, status=state, resource_id=uri.uri, limit=1
                )
                if active:
                    raise ConflictError(
                        f"Archive {archive_name(number)} is already being processed",
                        {"archive_uri": uri.uri, "task_id": active[0].task_id},
                    )
            task_id = await self._submit_phase2(ctx, session.name, uri)
            if task_id is None:
                raise UnimplementedError("Memory extraction (commit phase 2) is not available")
            if await self.store.exists(f"{archive_key}/{FAILED_FILE}"):
                await self.store.remove(f"{archive_key}/{FAILED_FILE}")
        result: dict[str, Any] = {
            "session_id": session.name,
            "status": "accepted",
            "task_id": task_id,
            "archive_id": archive_name(number),
            "archive_uri": uri.uri,
        }
        if wait:
            await self._wait_into(result, timeout)
        return result

    async def extract(self, ctx: RequestContext, session_id: str) -> dict[str, Any]:
        """Memory extraction over the live messages, without archiving them."""
        _, key, _ = await self._require_session(ctx, session_id)
        extractor = getattr(self, "_extract_memories_now", None)
        if extractor is None:
            raise UnimplementedError("Memory extraction is not available in this build")
        messages = await self._messages_at(f"{key}/{MESSAGES_FILE}")
        if not messages:
            return {
                "session_id": session_id,
                "message_count": 0,
                "status": "skipped",
                "reason": "no_messages",
            }
        report = await extractor(ctx, session_id, messages)
        return {"session_id": session_id, "message_count": len(messages), **dict(report)}

    # -- auto-commit -------------------------------------------------------------------------

    async def _maybe_auto_commit(
        self, ctx: RequestContext, session_id: str, result: dict[str, Any]
    ) -> dict[str, Any]:
        """Commit after a write when the session's policy says so (strictly greater-than)."""
        meta = await self._session_meta(ctx, self._session_uri(ctx, session_id))
        policy = parse_policy(meta.get("auto_commit_policy") if meta else None)
        if meta is None or policy is None:
            return result
        reason = policy.due(int(result["message_count"]), int(result["pending_tokens"]))
        if reason is None or not self._interval_passed(meta, policy.min_commit_interval_seconds):
            return result
        commit = await self._commit(ctx, session_id, policy.keep_recent_count, reason)
        return {**result, "auto_commit": {**commit, "reason": commit.get("reason", reason)}}

    @staticmethod
    def _interval_passed(meta: Mapping[str, Any], seconds: int) -> bool:
        last = iso_epoch(meta.get("last_commit_at"))
        return not seconds or last is None or time.time() - last >= seconds

    async def check_idle_sessions(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """Commit the caller's sessions whose policy's idle timeout has passed since their
        last message; returns the commits made."""
        commits: list[dict[str, Any]] = []
        for entry in await self._session_dirs(ctx):
            session = self._session_uri(ctx, entry.name)
            meta = await self._session_meta(ctx, session)
            policy = parse_policy(meta.get("auto_commit_policy") if meta else None)
            if meta is None or policy is None or not meta.get("message_count"):
                continue
            last = iso_epoch(meta.get("last_message_at"))
            if last is None or time.time() - last <= policy.idle_timeout_seconds:
                continue
            if not self._interval_passed(meta, policy.min_commit_interval_seconds):
                continue
            commit = await self._commit(ctx, session.name, policy.keep_recent_count, "idle")
            if commit["status"] == "accepted":
                commits.append(commit)
        return commits

    async def _scan_idle_sessions(self) -> int:
        """One pass of :meth:`check_idle_sessions` over every user; returns the commits."""
        count = 0
        for account in await self.accounts.list_accounts():
            for user in await self.accounts.list_users(account["account_id"]):
                ctx = RequestContext(user.account_id, user.user_id, user.role)
                try:
                    count += len(await self.check_idle_sessions(ctx))
                except OpenVikingError as exc:
                    logger.warning("idle session scan of %s failed: %s", user.user_id, exc)
        return count

    async def _session_scan_loop(self) -> None:
        while True:
            await asyncio.sleep(self.SESSION_SCAN_SECONDS)
            try:
                await self._scan_idle_sessions()
            except Exception:  # never let the scanner die
                logger.exception("idle session scan failed")

    def _start_session_scanner(self) -> None:
        if self._session_scanner is None:
            self._session_scanner = asyncio.create_task(
                self._session_scan_loop(), name="openviking-session-scanner"
            )

    async def _stop_session_scanner(self) -> None:
        task, self._session_scanner = self._session_scanner, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
