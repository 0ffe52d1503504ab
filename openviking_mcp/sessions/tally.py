"""What a session's archives add up to: their statuses, the memories extracted, the ``used``
records and the LLM tokens that phase 2 spent (from each archive's ``memory_diff.json``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.sessions.files import SessionFiles
from openviking_mcp.sessions.layout import (
    ARCHIVE_META,
    DIFF_FILE,
    add_llm_usage,
    empty_llm_usage,
)
from openviking_mcp.store import Store

__all__ = ["ArchiveTally", "tally_archives"]


@dataclass
class ArchiveTally:
    archives: dict[str, int] = field(
        default_factory=lambda: {"total": 0, "done": 0, "pending": 0, "failed": 0}
    )
    extracted: Counter[str] = field(default_factory=Counter)
    contexts_used: int = 0
    skills_used: int = 0
    llm_token_usage: dict[str, int] = field(default_factory=empty_llm_usage)

    def memories_extracted(self) -> dict[str, int]:
        """``{memory_type: n, ..., total}`` (types sorted)."""
        out: dict[str, int] = dict(sorted(self.extracted.items()))
        out["total"] = sum(self.extracted.values())
        return out


def _extracted_types(diff: dict[str, Any] | None) -> list[str]:
    """The memory types a ``memory_diff.json`` added or updated, one entry per memory."""
    operations = (diff or {}).get("operations") or {}
    return [
        str(op.get("memory_type") or "unknown")
        for name in ("adds", "updates")
        for op in operations.get(name) or []
        if isinstance(op, dict)
    ]


def _count_used(used: object) -> tuple[int, int]:
    if not isinstance(used, dict):
        return 0, 0
    return len(used.get("contexts") or []), len(used.get("skills") or [])


async def tally_archives(
    store: Store,
    files: SessionFiles,
    ctx: RequestContext,
    session: VikingURI,
    meta: dict[str, Any],
) -> ArchiveTally:
    """The totals of the session's archives plus its pending ``used`` records."""
    tally = ArchiveTally()
    tally.contexts_used, tally.skills_used = _count_used(meta.get("used"))
    key = files.key(ctx, session)
    for number in await files.archive_numbers(key):
        archive_key = files.key(ctx, files.archive_uri(session, number))
        status, _ = await files.archive_status(archive_key)
        tally.archives["total"] += 1
        tally.archives[status] += 1
        archive_meta = await store.read_json(f"{archive_key}/{ARCHIVE_META}") or {}
        contexts, skills = _count_used(archive_meta.get("used"))
        tally.contexts_used += contexts
        tally.skills_used += skills
        diff = await store.read_json(f"{archive_key}/{DIFF_FILE}")
        tally.extracted.update(_extracted_types(diff))
        usage = (diff or {}).get("token_usage")
        add_llm_usage(tally.llm_token_usage, usage.get("llm") if isinstance(usage, dict) else None)
    return tally
