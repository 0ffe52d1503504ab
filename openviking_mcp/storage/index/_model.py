"""Value types of the search index: rows (:class:`IndexRecord`), hits and filters.

:meth:`IndexFilter.to_sql` renders a filter as a DataFusion SQL predicate for LanceDB's
``where``. Every string goes through :func:`sql_string` (single quotes doubled; backslashes
are literal in DataFusion string literals), and URI prefixes use ``starts_with(...)``, which
Lance rewrites to an escaped ``LIKE 'prefix%'`` that the BTree index on ``uri`` serves, so
``%`` and ``_`` in URIs are never wildcards.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from openviking_mcp.contract.errors import InvalidArgumentError

__all__ = ["IndexFilter", "IndexHit", "IndexRecord", "normalize_uri", "record_id", "sql_string"]

_ROOT = "viking://"


def record_id(account_id: str, uri: str, level: int, anchor: str) -> str:
    """The stable primary key of the row ``(account_id, uri, level, anchor)``."""
    return hashlib.sha1(
        f"{account_id}\x00{uri}\x00{level}\x00{anchor}".encode(), usedforsecurity=False
    ).hexdigest()


@dataclass(slots=True)
class IndexRecord:
    """One row of the ``contexts`` table.

    ``level`` is 0 (directory abstract), 1 (directory overview) or 2 (file content passage);
    ``anchor`` is ``""`` for L0/L1 rows and whole small files, ``"p0"``, ``"p1"``... for
    passages. ``vector`` must have the index's dimension; in search hits it holds the stored
    vector. ``created_at``/``updated_at`` of 0 are filled by :meth:`VectorIndex.upsert`.
    """

    uri: str
    level: int
    account_id: str
    context_type: str
    vector: np.ndarray
    text: str = ""
    abstract: str = ""
    name: str = ""
    parent_uri: str = ""
    anchor: str = ""
    owner_user_id: str = ""
    tags: list[str] = field(default_factory=list)
    created_at: float = 0.0
    updated_at: float = 0.0
    active_count: int = 0

    @property
    def id(self) -> str:
        """``sha1(account_id NUL uri NUL level NUL anchor)``: the upsert key."""
        return record_id(self.account_id, self.uri, self.level, self.anchor)


@dataclass(slots=True)
class IndexHit:
    """A search result: ``score`` is the cosine similarity (vector search, in [-1, 1]) or
    the raw BM25 score (full-text search); higher is better in both."""

    record: IndexRecord
    score: float


def sql_string(value: str) -> str:
    """``value`` as a DataFusion string literal (quotes doubled; NUL is refused)."""
    if "\x00" in value:
        raise InvalidArgumentError("Filter values may not contain NUL characters", {"value": value})
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join(sql_string(v) for v in values)


def _sql_float(value: float, name: str) -> str:
    number = float(value)
    if not math.isfinite(number):
        raise InvalidArgumentError(f"{name} must be a finite number", {name: value})
    return repr(number)


def normalize_uri(uri: str) -> str:
    """``uri`` without trailing slashes; the scheme root stays ``viking://``."""
    stripped = uri.rstrip("/")
    if stripped in ("", "viking:"):
        return _ROOT
    return stripped


def _prefix_clause(prefix: str) -> str | None:
    """``uri == p OR uri starts with p/``; ``None`` when the prefix matches every row."""
    norm = normalize_uri(prefix)
    if norm == _ROOT:
        return None
    return f"(uri = {sql_string(norm)} OR starts_with(uri, {sql_string(norm + '/')}))"


@dataclass(frozen=True, slots=True)
class IndexFilter:
    """Row selection shared by search, count, delete and scroll.

    ``account_id=None`` is only for ROOT-wide operations. A URI prefix ``p`` matches ``p``
    itself and everything below ``p/`` (so ``viking://resources/a`` never matches
    ``viking://resources/ab``); ``viking://`` matches everything. Several prefixes are ORed;
    every other field narrows the selection (AND). Empty tuples mean "no restriction".
    """

    account_id: str | None = None
    uri_prefixes: tuple[str, ...] = ()
    exclude_prefixes: tuple[str, ...] = ()
    levels: tuple[int, ...] = ()
    context_types: tuple[str, ...] = ()
    parent_uri: str | None = None
    tags_all: tuple[str, ...] = ()
    updated_after: float | None = None
    updated_before: float | None = None

    def to_sql(self) -> str | None:
        """The predicate for LanceDB ``where``; ``None`` when nothing is restricted."""
        clauses: list[str] = []
        if self.account_id is not None:
            clauses.append(f"account_id = {sql_string(self.account_id)}")
        if self.uri_prefixes:
            parts = [_prefix_clause(p) for p in self.uri_prefixes]
            if None not in parts:
                clauses.append("(" + " OR ".join(p for p in parts if p is not None) + ")")
        for prefix in self.exclude_prefixes:
            part = _prefix_clause(prefix)
            clauses.append("false" if part is None else f"NOT {part}")
        if self.levels:
            clauses.append("level IN (" + ", ".join(str(int(v)) for v in self.levels) + ")")
        if self.context_types:
            clauses.append(f"context_type IN ({_sql_list(self.context_types)})")
        if self.parent_uri is not None:
            clauses.append(f"parent_uri = {sql_string(normalize_uri(self.parent_uri))}")
        if self.tags_all:
            clauses.append(f"array_has_all(tags, [{_sql_list(self.tags_all)}])")
        if self.updated_after is not None:
            clauses.append(f"updated_at > {_sql_float(self.updated_after, 'updated_after')}")
        if self.updated_before is not None:
            clauses.append(f"updated_at < {_sql_float(self.updated_before, 'updated_before')}")
        return " AND ".join(clauses) if clauses else None
