"""The searchable terms of a user query, with no LanceDB import (the FTS query builder in
:mod:`._fts` and the in-memory BM25 in :mod:`._bm25` both start from them)."""

from __future__ import annotations

import re

__all__ = ["plain_terms"]

_MAX_TERMS = 64
#: A word, optionally joined to more words by punctuation inside a codename (XJ-9000, a.b/c).
_TERM = re.compile(r"\w+(?:[-_.:/@'+#&]+\w+)*")


def plain_terms(query: str) -> list[str]:
    """The searchable terms of ``query``: words and punctuation-joined codenames only."""
    return _TERM.findall(query)[:_MAX_TERMS]
