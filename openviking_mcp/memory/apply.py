"""Applying extracted memory operations to a user's memory files.

:class:`MemoryWriter` decides where each operation lands and writes it:

* an operation naming a ``uri`` (one of the caller's memories) acts on that file;
* otherwise the category's schema gives the file (its identity fields make the path); the same
  path is an update (``same_key``); an add-only memory that repeats the existing one is dropped
  (``skipped_duplicate``);
* a new path is compared with the category's files: a near-duplicate of an existing memory is
  merged into it (``near_duplicate``); an add-only event repeats one recorded for the same day
  when the two are near-duplicates (session summaries: apart from numbers and session ids),
  so committing the same conversation again adds no events (``skipped_duplicate``).

Updates merge field by field (:func:`~openviking_mcp.memory.merge.merge_memory`), keep the
sessions the memory came from and bump its version; what did not apply is reported as a
problem. Callers hold the user's memory lock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from openviking_mcp import faults
from openviking_mcp.contract.errors import OpenVikingError, PermissionDeniedError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.memory import DedupCounts, MemoryChanges
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.memory.dedup import is_near_duplicate, same_event
from openviking_mcp.memory.memory_file import bump_version, new_fields, parse_memory, render_memory
from openviking_mcp.memory.memory_schema import MemorySchema, memory_relpath
from openviking_mcp.memory.merge import merge_memory
from openviking_mcp.memory.operations import MemoryOperation
from openviking_mcp.store import Store

__all__ = ["SUMMARY_TAG", "Applied", "MemoryWriter"]

SUMMARY_TAG = "session-summary"
"""The tag of the one summary event a commit's rule-based extraction writes."""

_SCAN_LIMIT = 500


