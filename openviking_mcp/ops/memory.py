"""Commit phase 2: from an archived conversation to long-term memories.

A ``session_commit`` task runs these stages for one archive (each reported as the task's
stage, so a failure names where it happened):

1. ``summarizing``: the archive's L0/L1 (LLM when configured, else extractive);
2. ``extracting``: memory operations, from one structured LLM call that also sees the top
   existing memories of each category, or from the rule-based extractor without an LLM;
3. ``merging``: dedup and merge against existing memories: the same key (same file) is an
   update, a near-duplicate of an existing memory of the same category is merged into it,
   an add-only event that repeats one is dropped; field-level merges report what did not
   apply instead of applying it blindly;
4. ``indexing``: the changed memory files are re-embedded and their folders' tiers refreshed;
5. ``active_count``: contexts recorded with ``used`` get their ``active_count`` raised;
6. ``memory_diff.json`` with adds, updates and deletes, then ``.done``.

A transient failure is retried by the queue; the last failure writes ``.failed.json`` with the
stage and the error. A failed archive never blocks later commits of the session, and can be
retried. Memory writes of one user are serialised within the process.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openviking_mcp.contract.errors import OpenVikingError, PermissionDeniedError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.indexing.summarize import summarize_text, truncate_text
from openviking_mcp.memory.dedup import dedupe_operations, is_near_duplicate, text_similarity
from openviking_mcp.memory.extract_llm import ExistingMemory, extract_with_llm
from openviking_mcp.memory.extract_rules import extract_with_rules
from openviking_mcp.memory.memory_file import (
    bump_version,
    new_fields,
    parse_memory,
    render_memory,
    strip_memory_fields,
)
from openviking_mcp.memory.memory_schema import MemorySchema, load_schemas, memory_relpath
from openviking_mcp.memory.merge import merge_memory
from openviking_mcp.memory.operations import MemoryOperation
from openviking_mcp.ops.base import ServiceCore
from openviking_mcp.storage.queue import TaskHandle, is_transient
from openviking_mcp.storage.sidecar import ABSTRACT_FILE, OVERVIEW_FILE, render_sidecar

__all__ = ["MemoryOps"]

_EXISTING_PER_TYPE = 5
_SCAN_LIMIT = 500


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _message_text(message: dict[str, Any]) -> str:
    if isinstance(message.get("content"), str):
        return str(message["content"])
    texts = [
        str(p.get("text", ""))
        for p in message.get("parts", [])
        if isinstance(p, dict) and p.get("type") == "text"
    ]
    return "\n".join(t for t in texts if t)


class MemoryOps(ServiceCore):
    _memory_locks: dict[tuple[str, str], asyncio.Lock]
    _schemas_cache: dict[str, MemorySchema] | None

    # -- schemas and locations ---------------------------------------------------------------

    def _memory_schemas(self) -> dict[str, MemorySchema]:
        cached = getattr(self, "_schemas_cache", None)
        if cached is None:
            folder = self.config.memory.custom_templates_dir
            cached = load_schemas(Path(folder).expanduser() if folder else None)
            self._schemas_cache = cached
        return cached

    def _memory_lock(self, ctx: RequestContext) -> asyncio.Lock:
        if not hasattr(self, "_memory_locks"):
            self._memory_locks = {}
        return self._memory_locks.setdefault((ctx.account_id, ctx.user_id), asyncio.Lock())

    def _user_uri(self, ctx: RequestContext, rel: str) -> VikingURI:
        return self._resolve(ctx, f"viking://user/{ctx.user_id}/{rel}")

    # -- the task ----------------------------------------------------------------------------

    async def _task_session_commit(self, task: TaskHandle) -> dict[str, Any]:
        ctx = task.context
        archive = self._resolve(ctx, str(task.payload["archive_uri"]))
        key = self._key(ctx, archive)
        try:
            result = await self._commit_phase2(task, ctx, archive, key)
        except Exception as exc:
            final = not is_transient(exc) or task.record.attempts >= task.record.max_attempts
            if final:
                failure = {
                    "stage": task.record.stage or "start",
                    "error": exc.message if isinstance(exc, OpenVikingError) else repr(exc),
                    "failed_at": _iso(_now()),
                    "attempts": task.record.attempts,
                }
                await self.store.write_bytes(
                    f"{key}/.failed.json", json.dumps(failure, indent=2).encode("utf-8")
                )
            raise
        await self.store.write_bytes(f"{key}/.done", _iso(_now()).encode("utf-8"))
        return result

    async def _commit_phase2(
        self, task: TaskHandle, ctx: RequestContext, archive: VikingURI, key: str
    ) -> dict[str, Any]:
        raw = await self._read_text(f"{key}/messages.jsonl") or ""
        messages = [json.loads(line) for line in raw.splitlines() if line.strip()]
        session_id = str(task.payload.get("session_id", ""))

        await task.report("summarizing")
        await self._summarize_archive(archive, key, messages)

        applied = await self._extract_and_apply(ctx, session_id, messages, task=task)

        await task.report("active_count")
        used = await self._used_contexts(key)
        active = await self.index.increment_active(ctx.account_id, used) if used else 0

        diff = {
            "archive_uri": archive.uri,
            "extracted_at": _iso(_now()),
            "operations": applied["operations"],
            "summary": {
                "total_adds": len(applied["operations"]["adds"]),
                "total_updates": len(applied["operations"]["updates"]),
                "total_deletes": len(applied["operations"]["deletes"]),
            },
            "dedup": applied["dedup"],
            "problems": applied["problems"],
            "extractor": applied["extractor"],
        }
        await self.store.write_bytes(
            f"{key}/memory_diff.json", json.dumps(diff, indent=2, ensure_ascii=False).encode()
        )
        return {
            "session_id": session_id,
            "archive_uri": archive.uri,
            "memory_diff_uri": archive.join("memory_diff.json").uri,
            "memories_extracted": applied["counts"],
            "dedup": applied["dedup"],
            "problems": applied["problems"],
            "active_count_updated": active,
            "extractor": applied["extractor"],
        }

    async def _summarize_archive(
        self, archive: VikingURI, key: str, messages: list[dict[str, Any]]
    ) -> None:
        lines = [f"{m.get('role', '?')}: {_message_text(m)}" for m in messages]
        transcript = "\n".join(line for line in lines if line.strip())
        users = [_message_text(m) for m in messages if m.get("role") == "user"]
        overview = ""
        if self.llm is not None and transcript:
            prompt = (
                "Summarise this conversation for later recall. Start with '# Session Summary', "
                "then one line with the gist, then short sections: Topics, Decisions, Open "
                "questions. Be factual.\n\n" + truncate_text(transcript, 12_000)
            )
            try:
                overview = (await self.llm.complete(prompt, max_tokens=600)).strip()
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
            await self.store.write_bytes(f"{key}/{name}", text.encode("utf-8"))

    async def _used_contexts(self, archive_key: str) -> list[str]:
        """URIs recorded with ``used`` for this archive (phase 1 moved them into its meta)."""
        raw = await self._read_text(f"{archive_key}/.meta.json")
        try:
            used = json.loads(raw or "{}").get("used", {})
        except (ValueError, AttributeError):
            return []
        if not isinstance(used, dict):
            return []
        uris = [str(u) for u in used.get("contexts", []) or []]
        uris += [str(s.get("uri")) for s in used.get("skills", []) or [] if isinstance(s, dict)]
        return [u for u in uris if u.startswith("viking://")]

    # -- extraction and merging ------------------------------------------------------------

    async def _extract_memories_now(
        self, ctx: RequestContext, session_id: str, messages: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Extraction without archiving (``extract``): apply and report, like phase 2."""
        return await self._extract_and_apply(ctx, session_id, messages)

    async def _extract_and_apply(
        self,
        ctx: RequestContext,
        session_id: str,
        messages: list[dict[str, Any]],
        *,
        task: TaskHandle | None = None,
    ) -> dict[str, Any]:
        schemas = self._memory_schemas()
        now = _now()
        if task is not None:
            await task.report("extracting")
        problems: list[str] = []
        if not self.config.memory.extraction_enabled:
            operations: list[MemoryOperation] = []
            extractor = "disabled"
        elif self.llm is not None:
            existing = await self._existing_memories(ctx, messages)
            result = await extract_with_llm(self.llm.complete, messages, existing, schemas, now=now)
            operations, problems = list(result.operations), list(result.problems)
            extractor = "llm"
        else:
            operations = extract_with_rules(messages, session_id=session_id, now=now)
            extractor = "rules"
        operations = dedupe_operations(operations)
        if task is not None:
            await task.report("merging", operations=len(operations))
        async with self._memory_lock(ctx):
            applied = await self._apply_operations(ctx, session_id, operations, schemas, now)
        applied["problems"] = problems + applied["problems"]
        applied["extractor"] = extractor
        changed = applied.pop("changed")
        if changed and self._index_error is None:
            if task is not None:
                await task.report("indexing", files=len(changed))
            await self._refresh_now(ctx, changed, recursive=False)
        return applied

    async def _existing_memories(
        self, ctx: RequestContext, messages: list[dict[str, Any]]
    ) -> dict[str, list[ExistingMemory]]:
        """The top existing memories per category for the conversation (for the LLM)."""
        query = " ".join(_message_text(m) for m in messages if m.get("role") == "user")[:2000]
        out: dict[str, list[ExistingMemory]] = {}
        if not query.strip() or self._index_error is not None:
            return out
        memories = f"viking://user/{ctx.user_id}/memories"
        try:
            found = await self.find(  # type: ignore[attr-defined]
                ctx, query, target_uri=memories, context_type="memory", limit=40
            )
        except OpenVikingError:
            return out
        for hit in found.get("memories", []):
            uri = str(hit["uri"])
            parts = uri.split("/memories/", 1)
            category = parts[1].split("/", 1)[0].removesuffix(".md") if len(parts) == 2 else ""
            bucket = out.setdefault(category, [])
            if len(bucket) < _EXISTING_PER_TYPE and uri.endswith(".md"):
                bucket.append(ExistingMemory(uri=uri, abstract=str(hit.get("abstract") or "")))
        return out

    async def _category_files(
        self, ctx: RequestContext, schema: MemorySchema
    ) -> list[tuple[VikingURI, str]]:
        """``(uri, body)`` of the memories of one category (newest first, capped)."""
        base = self._user_uri(ctx, schema.directory)
        key = self._key(ctx, base)
        try:
            entries = await self.store.walk(key, 8, _SCAN_LIMIT * 4)
        except (FileNotFoundError, NotADirectoryError):
            return []
        files = [e for e in entries if not e.is_dir and e.name.endswith(".md")]
        files = [e for e in files if not e.name.startswith(".")]
        files.sort(key=lambda e: -e.mtime)
        out = []
        for entry in files[:_SCAN_LIMIT]:
            text = await self._read_text(entry.key)
            if text is not None:
                out.append((base.join(entry.key[len(key) + 1 :]), parse_memory(text).body))
        return out

    async def _apply_operations(
        self,
        ctx: RequestContext,
        session_id: str,
        operations: list[MemoryOperation],
        schemas: dict[str, MemorySchema],
        now: datetime,
    ) -> dict[str, Any]:
        adds: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        deletes: list[dict[str, Any]] = []
        problems: list[str] = []
        dedup: Counter[str] = Counter()
        counts: Counter[str] = Counter()
        changed: list[str] = []
        for op in operations:
            schema = schemas.get(op.memory_type)
            if schema is None:
                problems.append(f"unknown memory type {op.memory_type!r}")
                continue
            try:
                target, existing = await self._target_of(ctx, op, schema, now, dedup)
            except OpenVikingError as exc:
                problems.append(f"{op.memory_type}: {exc.message}")
                continue
            if target is None:  # an add-only duplicate
                continue
            key = self._key(ctx, target)
            if op.op == "delete":
                if existing is not None:
                    await self.store.remove(key)
                    deletes.append(
                        {
                            "uri": target.uri,
                            "memory_type": op.memory_type,
                            "deleted_content": existing,
                        }
                    )
                    changed.append(target.uri)
                continue
            before_text = await self._read_text(key)
            fields = dict(op.fields)
            if before_text is None:
                body = str(fields.pop("content", "")).strip()
                tags = fields.pop("tags", [])
                meta = {
                    **new_fields(
                        op.memory_type,
                        now,
                        source_session=session_id,
                        tags=tags if isinstance(tags, list) else [],
                    ),
                    **fields,
                }
                await self.store.write_bytes(key, render_memory(body, meta).encode("utf-8"))
                adds.append({"uri": target.uri, "memory_type": op.memory_type, "after": body})
            else:
                doc = parse_memory(before_text)
                for name in schema.identity_fields:  # the key of the memory being updated
                    fields.pop(name, None)
                merged = merge_memory(schema, doc.fields, doc.body, fields)
                problems += [f"{target.uri}: {p}" for p in merged.problems]
                if merged.body == doc.body and merged.fields == doc.fields:
                    dedup["unchanged"] += 1
                    continue
                meta = dict(merged.fields)
                sources = [str(s) for s in meta.get("source_sessions", []) or []]
                if session_id and session_id not in sources:
                    sources.append(session_id)
                meta["source_sessions"] = sources
                meta = bump_version(meta, now)
                await self.store.write_bytes(key, render_memory(merged.body, meta).encode("utf-8"))
                updates.append(
                    {
                        "uri": target.uri,
                        "memory_type": op.memory_type,
                        "before": doc.body,
                        "after": merged.body,
                    }
                )
            counts[op.memory_type] += 1
            changed.append(target.uri)
        counts["total"] = sum(v for k, v in counts.items() if k != "total")
        return {
            "operations": {"adds": adds, "updates": updates, "deletes": deletes},
            "counts": dict(counts),
            "dedup": {
                "same_key": dedup["same_key"],
                "near_duplicate": dedup["near_duplicate"],
                "skipped_duplicate": dedup["skipped_duplicate"],
                "unchanged": dedup["unchanged"],
            },
            "problems": problems,
            "changed": changed,
        }

    async def _target_of(
        self,
        ctx: RequestContext,
        op: MemoryOperation,
        schema: MemorySchema,
        now: datetime,
        dedup: Counter[str],
    ) -> tuple[VikingURI | None, str | None]:
        """Where an operation lands and the existing body there (``None`` if new).

        ``(None, None)`` means: drop it (an add-only memory that repeats an existing one).
        """
        if op.uri:
            target = self._resolve(ctx, op.uri)
            memories = self._user_uri(ctx, "memories")
            if not memories.is_ancestor_of(target):
                raise PermissionDeniedError(f"{op.uri} is not one of your memories")
            text = await self._read_text(self._key(ctx, target))
            return target, parse_memory(text).body if text is not None else None
        target = self._user_uri(ctx, memory_relpath(schema, op.fields, now))
        text = await self._read_text(self._key(ctx, target))
        content = str(op.fields.get("content", ""))
        if text is not None:
            if schema.operation_mode == "add_only":
                if is_near_duplicate(parse_memory(text).body, content):
                    dedup["skipped_duplicate"] += 1
                    return None, None
            else:
                dedup["same_key"] += 1
            return target, parse_memory(text).body
        for uri, body in await self._category_files(ctx, schema):
            if schema.operation_mode == "add_only":
                # events are distinct unless the same thing is recorded for the same day
                if uri.parent == target.parent and text_similarity(body, content) >= 1.0:
                    dedup["skipped_duplicate"] += 1
                    return None, None
            elif is_near_duplicate(body, content):
                dedup["near_duplicate"] += 1
                return uri, body
        return target, None

    # -- reading ---------------------------------------------------------------------------

    def _is_memory_file(self, uri: VikingURI) -> bool:
        parts = uri.parts
        return (
            len(parts) >= 4
            and parts[0] == "user"
            and parts[2] == "memories"
            and uri.name.endswith(".md")
            and not uri.name.startswith(".")
        )

    async def _after_read(self, ctx: RequestContext, uri: VikingURI, text: str) -> str:
        """Public reads of a memory file drop its hidden fields block."""
        if self._is_memory_file(uri):
            text = strip_memory_fields(text)
        return await super()._after_read(ctx, uri, text)
