"""Query planning: the queries a search runs in the light of a session's recent messages.

With an LLM, the request plus up to three standalone queries the LLM writes; without one, the
request extended with frequent words of the messages (stop words left out).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable

from openviking_mcp.contract.errors import NotFoundError, OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.models.llm import LLM

__all__ = ["QueryPlanner", "RecentMessages", "keywords"]

#: ``recent(ctx, session_id, n)``: the texts of a session's last ``n`` messages.
RecentMessages = Callable[[RequestContext, str, int], Awaitable[list[str]]]

_RECENT = 5
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "can",
        "do",
        "does",
        "did",
        "not",
        "no",
        "yes",
        "please",
        "thanks",
        "hi",
        "hello",
    ]
)


def keywords(texts: list[str], limit: int = 8) -> list[str]:
    """The most frequent words (three letters or more, no stop words) of ``texts``."""
    words = Counter(
        w for t in texts for w in re.findall(r"[\w][\w.-]{2,}", t.lower()) if w not in _STOP
    )
    return [w for w, _ in words.most_common(limit)]


class QueryPlanner:
    """See the module docs."""

    def __init__(self, llm: LLM | None, recent: RecentMessages) -> None:
        self._llm = llm
        self._recent = recent

    async def queries(
        self, ctx: RequestContext, query: str, session_id: str | None
    ) -> tuple[list[str], str]:
        """The queries to run and how they were made: ``"llm"`` (``query`` plus up to 3
        planned ones), ``"keywords"`` (``query`` extended with frequent words of the
        messages), ``"none"`` (a session that adds nothing, or does not exist) or ``"off"``
        (no session)."""
        if not session_id:
            return [query], "off"
        try:
            recent = await self._recent(ctx, session_id, _RECENT)
        except NotFoundError:  # a session that does not exist (yet) adds nothing
            recent = []
        if not recent:
            return [query], "none"
        planned = await self._plan(query, recent) if self._llm else []
        if planned:
            return [query, *planned], "llm"
        extra = [k for k in keywords(recent) if k not in query.lower()]
        if extra:
            return [f"{query} {' '.join(extra)}".strip()], "keywords"
        return [query], "none"

    async def _plan(self, query: str, recent: list[str]) -> list[str]:
        """Up to 3 standalone search queries from the LLM; ``[]`` if it fails or declines."""
        assert self._llm is not None
        history = "\n".join(f"- {m[:500]}" for m in recent)
        prompt = (
            "Recent conversation messages:\n"
            + history
            + "\n\nCurrent request: "
            + query
            + "\n\nWrite up to 3 standalone search queries that would find the context needed "
            'to answer the request. Reply with JSON only: {"queries": ["...", "..."]}'
        )
        try:
            answer = await self._llm.complete(prompt, json_mode=True, max_tokens=300)
            data = json.loads(answer.strip().removeprefix("```json").strip("`\n "))
            queries = [str(q).strip() for q in data.get("queries", []) if str(q).strip()]
        except (OpenVikingError, ValueError, AttributeError):
            return []
        return [q for q in queries if q.lower() != query.lower()][:3]
