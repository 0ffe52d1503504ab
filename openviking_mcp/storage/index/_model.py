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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from openviking_mcp.contract.errors import InvalidArgumentError

__all__ = [
    "FILTER_COLUMNS",
    "BoolCondition",
    "Condition",
    "ConditionSql",
    "FilterNode",
    "IndexFilter",
    "IndexHit",
    "IndexRecord",
    "condition_sql",
    "normalize_uri",
    "record_id",
    "render_condition",
    "sql_string",
]

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
    _id: str = field(default="", init=False, repr=False, compare=False)

    @property
    def id(self) -> str:
        """``sha1(account_id NUL uri NUL level NUL anchor)``: the upsert key (computed once;
        ``dataclasses.replace`` computes it again)."""
        if not self._id:
            self._id = record_id(self.account_id, self.uri, self.level, self.anchor)
        return self._id


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


#: The columns a structured condition may name, with their kind: ``str`` (``uri`` has path
#: semantics for ``must``), ``int``, ``float`` (epoch seconds) or ``list`` (of strings).
FILTER_COLUMNS: dict[str, str] = {
    "uri": "str",
    "parent_uri": "str",
    "context_type": "str",
    "account_id": "str",
    "owner_user_id": "str",
    "name": "str",
    "abstract": "str",
    "level": "int",
    "active_count": "int",
    "created_at": "float",
    "updated_at": "float",
    "tags": "list",
}
_BOUND_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_LIST_SEPARATOR = "\n"


@dataclass(frozen=True, slots=True)
class Condition:
    """One test on a column (``FILTER_COLUMNS``).

    ``must``/``must_not``: the column is (not) one of ``values``; on ``uri`` a value is a
    subtree (the URI itself and everything below it, at most ``depth`` levels down when set);
    on ``tags`` any listed tag matches. ``prefix``: the string starts with ``values[0]``.
    ``contains``: the string (or one of the tags) contains ``values[0]``. ``range`` /
    ``range_out``: the number is (not) within ``bounds`` (``gt``, ``gte``, ``lt``, ``lte``).
    """

    op: str
    field: str
    values: tuple[str | int | float, ...] = ()
    depth: int | None = None
    bounds: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class BoolCondition:
    """``and`` / ``or`` of its children."""

    op: str
    conds: tuple[Condition | BoolCondition, ...]


FilterNode = Condition | BoolCondition


