"""The memory service: long-term memories extracted from conversations.

Memories are Markdown files under ``viking://user/{uid}/memories/`` with a hidden fields block
(:mod:`.memory_file`), one folder per category (:mod:`.memory_schema`). This service:

* extracts memory operations from messages, with one structured LLM call that also sees the
  top existing memories of each category (found through the ``find`` callable), or with the
  rule-based extractor without an LLM; de-duplicates them and applies them
  (:class:`~.apply.MemoryWriter`) under the user's memory lock, then re-indexes the changed
  files (:meth:`MemoryService.extract_and_apply`, used by commit phase 2 and by ``extract``);
* ``extract``: that, over a session's live messages, without archiving them;
* indexes an archive's turns as conversation memory (:meth:`MemoryService.index_conversation`,
  :mod:`.conversation`), one passage per turn, so what was said is found without an LLM;
* ``stats``: counts per category, hotness and staleness of the caller's memories
  (:mod:`.stats`);
* lists the caller's memories with their version, sources and ``active_count``, and shows one
  memory with the commits that changed it (:mod:`.listing`);
* hides the fields block: :meth:`MemoryService.for_reader` and :meth:`MemoryService.for_index`
  are the :class:`~openviking_mcp.events.TextRead` and
  :class:`~openviking_mcp.events.TextIndexed` filters.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openviking_mcp import faults
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotFoundError,
    OpenVikingError,
    PermissionDeniedError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.memory import (
    ExtractResult,
    MemoryDetail,
    MemoryDetailRequest,
    MemoryEntry,
    MemoryListRequest,
    MemoryStats,
    MemoryStatsRequest,
)
from openviking_mcp.contract.sessions import SessionRequest
from openviking_mcp.contract.uri import VikingURI, context_type_of
from openviking_mcp.events import Removed, SessionDeleted, TextIndexed, TextRead
from openviking_mcp.indexing.semantic import FileInfo
from openviking_mcp.indexing.service import IndexingService
from openviking_mcp.memory.apply import SUMMARY_TAG, Applied, MemoryWriter
from openviking_mcp.memory.conversation import (
    CONVERSATIONS_DIR,
    Turn,
    conversation_turns,
    is_conversation_uri,
    unchanged,
)
from openviking_mcp.memory.dedup import dedupe_operations
from openviking_mcp.memory.extract_llm import ExistingMemory, extract_with_llm
from openviking_mcp.memory.extract_rules import extract_with_rules
from openviking_mcp.memory.listing import memory_entry, memory_files, memory_history, read_memory
from openviking_mcp.memory.memory_file import strip_memory_fields
from openviking_mcp.memory.memory_schema import MemorySchema, load_schemas
from openviking_mcp.memory.operations import MemoryOperation
from openviking_mcp.memory.outputs import reconcile
from openviking_mcp.memory.stats import UPSTREAM_CATEGORIES, MemoryTally, category_of
from openviking_mcp.parsers import parse_document
from openviking_mcp.sessions.layout import MESSAGES_FILE
from openviking_mcp.sessions.messages import message_text
from openviking_mcp.sessions.service import SessionService
from openviking_mcp.storage.index import IndexFilter
from openviking_mcp.storage.queue import TaskHandle
from openviking_mcp.store import Store, iso_epoch

__all__ = ["FindMemories", "MemoryService"]


def _now() -> datetime:
    return datetime.now(UTC)


def _one_summary(operations: list[MemoryOperation]) -> list[MemoryOperation]:
    """``operations`` with at most one session summary event (the first): a commit
    summarises its conversation once."""
    seen = False
    kept: list[MemoryOperation] = []
    for op in operations:
        if op.memory_type == "events" and SUMMARY_TAG in (op.fields.get("tags") or []):
            if seen:
                continue
            seen = True
        kept.append(op)
    return kept


FindMemories = Callable[[RequestContext, str, str, int], Awaitable[Mapping[str, Any]]]
"""``find(ctx, query, target_uri, limit)``: the search answer (``{memories: [{uri, abstract}]
...}``) for memories under ``target_uri``."""

_EXISTING_PER_TYPE = 5
_MAX_MEMORIES = 20_000


def _is_memory_file(uri: VikingURI) -> bool:
    parts = uri.parts
    return (
        len(parts) >= 4
        and parts[0] == "user"
        and parts[2] == "memories"
        and uri.name.endswith(".md")
        and not uri.name.startswith(".")
    )


class MemoryService:
    """See the module docs."""

    def __init__(
        self,
        store: Store,
        indexing: IndexingService,
        sessions: SessionService,
        find: FindMemories,
    ) -> None:
        self._store = store
        self._indexing = indexing
        self._sessions = sessions
        self._find = find
        self.writer = MemoryWriter(store)
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._schemas: dict[str, MemorySchema] | None = None

    # -- schemas and locks -------------------------------------------------------------------

    def schemas(self) -> dict[str, MemorySchema]:
        """The memory categories (built in, plus the configured custom templates)."""
        if self._schemas is None:
            folder = self._store.config.memory.custom_templates_dir
            self._schemas = load_schemas(Path(folder).expanduser() if folder else None)
        return self._schemas

    def _lock(self, ctx: RequestContext) -> asyncio.Lock:
        """Memory writes of one user are serialised within the process."""
        return self._locks.setdefault((ctx.account_id, ctx.user_id), asyncio.Lock())

    # -- reading filters ---------------------------------------------------------------------

    async def for_reader(self, event: TextRead, text: str) -> str:
        """Public reads of a memory file drop its hidden fields block."""
        return strip_memory_fields(text) if _is_memory_file(event.uri) else text

    async def for_index(self, event: TextIndexed, text: str) -> str:
        """Memory text is embedded without its hidden fields block."""
        return strip_memory_fields(text) if context_type_of(event.uri) == "memory" else text

    # -- extraction --------------------------------------------------------------------------

    async def extract(self, ctx: RequestContext, req: SessionRequest) -> ExtractResult:
        """Memory extraction over the live messages, without archiving them."""
        files = self._sessions.files
        _, key, _ = await files.require_session(ctx, req.session_id)
        messages = await files.messages_at(f"{key}/{MESSAGES_FILE}")
        if not messages:
            return ExtractResult(
                session_id=req.session_id, message_count=0, status="skipped", reason="no_messages"
            )
        applied, extractor = await self.extract_and_apply(ctx, req.session_id, messages)
        return ExtractResult(
            session_id=req.session_id,
            message_count=len(messages),
            operations=applied.changes(),
            counts=applied.type_counts(),
            dedup=applied.dedup_counts(),
            problems=applied.problems,
            extractor=extractor,
        )

    async def extract_and_apply(
        self,
        ctx: RequestContext,
        session_id: str,
        messages: list[dict[str, Any]],
        *,
        task: TaskHandle | None = None,
    ) -> tuple[Applied, str]:
        """Extract memory operations from ``messages``, apply them and re-index the changed
        files; ``(what was applied, the extractor: llm, rules or disabled)``.

        ``task``: the phase-2 task whose stages are reported (``extracting``, ``merging``,
        ``indexing``) and checkpointed: the operations once extracted (a retry applies the
        same ones, without asking the model again) and what was applied (a retry goes straight
        to indexing). Before returning, every output is re-checked against the index
        (:func:`~.outputs.reconcile`), so a retry after a crash re-indexes what the crashed
        attempt wrote but never indexed.
        """
        state = task.state if task is not None else {}
        if "applied" in state:
            applied, extractor = Applied.from_state(state["applied"]), str(state["extractor"])
        else:
            applied, extractor = await self._extract_apply(ctx, session_id, messages, task)
        if self._store.indexing_enabled and applied.outputs():
            if task is not None:
                await task.report("indexing", files=len(applied.changed))
            if applied.changed:
                await self._indexing.refresh_now(ctx, applied.changed, recursive=False)
            faults.point("memory.indexed")
            root = self.writer.user_uri(ctx, "memories")
            await reconcile(self._store, self._indexing, ctx, root, applied.outputs())
        return applied, extractor

    async def index_conversation(
        self,
        ctx: RequestContext,
        session_id: str,
        archive: VikingURI,
        messages: list[dict[str, Any]],
        *,
        task: TaskHandle | None = None,
    ) -> list[str]:
        """Write the archive's turns as conversation memory (:mod:`.conversation`) and index
        them; the turn URIs (``[]`` when ``memory.conversation_index`` is off). Safe to run
        again: unchanged turns are not rewritten, missing index rows are filled in."""
        store = self._store
        if not store.config.memory.conversation_index:
            return []
        turns = conversation_turns(session_id, archive.name, archive.uri, messages, _now())
        uris: list[str] = []
        written: list[tuple[VikingURI, Turn]] = []
        async with self._lock(ctx):
            for turn in turns:
                uri = self.writer.user_uri(ctx, turn.relpath)
                key = store.key(ctx, uri)
                uris.append(uri.uri)
                if not unchanged(await store.read_text(key), turn):
                    await store.content.write_bytes(key, turn.render().encode("utf-8"))
                    written.append((uri, turn))
        if store.indexing_enabled and uris:
            if task is not None:
                await task.report("indexing", turns=len(uris))
            folder = self.writer.user_uri(ctx, f"{CONVERSATIONS_DIR}/{session_id}")
            if written:
                await self._index_turns(ctx, folder, written)
            await reconcile(store, self._indexing, ctx, folder, uris)
        return uris

    async def on_session_deleted(self, event: SessionDeleted) -> None:
        """Remove the conversation memory of a deleted session: its turns are copies of what
        was said, which the session's owner asked to delete."""
        store, ctx = self._store, event.ctx
        folder = self.writer.user_uri(ctx, f"{CONVERSATIONS_DIR}/{event.session_id}")
        key = store.key(ctx, folder)
        async with self._lock(ctx):
            if not await store.content.exists(key):
                return
            await store.content.remove(key, recursive=True)
        await store.events.publish(Removed(ctx, folder))

    async def _index_turns(
        self, ctx: RequestContext, folder: VikingURI, written: list[tuple[VikingURI, Turn]]
    ) -> None:
        """Index turn files with their own text as summary (a turn is short: no LLM call per
        turn), then the tiers of their folder and its ancestors."""
        indexing = self._indexing
        job = indexing.new_job(ctx)
        for uri, turn in written:
            parsed = parse_document(uri.name, turn.body.encode("utf-8"), no_split=True).files
            if parsed:
                job.infos[uri.uri] = FileInfo.from_parsed(parsed[0])
            await indexing.refresh_uri(job, uri, recursive=False)
        await indexing.bubble_all(job, [folder])
        await job.buffer.flush()

    async def _extract_apply(
        self,
        ctx: RequestContext,
        session_id: str,
        messages: list[dict[str, Any]],
        task: TaskHandle | None,
    ) -> tuple[Applied, str]:
        """Extract (or take the checkpointed operations) and apply them under the user's
        memory lock; checkpointed as ``applied`` with ``task``."""
        state = task.state if task is not None else {}
        if "operations" in state:
            operations = [MemoryOperation.model_validate(o) for o in state["operations"]]
            problems, extractor = list(state["problems"]), str(state["extractor"])
            now = datetime.fromisoformat(str(state["now"]))
        else:
            now = datetime.now(UTC)
            if task is not None:
                await task.report("extracting")
            operations, problems, extractor = await self._operations(ctx, session_id, messages, now)
            operations = _one_summary(dedupe_operations(operations))
            if task is not None:
                await task.checkpoint(
                    "extracting",
                    operations=[o.model_dump() for o in operations],
                    problems=problems,
                    extractor=extractor,
                    now=now.isoformat(),
                )
        if task is not None:
            await task.report("merging", operations=len(operations))
        async with self._lock(ctx):
            applied = await self.writer.apply(ctx, session_id, operations, self.schemas(), now)
        applied.problems[:0] = problems
        faults.point("memory.applied")
        if task is not None:
            await task.checkpoint("merging", applied=applied.to_state(), extractor=extractor)
        return applied, extractor

    async def _operations(
        self, ctx: RequestContext, session_id: str, messages: list[dict[str, Any]], now: datetime
    ) -> tuple[list[MemoryOperation], list[str], str]:
        """``(operations, problems, extractor)`` proposed for ``messages``."""
        store = self._store
        if not store.config.memory.extraction_enabled:
            return [], [], "disabled"
        if store.llm is not None:
            existing = await self._existing_memories(ctx, messages)
            result = await extract_with_llm(
                store.llm.complete, messages, existing, self.schemas(), now=now
            )
            return list(result.operations), list(result.problems), "llm"
        return extract_with_rules(messages, session_id=session_id, now=now), [], "rules"

    async def _existing_memories(
        self, ctx: RequestContext, messages: list[dict[str, Any]]
    ) -> dict[str, list[ExistingMemory]]:
        """The top existing memories per category for the conversation (for the LLM)."""
        query = " ".join(message_text(m) for m in messages if m.get("role") == "user")[:2000]
        out: dict[str, list[ExistingMemory]] = {}
        if not query.strip() or not self._store.indexing_enabled:
            return out
        memories = f"viking://user/{ctx.user_id}/memories"
        try:
            found = await self._find(ctx, query, memories, 40)
        except OpenVikingError:
            return out
        for hit in found.get("memories", []):
            uri = str(hit["uri"])
            if is_conversation_uri(uri):  # transcript turns are not memories to update
                continue
            parts = uri.split("/memories/", 1)
            category = parts[1].split("/", 1)[0].removesuffix(".md") if len(parts) == 2 else ""
            bucket = out.setdefault(category, [])
            if len(bucket) < _EXISTING_PER_TYPE and uri.endswith(".md"):
                bucket.append(ExistingMemory(uri=uri, abstract=str(hit.get("abstract") or "")))
        return out

    # -- statistics --------------------------------------------------------------------------

    async def stats(self, ctx: RequestContext, req: MemoryStatsRequest) -> MemoryStats:
        """``{total_memories, by_category, hotness_distribution: {cold, warm, hot},
        staleness: {not_accessed_7d, not_accessed_30d, oldest_memory_age_days}}`` of the
        caller's memories (one category with ``category``; an unknown one is 400). The
        categories are the memory schemas' and the original server's; conversation turns
        (``memories/conversations/``) are an index of transcripts and are not counted."""
        known = sorted({*self.schemas(), *UPSTREAM_CATEGORIES})
        category = req.category
        if category is not None and category not in known:
            raise InvalidArgumentError(
                f"Unknown memory category {category!r}; one of: {', '.join(known)}",
                {"field": "category", "value": category, "allowed": known},
            )
        base = self.writer.user_uri(ctx, "memories")
        found = await memory_files(self._store, ctx, base, _MAX_MEMORIES)
        active = await self._active_counts(ctx, base.uri)
        tally = MemoryTally(time.time(), known if category is None else (category,))
        for memory in found:  # a broken fields block is counted by its path
            fields = memory.fields
            kind = category_of(memory.rel, fields)
            if category is not None and kind != category:
                continue
            updated = iso_epoch(fields.get("updated_at")) or memory.mtime
            created = iso_epoch(fields.get("created_at")) or updated
            tally.add(kind, updated, created, active.get(memory.uri.uri, 0))
        return tally.result()

    # -- reading back ------------------------------------------------------------------------

    async def list_memories(self, ctx: RequestContext, req: MemoryListRequest) -> list[MemoryEntry]:
        """The caller's memories (:mod:`.listing`), by category then most recently changed
        first; ``category`` keeps one category, ``include_conversations`` adds the
        conversation turns (category ``conversations``)."""
        base = self._store.user_area(ctx, "memories")
        found = await memory_files(
            self._store, ctx, base, _MAX_MEMORIES, conversations=req.include_conversations
        )
        active = await self._active_counts(ctx, base.uri)
        found.sort(key=lambda m: -m.mtime)
        entries = [memory_entry(m, active.get(m.uri.uri, 0)) for m in found]
        if req.category is not None:
            entries = [e for e in entries if e.category == req.category]
        return sorted(entries, key=lambda e: e.category)

    async def memory_detail(self, ctx: RequestContext, req: MemoryDetailRequest) -> MemoryDetail:
        """One of the caller's memories with its text and the commits that changed it
        (another user's memory is ``PERMISSION_DENIED``, a missing one ``NOT_FOUND``)."""
        store = self._store
        base = store.user_area(ctx, "memories")
        target = store.resolve(ctx, req.uri)
        if not base.is_ancestor_of(target):
            raise PermissionDeniedError(f"{req.uri} is not one of your memories")
        memory = await read_memory(store, ctx, base, target)
        if memory is None:
            raise NotFoundError(target.uri, "memory")
        active = await self._active_counts(ctx, target.uri)
        sessions = self._sessions.files
        sources = [str(s) for s in memory.fields.get("source_sessions") or [] if s]
        history = await memory_history(store, sessions, ctx, target.uri, sources)
        return MemoryDetail(
            memory=memory_entry(memory, active.get(target.uri, 0)),
            content=memory.body,
            history=history,
        )

    async def _active_counts(self, ctx: RequestContext, prefix: str) -> dict[str, int]:
        """``active_count`` of the indexed memory files under ``prefix`` (``{}`` without an
        index)."""
        store = self._store
        if not store.indexing_enabled:
            return {}
        flt = IndexFilter(account_id=ctx.account_id, uri_prefixes=(prefix,))
        counts: dict[str, int] = {}
        cursor: str | None = None
        while True:
            rows, cursor = await store.index.scroll(flt, 500, cursor)
            for row in rows:
                counts[row.uri] = max(counts.get(row.uri, 0), int(row.active_count))
            if cursor is None or len(counts) >= _MAX_MEMORIES:
                return counts
