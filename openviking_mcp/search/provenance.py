"""The top-level ``provenance`` of a ``find`` asked with ``include_provenance``.

It is built from what the search already reports: the roots it searched (the readable target
prefixes, ``viking://`` for a search over everything), the directories it expanded (each hit's
``trajectory``, in expansion order) and the hits themselves. ``thinking_trace`` says the same
in words, one step a line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openviking_mcp.contract.search import MatchedContext, Provenance

__all__ = ["provenance_of"]

_ALL = "viking://"


def _expanded(hits: Sequence[dict[str, Any]]) -> list[tuple[str, float]]:
    """The directories the hits' trajectories name, first mention first, with their scores."""
    seen: dict[str, float] = {}
    for hit in hits:
        for step in hit.get("trajectory") or ():
            seen.setdefault(str(step["uri"]), float(step["score"]))
    return list(seen.items())


def provenance_of(query: str, roots: Sequence[str], hits: Sequence[dict[str, Any]]) -> Provenance:
    """The provenance of ``query`` searched under ``roots`` (none: everything) that found
    ``hits`` (find's hit dicts, with their ``trajectory``)."""
    starts = list(roots) or [_ALL]
    expanded = _expanded(hits)
    searched = [*starts, *(uri for uri, _ in expanded if uri not in starts)]
    matched = [
        MatchedContext(
            uri=str(hit["uri"]),
            tier=f"L{hit['level']}",
            context_type=str(hit["context_type"]),
            score=float(hit["score"]),
            match_reason=str(hit.get("match_reason") or ""),
        )
        for hit in hits
    ]
    trace = [f"searched {', '.join(starts)}"]
    trace += [f"expanded {uri} (score {score})" for uri, score in expanded]
    trace.append(f"matched {len(matched)} context{'' if len(matched) == 1 else 's'}")
    return Provenance(
        query=query, searched_directories=searched, matched_contexts=matched, thinking_trace=trace
    )
