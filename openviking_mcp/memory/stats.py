"""Memory health figures (pure: no storage).

A memory's category is the ``memory_type`` of its fields block, else the first folder under
``memories/`` (or the file's stem for the top-level ``profile.md``/``identity.md``). Hotness
follows the original: ``sigmoid(log1p(active_count)) * 0.5 ** (age_days / 7)`` with the age
taken from the last update; below 0.2 is cold, above 0.6 hot. No access log is kept, so "not
accessed" means "not updated" since then.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

from openviking_mcp.contract.memory import Hotness, MemoryStats, Staleness

__all__ = ["DAY", "UPSTREAM_CATEGORIES", "MemoryTally", "category_of", "hotness_score"]

DAY = 86_400.0
#: The categories the original server reports: always valid, counted 0 when no memory has them.
UPSTREAM_CATEGORIES = (
    "profile",
    "preferences",
    "entities",
    "events",
    "cases",
    "patterns",
    "tools",
    "skills",
)
_HALF_LIFE_DAYS = 7.0


def hotness_score(active_count: int, age_days: float) -> float:
    """``sigmoid(log1p(active_count)) * 0.5 ** (age_days / 7)``, in [0, 1]."""
    frequency = 1.0 / (1.0 + math.exp(-math.log1p(max(active_count, 0))))
    recency: float = 0.5 ** (max(age_days, 0.0) / _HALF_LIFE_DAYS)
    return frequency * recency


def category_of(rel: str, fields: dict[str, Any]) -> str:
    """The category of the memory at ``rel`` (below ``memories/``) with ``fields``."""
    memory_type = fields.get("memory_type")
    if isinstance(memory_type, str) and memory_type:
        return memory_type
    head, sep, _ = rel.partition("/")
    return head if sep else head.removesuffix(".md")


class MemoryTally:
    """Counts memories as they are read; :meth:`result` is the stats answer. ``known``
    categories start at 0."""

    def __init__(self, now: float, known: Iterable[str] = ()) -> None:
        self._now = now
        self._by_category: Counter[str] = Counter({c: 0 for c in known})
        self._hotness = {"cold": 0, "warm": 0, "hot": 0}
        self._stale_7 = self._stale_30 = 0
        self._oldest: float | None = None

    def add(self, category: str, updated: float, created: float, active_count: int) -> None:
        """One memory: its category, last update and creation (epochs), ``active_count``."""
        now = self._now
        self._by_category[category] += 1
        score = hotness_score(active_count, (now - updated) / DAY)
        self._hotness["cold" if score < 0.2 else "hot" if score > 0.6 else "warm"] += 1
        self._stale_7 += now - updated > 7 * DAY
        self._stale_30 += now - updated > 30 * DAY
        self._oldest = created if self._oldest is None else min(self._oldest, created)

    def result(self) -> MemoryStats:
        oldest = self._oldest
        age: int | float = round(max(self._now - oldest, 0.0) / DAY, 2) if oldest is not None else 0
        return MemoryStats(
            total_memories=sum(self._by_category.values()),
            by_category=dict(sorted(self._by_category.items())),
            hotness_distribution=Hotness(**self._hotness),
            staleness=Staleness(
                not_accessed_7d=self._stale_7,
                not_accessed_30d=self._stale_30,
                oldest_memory_age_days=age,
            ),
        )
