"""Full-text search: the FTS index configuration and query sanitising.

Tokenizer choice (verified against lancedb 0.40): the ``simple`` base tokenizer splits on
whitespace and punctuation, lower-cases, folds accents and stems English, so ``XJ-9000``
becomes ``xj 9000`` and ``ACME_42`` ``acm 42`` both in documents and in queries. Stop words are
kept (acronyms such as ``IT`` or ``US`` must stay findable; BM25's IDF already discounts common
words). Positions are stored so that compound terms can also be matched as phrases: the query
``XJ-9000`` is ``match("xj-9000") OR phrase("xj 9000")``, which ranks the exact codename above
a row that merely contains ``XJ`` and ``9000`` apart.

A plain string handed to LanceDB is a match query, not a query language, but queries are still
reduced to plain terms here: quotes, colons, parentheses and operators never reach LanceDB.
"""

from __future__ import annotations

import re
from typing import Any

from lancedb.index import FTS
from lancedb.query import (
    BooleanQuery,
    FullTextOperator,
    FullTextQuery,
    MatchQuery,
    Occur,
    PhraseQuery,
)

from openviking_mcp.storage.index._terms import plain_terms

__all__ = ["FTS_SETTINGS", "build_fts_query", "fts_config", "fts_config_matches", "plain_terms"]

#: Settings of the FTS index on ``text`` (also compared with an existing index's details).
FTS_SETTINGS: dict[str, Any] = {
    "base_tokenizer": "simple",
    "language": "English",
    "with_position": True,
    "lower_case": True,
    "stem": True,
    "remove_stop_words": False,
    "ascii_folding": True,
}

_MAX_PHRASES = 8
_WORD = re.compile(r"[^\W_]+")


def fts_config() -> FTS:
    """The index configuration for the ``text`` column."""
    return FTS(**FTS_SETTINGS)


def fts_config_matches(details: dict[str, Any] | None) -> bool:
    """Whether an existing FTS index (its ``index_details``) was built with our settings."""
    if not details:
        return False
    return all(details.get(key) == value for key, value in FTS_SETTINGS.items())


def build_fts_query(query: str, column: str = "text") -> FullTextQuery | None:
    """The LanceDB full-text query for a user query; ``None`` when nothing is searchable."""
    terms = plain_terms(query)
    if not terms:
        return None
    match: FullTextQuery = MatchQuery(
        " ".join(terms),
        column,
        boost=1.0,
        fuzziness=0,  # exact terms: codenames must not match their neighbours
        max_expansions=50,
        operator=FullTextOperator.OR,
        prefix_length=0,
        document_granularity=None,
    )
    phrases: list[str] = []
    for term in terms:
        words = _WORD.findall(term)
        if len(words) > 1:
            phrase = " ".join(words)
            if phrase not in phrases:
                phrases.append(phrase)
    if not phrases:
        return match
    clauses: list[tuple[Occur, FullTextQuery]] = [(Occur.SHOULD, match)]
    clauses.extend(
        (Occur.SHOULD, PhraseQuery(p, column, slop=0, document_granularity=None))
        for p in phrases[:_MAX_PHRASES]
    )
    return BooleanQuery(clauses)
