"""Grouping missed searches into topics by the words they share.

Two queries are one topic when most words of the shorter one (by stem, function words left
out: the keyword index's stems and stop words) are in the other. Groups are made greedily,
the most asked query first, and a query joins the first group holding a similar query, so
each missing topic is listed once with the searches of all its phrasings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openviking_mcp.search.fusion import query_terms

__all__ = ["GapGroup", "group_misses", "similar"]

#: Share of the shorter query's words the other must hold.
SIMILARITY = 0.6


def _stems(query: str) -> frozenset[str]:
    stems = frozenset(t.stem for t in query_terms(query))
    return stems or frozenset({query.strip().lower()})


def similar(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two queries' stems name one topic (module docs)."""
    shared = len(a & b)
    return shared > 0 and shared / min(len(a), len(b)) >= SIMILARITY


@dataclass(slots=True)
class GapGroup:
    """Missed queries of one topic: ``rows`` are the usage log's ``{query, count, best, last}``."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    stems: list[frozenset[str]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(int(r["count"]) for r in self.rows)


def group_misses(rows: Sequence[dict[str, Any]]) -> list[GapGroup]:
    """``rows`` (most asked first) grouped by topic, the most asked topic first."""
    groups: list[GapGroup] = []
    for row in rows:
        stems = _stems(str(row["query"]))
        home = next((g for g in groups if any(similar(stems, s) for s in g.stems)), None)
        if home is None:
            home = GapGroup()
            groups.append(home)
        home.rows.append(row)
        home.stems.append(stems)
    groups.sort(key=lambda g: -g.count)
    return groups