@dataclass
class Applied:
    """What applying a batch of operations did (``changed``: the memory URIs written)."""

    adds: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    dedup: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)
    changed: list[str] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)
    """Every memory an operation landed on, changed or not (what a retry re-checks)."""

    def outputs(self) -> list[str]:
        """The memory URIs this batch wrote or may have written, each once."""
        return list(dict.fromkeys([*self.changed, *self.touched]))

    def to_state(self) -> dict[str, Any]:
        """A JSON form for a task checkpoint (:meth:`from_state` reads it back)."""
        return {
            "adds": self.adds,
            "updates": self.updates,
            "deletes": self.deletes,
            "problems": self.problems,
            "dedup": dict(self.dedup),
            "counts": dict(self.counts),
            "changed": self.changed,
            "touched": self.touched,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Applied:
        return cls(
            adds=list(state.get("adds", [])),
            updates=list(state.get("updates", [])),
            deletes=list(state.get("deletes", [])),
            problems=list(state.get("problems", [])),
            dedup=Counter(state.get("dedup", {})),
            counts=Counter(state.get("counts", {})),
            changed=list(state.get("changed", [])),
            touched=list(state.get("touched", [])),
        )

    def changes(self) -> MemoryChanges:
        return MemoryChanges(adds=self.adds, updates=self.updates, deletes=self.deletes)

    def dedup_counts(self) -> DedupCounts:
        d = self.dedup
        return DedupCounts(
            same_key=d["same_key"],
            near_duplicate=d["near_duplicate"],
            skipped_duplicate=d["skipped_duplicate"],
            unchanged=d["unchanged"],
        )

    def type_counts(self) -> dict[str, int]:
        """Changes per memory type, with ``total``."""
        counts = {k: v for k, v in self.counts.items() if k != "total"}
        return {**counts, "total": sum(counts.values())}


class MemoryWriter:
    """See the module docs."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def user_uri(self, ctx: RequestContext, rel: str) -> VikingURI:
        return self._store.resolve(ctx, f"viking://user/{ctx.user_id}/{rel}")

    async def apply(
        self,
        ctx: RequestContext,
        session_id: str,
        operations: list[MemoryOperation],
        schemas: dict[str, MemorySchema],
        now: datetime,
    ) -> Applied:
        """Apply ``operations`` (extracted from ``session_id``) to the caller's memories."""
        applied = Applied()
        for op in operations:
            schema = schemas.get(op.memory_type)
            if schema is None:
                applied.problems.append(f"unknown memory type {op.memory_type!r}")
                continue
            try:
                target, existing = await self._target_of(ctx, op, schema, now, applied)
            except OpenVikingError as exc:
                applied.problems.append(f"{op.memory_type}: {exc.message}")
                continue
            if target is None:  # an add-only duplicate
                continue
            applied.touched.append(target.uri)
            if op.op == "delete":
                await self._delete(ctx, op, target, existing, applied)
                continue
            if await self._write(ctx, session_id, op, schema, target, now, applied):
                applied.counts[op.memory_type] += 1
                applied.changed.append(target.uri)
        return applied

    async def _delete(
        self,
        ctx: RequestContext,
        op: MemoryOperation,
        target: VikingURI,
        existing: str | None,
        applied: Applied,
    ) -> None:
        if existing is None:
            return
        await self._store.content.remove(self._store.key(ctx, target))
        applied.deletes.append(
            {"uri": target.uri, "memory_type": op.memory_type, "deleted_content": existing}
        )
        applied.changed.append(target.uri)

    async def _write(
        self,
        ctx: RequestContext,
        session_id: str,
        op: MemoryOperation,
        schema: MemorySchema,
        target: VikingURI,
        now: datetime,
        applied: Applied,
    ) -> bool:
        """Create or update the memory at ``target``; ``False`` if nothing changed."""
        store = self._store
        key = store.key(ctx, target)
        before_text = await store.read_text(key)
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
            await store.content.write_bytes(key, render_memory(body, meta).encode("utf-8"))
            faults.point("memory.file_written")
            applied.adds.append({"uri": target.uri, "memory_type": op.memory_type, "after": body})
            return True
        doc = parse_memory(before_text)
        for name in schema.identity_fields:  # the key of the memory being updated
            fields.pop(name, None)
        merged = merge_memory(schema, doc.fields, doc.body, fields)
        applied.problems += [f"{target.uri}: {p}" for p in merged.problems]
        if merged.body == doc.body and merged.fields == doc.fields:
            applied.dedup["unchanged"] += 1
            return False
        meta = dict(merged.fields)
        sources = [str(s) for s in meta.get("source_sessions", []) or []]
        if session_id and session_id not in sources:
            sources.append(session_id)
        meta["source_sessions"] = sources
        meta = bump_version(meta, now)
        await store.content.write_bytes(key, render_memory(merged.body, meta).encode("utf-8"))
        applied.updates.append(
            {
                "uri": target.uri,
                "memory_type": op.memory_type,
                "before": doc.body,
                "after": merged.body,
            }
        )
        return True

    async def _target_of(
        self,
        ctx: RequestContext,
        op: MemoryOperation,
        schema: MemorySchema,
        now: datetime,
        applied: Applied,
    ) -> tuple[VikingURI | None, str | None]:
        """Where an operation lands and the existing body there (``None`` if new).

        ``(None, None)`` means: drop it (an add-only memory that repeats an existing one; the
        one it repeats still counts as touched).
        """
        store, dedup = self._store, applied.dedup
        if op.uri:
            target = store.resolve(ctx, op.uri)
            if not self.user_uri(ctx, "memories").is_ancestor_of(target):
                raise PermissionDeniedError(f"{op.uri} is not one of your memories")
            text = await store.read_text(store.key(ctx, target))
            return target, parse_memory(text).body if text is not None else None
        target = self.user_uri(ctx, memory_relpath(schema, op.fields, now))
        text = await store.read_text(store.key(ctx, target))
        content = str(op.fields.get("content", ""))
        if text is not None:
            if schema.operation_mode == "add_only":
                if is_near_duplicate(parse_memory(text).body, content):
                    dedup["skipped_duplicate"] += 1
                    applied.touched.append(target.uri)
                    return None, None
            else:
                dedup["same_key"] += 1
            return target, parse_memory(text).body
        summary = SUMMARY_TAG in (op.fields.get("tags") or [])
        for uri, body in await self._category_files(ctx, schema):
            if schema.operation_mode == "add_only":
                # events are distinct unless the same thing is recorded for the same day (a
                # session summary: the same messages, whatever the session id and times)
                same_day = uri.parent == target.parent
                if same_day and same_event(body, content, ignore_numbers=summary):
                    dedup["skipped_duplicate"] += 1
                    applied.touched.append(uri.uri)
                    return None, None
            elif is_near_duplicate(body, content):
                dedup["near_duplicate"] += 1
                return uri, body
        return target, None

    async def _category_files(
        self, ctx: RequestContext, schema: MemorySchema
    ) -> list[tuple[VikingURI, str]]:
        """``(uri, body)`` of the memories of one category (newest first, capped)."""
        store = self._store
        base = self.user_uri(ctx, schema.directory)
        key = store.key(ctx, base)
        try:
            entries = await store.content.walk(key, 8, _SCAN_LIMIT * 4)
        except (FileNotFoundError, NotADirectoryError):
            return []
        files = [e for e in entries if not e.is_dir and e.name.endswith(".md")]
        files = [e for e in files if not e.name.startswith(".")]
        files.sort(key=lambda e: -e.mtime)
        out = []
        for entry in files[:_SCAN_LIMIT]:
            text = await store.read_text(entry.key)
            if text is not None:
                out.append((base.join(entry.key[len(key) + 1 :]), parse_memory(text).body))
        return out
