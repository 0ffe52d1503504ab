"""Commit phase 2: from an archived conversation to long-term memories.

A ``session_commit`` task runs these stages for one archive (each reported as the task's
stage, so a failure names where it happened):

1. ``summarizing``: the archive's L0/L1 (LLM when configured, else extractive);
2. ``extracting``: memory operations (:meth:`MemoryService.extract_and_apply`);
3. ``merging``: dedup and merge against existing memories;
4. ``indexing``: the changed memory files are re-embedded and their folders' tiers refreshed,
   then every output is checked against the index (a file without rows is re-indexed); the
   archive's turns are written and indexed as conversation memory (:mod:`.conversation`);
5. ``active_count``: contexts recorded with ``used`` get their ``active_count`` raised;
6. ``memory_diff.json`` with adds, updates and deletes, then ``.done``.

The task checkpoints the extracted operations, what was applied and the ``active_count``
update, so a task that runs again after a crash (see ``docs/durability.md``) applies the same
operations, re-checks every memory it touched and counts ``used`` contexts once.

A transient failure is retried by the queue; the last failure writes ``.failed.json`` with the
stage and the error. A failed archive never blocks later commits of the session, and can be
retried.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from openviking_mcp import faults
from openviking_mcp.contract.errors import OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.memory import Phase2Result
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.memory.service import MemoryService
from openviking_mcp.models.llm import metered_usage
from openviking_mcp.parsers.text import summarize_text, truncate_text
from openviking_mcp.sessions.layout import (
    ARCHIVE_META,
    DIFF_FILE,
    DONE_FILE,
    FAILED_FILE,
    MESSAGES_FILE,
    parse_messages,
)
from openviking_mcp.sessions.messages import message_text
from openviking_mcp.storage.queue import TaskHandle, is_transient
from openviking_mcp.storage.sidecar import ABSTRACT_FILE, OVERVIEW_FILE, render_sidecar
from openviking_mcp.store import Store

__all__ = ["ArchiveProcessor"]


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class ArchiveProcessor:
    """Runs phase 2 for one archive (:meth:`run` is the ``session_commit`` task handler)."""

    def __init__(self, store: Store, memory: MemoryService) -> None:
        self._store = store
        self._memory = memory

    async def run(self, task: TaskHandle) -> dict[str, Any]:
        """The task handler: phase 2, then ``.done``; the last failure writes ``.failed.json``."""
        store = self._store
        ctx = task.context
        archive = store.resolve(ctx, str(task.payload["archive_uri"]))
        key = store.key(ctx, archive)
        try:
            result = await self._process(task, ctx, archive, key)
        except Exception as exc:
            final = not is_transient(exc) or task.record.attempts >= task.record.max_attempts
            if final:
                failure = {
                    "stage": task.record.stage or "start",
                    "error": exc.message if isinstance(exc, OpenVikingError) else repr(exc),
                    "failed_at": _now_iso(),
                    "attempts": task.record.attempts,
                }
                await store.content.write_bytes(
                    f"{key}/{FAILED_FILE}", json.dumps(failure, indent=2).encode("utf-8")
                )
            raise
        await store.content.write_bytes(f"{key}/{DONE_FILE}", _now_iso().encode("utf-8"))
        faults.point("phase2.done_written")
        return result.wire()

    async def _process(
        self, task: TaskHandle, ctx: RequestContext, archive: VikingURI, key: str
    ) -> Phase2Result:
        store = self._store
        messages = parse_messages(await store.read_text(f"{key}/{MESSAGES_FILE}"))
        session_id = str(task.payload.get("session_id", ""))

        with metered_usage() as llm_usage:  # the tokens of the summary and the extraction
            await task.report("summarizing")
            await self._summarize(archive, key, messages)
            faults.point("phase2.summarized")

            applied, extractor = await self._memory.extract_and_apply(
                ctx, session_id, messages, task=task
            )
            turns = await self._memory.index_conversation(
                ctx, session_id, archive, messages, task=task
            )

        active = task.state.get("active_count_updated")
        if active is None:  # counted once, even when the task runs again
            await task.report("active_count")
            used = await self._used_contexts(key)
            active = await store.index.increment_active(ctx.account_id, used) if used else 0
            await task.checkpoint("active_count", active_count_updated=active)

        dedup = applied.dedup_counts()
        diff = {
            "archive_uri": archive.uri,
            "extracted_at": _now_iso(),
            "operations": applied.changes().wire(),
            "summary": {
                "total_adds": len(applied.adds),
                "total_updates": len(applied.updates),
                "total_deletes": len(applied.deletes),
            },
            "dedup": dedup.wire(),
            "problems": applied.problems,
            "extractor": extractor,
            "conversation": {"turns": len(turns), "uris": turns[:1] + turns[-1:]},
            "token_usage": {"llm": llm_usage},
        }
        await store.content.write_bytes(
            f"{key}/{DIFF_FILE}", json.dumps(diff, indent=2, ensure_ascii=False).encode()
        )
        return Phase2Result(
            session_id=session_id,
            archive_uri=archive.uri,
            memory_diff_uri=archive.join(DIFF_FILE).uri,
            memories_extracted=applied.type_counts(),
            dedup=dedup,
            problems=applied.problems,
            active_count_updated=active,
            extractor=extractor,
        )

    async def _summarize(
        self, archive: VikingURI, key: str, messages: list[dict[str, Any]]
    ) -> None:
        """Write the archive's ``.overview.md`` (LLM summary, else extractive) and
        ``.abstract.md``."""
        lines = [f"{m.get('role', '?')}: {message_text(m)}" for m in messages]
        transcript = "\n".join(line for line in lines if line.strip())
        users = [message_text(m) for m in messages if m.get("role") == "user"]
        overview = ""
        llm = self._store.llm
        if llm is not None and transcript:
            prompt = (
                "Summarise this conversation for later recall. Start with '# Session Summary', "
                "then one line with the gist, then short sections: Topics, Decisions, Open "
                "questions. Be factual.\n\n" + truncate_text(transcript, 12_000)
            )
            try:
                overview = (await llm.complete(prompt, max_tokens=600)).strip()
            except OpenVikingError:
                overview = ""
        if not overview:
            first = users[0] if users else "(no user messages)"
            overview = (
                "# Session Summary\n\n"
                f"{len(messages)} message(s), {len(users)} from the user. First request: "
                f"{truncate_text(first, 300)}\n\n## Conversation\n\n"
                + truncate_text(transcript, 3000)
            )
        abstract = summarize_text("session", overview.replace("# Session Summary", ""), 256)
        for name, body in ((ABSTRACT_FILE, abstract), (OVERVIEW_FILE, overview)):
            text = render_sidecar(archive.uri, body, component="session", trigger="commit")
            await self._store.content.write_bytes(f"{key}/{name}", text.encode("utf-8"))

    async def _used_contexts(self, archive_key: str) -> list[str]:
        """URIs recorded with ``used`` for this archive (phase 1 moved them into its meta)."""
        meta = await self._store.read_json(f"{archive_key}/{ARCHIVE_META}") or {}
        used = meta.get("used", {})
        if not isinstance(used, dict):
            return []
        uris = [  # usage records (older sessions stored the bare URIs)
            str(u.get("uri") if isinstance(u, dict) else u) for u in used.get("contexts", []) or []
        ]
        uris += [str(s.get("uri")) for s in used.get("skills", []) or [] if isinstance(s, dict)]
        return [u for u in uris if u.startswith("viking://")]