def _literal(kind: str, value: str | int | float) -> str:
    if kind in ("str", "list"):
        if not isinstance(value, str):
            raise InvalidArgumentError("Filter value must be a string", {"value": value})
        return sql_string(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError("Filter value must be a number", {"value": value})
    return str(int(value)) if kind == "int" else _sql_float(value, "value")


def _subtree_clause(value: str, depth: int | None) -> str:
    """``uri`` is ``value`` or below it (at most ``depth`` levels down when given)."""
    norm = normalize_uri(value)
    if depth == 0:
        return f"uri = {sql_string(norm)}"
    inside = _prefix_clause(norm) or "true"
    if depth is None or depth < 0:
        return inside
    base = norm.count("/") - (1 if norm == _ROOT else 0)
    slashes = "(length(uri) - length(replace(uri, '/', '')))"
    return f"({inside} AND {slashes} <= {base + int(depth)})"


def _must_sql(cond: Condition, kind: str) -> str:
    if not cond.values:
        return "false"
    if cond.field == "uri":
        parts = [_subtree_clause(str(v), cond.depth) for v in cond.values]
        return "(" + " OR ".join(parts) + ")"
    listed = ", ".join(_literal(kind, v) for v in cond.values)
    if kind == "list":
        return f"array_has_any(tags, [{listed}])"
    return f"{cond.field} IN ({listed})"


def _text_sql(cond: Condition, kind: str) -> str:
    if len(cond.values) != 1 or kind not in ("str", "list"):
        raise InvalidArgumentError(f"'{cond.op}' needs one string", {"field": cond.field})
    needle = _literal(kind, cond.values[0])
    if kind == "list":
        if cond.op == "prefix" or _LIST_SEPARATOR in str(cond.values[0]):
            raise InvalidArgumentError(f"'{cond.op}' is not supported on tags")
        sep = sql_string(_LIST_SEPARATOR)
        return f"strpos(array_to_string(tags, {sep}), {needle}) > 0"
    if cond.op == "prefix":
        return f"starts_with({cond.field}, {needle})"
    return f"strpos({cond.field}, {needle}) > 0"


def _range_sql(cond: Condition, kind: str) -> str:
    if kind not in ("int", "float") or not cond.bounds:
        raise InvalidArgumentError("'range' needs a numeric column and bounds")
    parts = [
        f"{cond.field} {_BOUND_OPS[key]} {_sql_float(value, key)}" for key, value in cond.bounds
    ]
    return "(" + " AND ".join(parts) + ")"


#: Renders one condition in a SQL dialect, given the condition and its column's kind.
ConditionSql = Callable[[Condition, str], str]


def render_condition(
    node: FilterNode, must: ConditionSql, text: ConditionSql, bounds: ConditionSql
) -> str:
    """``node`` as a predicate of the dialect whose renderers are given: ``and``/``or`` groups
    around the conditions rendered by ``must`` (``must``, ``must_not``), ``text``
    (``prefix``, ``contains``) and ``bounds`` (``range``, ``range_out``), ``must_not`` and
    ``range_out`` negated. An unknown field or operator raises ``InvalidArgumentError``."""
    if isinstance(node, BoolCondition):
        if node.op not in ("and", "or") or not node.conds:
            return "true" if node.op == "and" else "false"
        joiner = " AND " if node.op == "and" else " OR "
        parts = (render_condition(c, must, text, bounds) for c in node.conds)
        return "(" + joiner.join(parts) + ")"
    kind = FILTER_COLUMNS.get(node.field)
    if kind is None:
        raise InvalidArgumentError(f"Unknown filter field: {node.field}", {"field": node.field})
    if node.op in ("must", "must_not"):
        sql = must(node, kind)
    elif node.op in ("prefix", "contains"):
        sql = text(node, kind)
    elif node.op in ("range", "range_out"):
        sql = bounds(node, kind)
    else:
        raise InvalidArgumentError(f"Unknown filter operator: {node.op}", {"op": node.op})
    return f"(NOT {sql})" if node.op in ("must_not", "range_out") else sql


def condition_sql(node: FilterNode) -> str:
    """``node`` as a DataFusion predicate. Column names come from :data:`FILTER_COLUMNS`
    only and every value is a rendered literal, so nothing of the caller is pasted."""
    return render_condition(node, _must_sql, _text_sql, _range_sql)


@dataclass(frozen=True, slots=True)
class IndexFilter:
    """Row selection shared by search, count, delete and scroll.

    ``account_id=None`` is only for ROOT-wide operations. A URI prefix ``p`` matches ``p``
    itself and everything below ``p/`` (so ``viking://resources/a`` never matches
    ``viking://resources/ab``); ``viking://`` matches everything. Several prefixes are ORed;
    every other field narrows the selection (AND), ``where`` (a caller's structured
    conditions) included. Empty tuples mean "no restriction".
    """

    account_id: str | None = None
    uri_prefixes: tuple[str, ...] = ()
    exclude_prefixes: tuple[str, ...] = ()
    levels: tuple[int, ...] = ()
    context_types: tuple[str, ...] = ()
    parent_uri: str | None = None
    parent_uris: tuple[str, ...] = ()
    tags_all: tuple[str, ...] = ()
    updated_after: float | None = None
    updated_before: float | None = None
    where: FilterNode | None = None

    def _parent_clauses(self) -> list[str]:
        """``parent_uri`` equal to ``parent_uri`` and among ``parent_uris`` (each if set)."""
        clauses: list[str] = []
        if self.parent_uri is not None:
            clauses.append(f"parent_uri = {sql_string(normalize_uri(self.parent_uri))}")
        if self.parent_uris:
            parents = tuple(normalize_uri(u) for u in self.parent_uris)
            clauses.append(f"parent_uri IN ({_sql_list(parents)})")
        return clauses

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
        clauses += self._parent_clauses()
        if self.tags_all:
            clauses.append(f"array_has_all(tags, [{_sql_list(self.tags_all)}])")
        if self.updated_after is not None:
            clauses.append(f"updated_at > {_sql_float(self.updated_after, 'updated_after')}")
        if self.updated_before is not None:
            clauses.append(f"updated_at < {_sql_float(self.updated_before, 'updated_before')}")
        if self.where is not None:
            clauses.append(condition_sql(self.where))
        return " AND ".join(clauses) if clauses else None
