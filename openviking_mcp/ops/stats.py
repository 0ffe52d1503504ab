"""Statistics for a caller: memory health and one session's extraction record.

* :meth:`StatsOps.memory_stats` walks the caller's ``viking://~/memories`` and reports counts per
  category, a hotness distribution and staleness. A memory's category is the ``memory_type`` of
  its fields block, else the first folder under ``memories/`` (or the file's stem for the
  top-level ``profile.md``/``identity.md``). Hotness follows the original:
  ``sigmoid(log1p(active_count)) * 0.5 ** (age_days / 7)`` with the age taken from the last
  update; below 0.2 is cold, above 0.6 hot. No access log is kept, so "not accessed" means "not
  updated" since then (``updated_at`` of the fields block, else the file's modification time).
* :meth:`StatsOps.session_stats` reads a session's ``.meta.json`` and its archives: message
  counts, commits, pending tokens, used contexts/skills and the memories each finished archive
  extracted (from its ``memory_diff.json``).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from typing import Any

from openviking_mcp.contract.errors import InvalidArgumentError, OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.memory.memory_file import parse_memory
from openviking_mcp.ops.base import iso_epoch
from openviking_mcp.ops.memory import MemoryOps
from openviking_mcp.ops.session_store import HISTORY_DIR, archive_name
from openviking_mcp.ops.sessions import SessionOps
from openviking_mcp.storage.index import IndexFilter

__all__ = ["StatsOps", "hotness_score"]

_DAY = 86_400.0
_HALF_LIFE_DAYS = 7.0
_MAX_MEMORIES = 20_000


def hotness_score(active_count: int, age_days: float) -> float:
    """``sigmoid(log1p(active_count)) * 0.5 ** (age_days / 7)``, in [0, 1]."""
    frequency = 1.0 / (1.0 + math.exp(-math.log1p(max(active_count, 0))))
    recency: float = 0.5 ** (max(age_days, 0.0) / _HALF_LIFE_DAYS)
    return frequency * recency


def _category(rel: str, fields: dict[str, Any]) -> str:
    memory_type = fields.get("memory_type")
    if isinstance(memory_type, str) and memory_type:
        return memory_type
    head, sep, _ = rel.partition("/")
    return head if sep else head.removesuffix(".md")


class StatsOps(MemoryOps, SessionOps):
    async def memory_stats(
        self, ctx: RequestContext, category: str | None = None
    ) -> dict[str, Any]:
        """``{total_memories, by_category, hotness_distribution: {cold, warm, hot},
        staleness: {not_accessed_7d, not_accessed_30d, oldest_memory_age_days}}`` of the
        caller's memories (one category with ``category``; an unknown one is 400)."""
        known = sorted(self._memory_schemas())
        if category is not None and category not in known:
            raise InvalidArgumentError(
                f"Unknown memory category {category!r}; one of: {', '.join(known)}",
                {"field": "category", "value": category, "allowed": known},
            )
        base = self._user_uri(ctx, "memories")
        key = self._key(ctx, base)
        try:
            entries = await self.store.walk(key, 16, _MAX_MEMORIES)
        except (FileNotFoundError, NotADirectoryError):
            entries = []
        files = [
            e
            for e in entries
            if not e.is_dir and e.name.endswith(".md") and not e.name.startswith(".")
        ]
        active = await self._active_counts(ctx, base.uri)
        now = time.time()
        by_category: Counter[str] = Counter({c: 0 for c in known} if category is None else {})
        hotness = {"cold": 0, "warm": 0, "hot": 0}
        stale_7 = stale_30 = 0
        oldest: float | None = None
        for entry in files:
            rel = entry.key[len(key) + 1 :]
            text = await self._read_text(entry.key)
            if text is None:
                continue
            try:
                fields = parse_memory(text).fields
            except OpenVikingError:  # a broken fields block: count it by its path
                fields = {}
            kind = _category(rel, fields)
            if category is not None and kind != category:
                continue
            by_category[kind] += 1
            updated = iso_epoch(fields.get("updated_at")) or entry.mtime
            created = iso_epoch(fields.get("created_at")) or updated
            score = hotness_score(active.get(base.join(rel).uri, 0), (now - updated) / _DAY)
            hotness["cold" if score < 0.2 else "hot" if score > 0.6 else "warm"] += 1
            stale_7 += now - updated > 7 * _DAY
            stale_30 += now - updated > 30 * _DAY
            oldest = created if oldest is None else min(oldest, created)
        return {
            "total_memories": sum(by_category.values()),
            "by_category": dict(sorted(by_category.items())),
            "hotness_distribution": hotness,
            "staleness": {
                "not_accessed_7d": stale_7,
                "not_accessed_30d": stale_30,
                "oldest_memory_age_days": (
                    round(max(now - oldest, 0.0) / _DAY, 2) if oldest is not None else 0
                ),
            },
        }

    async def _active_counts(self, ctx: RequestContext, prefix: str) -> dict[str, int]:
        """``active_count`` of the indexed memory files under ``prefix`` (``{}`` without an
        index)."""
        if self._index_error is not None:
            return {}
        flt = IndexFilter(account_id=ctx.account_id, uri_prefixes=(prefix,))
        counts: dict[str, int] = {}
        cursor: str | None = None
        while True:
            rows, cursor = await self.index.scroll(flt, 500, cursor)
            for row in rows:
                counts[row.uri] = max(counts.get(row.uri, 0), int(row.active_count))
            if cursor is None or len(counts) >= _MAX_MEMORIES:
                return counts

    async def session_stats(self, ctx: RequestContext, session_id: str) -> dict[str, Any]:
        """``{session_id, total_turns, message_count, commit_count, pending_tokens,
        last_commit_at, archives: {total, done, pending, failed}, memories_extracted:
        {category: n, total}, contexts_used, skills_used}``; 404 for an unknown session."""
        session, key, meta = await self._require_session(ctx, session_id)
        archives = {"total": 0, "done": 0, "pending": 0, "failed": 0}
        extracted: Counter[str] = Counter()
        used = meta.get("used") or {}
        contexts = len(used.get("contexts") or [])
        skills = len(used.get("skills") or [])
        for number in await self._archive_numbers(key):
            archive_key = f"{key}/{HISTORY_DIR}/{archive_name(number)}"
            status, _ = await self._archive_status(archive_key)
            archives["total"] += 1
            archives[status] += 1
            archive_meta = await self._read_json(f"{archive_key}/.meta.json") or {}
            archived_used = archive_meta.get("used") or {}
            contexts += len(archived_used.get("contexts") or [])
            skills += len(archived_used.get("skills") or [])
            diff = await self._read_json(f"{archive_key}/memory_diff.json")
            operations = (diff or {}).get("operations") or {}
            for name in ("adds", "updates"):
                for op in operations.get(name) or []:
                    if isinstance(op, dict):
                        extracted[str(op.get("memory_type") or "unknown")] += 1
        extracted_out: dict[str, int] = dict(sorted(extracted.items()))
        extracted_out["total"] = sum(extracted.values())
        return {
            "session_id": session.name,
            "total_turns": int(meta.get("total_message_count") or 0),
            "message_count": int(meta.get("message_count") or 0),
            "commit_count": int(meta.get("commit_count") or 0),
            "pending_tokens": int(meta.get("pending_tokens") or 0),
            "last_commit_at": meta.get("last_commit_at"),
            "archives": archives,
            "memories_extracted": extracted_out,
            "contexts_used": contexts,
            "skills_used": skills,
        }
