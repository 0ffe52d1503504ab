"""How much keyword search a query needs: the lexical gap of its vector results.

An embedding captures what a query means but blurs the words that carry no meaning it
learned: codenames (``XJ-9000``), rare names, identifiers. Keyword search finds those
exactly and adds little elsewhere; on MS MARCO and DBpedia a fixed BM25 share lowered
nDCG@10 for most queries (benchmarks/RESULTS.md). So the fusion weight is set per query:

* the query's *terms* are its words, stemmed as the keyword index stems them, without
  English stop words and single characters;
* the *lexical gap* is the share of those terms that none of the vector search's top
  results contains (0: every term is there; 1: none is);
* the vector share of the hybrid score moves linearly from ``covered`` (the top results
  hold every term) to ``missing`` (they hold none): ``covered - (covered - missing) * gap``.

Words are matched by stem, through a prefix scan of each text (``\\bcit\\w*`` for the
term ``citi``), so no text is tokenised whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from openviking_mcp.storage.index import stem_word

__all__ = ["STOP_WORDS", "QueryTerm", "lexical_gap", "query_terms", "vector_share"]

_STOP_TEXT = """a about after all also am an and any are as at be been before being between both but
    by can could did do does doing done during each few for from further had has have having
    he her here hers him his how i if in into is it its itself just me more most my no nor
    not now of off on once only or other our out over own same she should so some such than
    that the their theirs them then there these they this those through to too under until
    up very was we were what when where which while who whom why will with would you your
    yours list give show tell find"""

#: English function words, which every text holds: they never measure a gap.
STOP_WORDS = frozenset(_STOP_TEXT.split())

_WORD = re.compile(r"[^\W_]+")
_PREFIX = 3
_MAX_TERMS = 16


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """A query word by its stem, with the pattern that finds its candidate words in a text."""

    stem: str
    pattern: re.Pattern[str]

    def in_text(self, text: str) -> bool:
        """Whether ``text`` holds a word with this stem."""
        return any(stem_word(w) == self.stem for w in self.pattern.findall(text))


@lru_cache(maxsize=4096)
def _term(word: str) -> QueryTerm:
    prefix = word[:_PREFIX].lower()
    return QueryTerm(stem_word(word), re.compile(rf"\b{re.escape(prefix)}\w*", re.IGNORECASE))


def query_terms(query: str) -> tuple[QueryTerm, ...]:
    """The distinct words of ``query`` that are neither stop words nor single characters, by
    stem (at most 16)."""
    seen: dict[str, QueryTerm] = {}
    for word in _WORD.findall(query):
        if len(word) < 2 or word.lower() in STOP_WORDS:
            continue
        term = _term(word)
        seen.setdefault(term.stem, term)
        if len(seen) >= _MAX_TERMS:
            break
    return tuple(seen.values())


def lexical_gap(terms: Sequence[QueryTerm], texts: Iterable[str]) -> float:
    """The share of ``terms`` that none of ``texts`` holds (0 when there are no terms)."""
    if not terms:
        return 0.0
    missing = list(terms)
    for text in texts:
        missing = [t for t in missing if not t.in_text(text)]
        if not missing:
            return 0.0
    return len(missing) / len(terms)


def vector_share(gap: float, covered: float, missing: float) -> float:
    """The vector weight of the hybrid score for a query with lexical ``gap``: ``covered`` at
    no gap, ``missing`` at a full one."""
    return covered - (covered - missing) * min(1.0, max(0.0, gap))
