""":class:`~openviking_mcp.storage.index.IndexFilter` as a PostgreSQL predicate.

:func:`filter_sql` renders the same selection as :meth:`IndexFilter.to_sql` does for LanceDB,
but every value is a bound parameter (``%s``): nothing of the caller is pasted into SQL.
Column names come from :data:`FILTER_COLUMNS` only. A URI subtree ``p`` is ``uri = p`` or the
bytewise range ``[p/, p0)`` (``0`` follows ``/``; the URI columns sort with ``COLLATE "C"``),
which the B-tree indexes on ``(account_id, uri)`` and ``uri`` serve, and where ``%`` and ``_``
are never wildcards.
"""

from __future__ import annotations

from typing import Any

from openviking_mcp.storage.index._model import (
    Condition,
    FilterNode,
    IndexFilter,
    normalize_uri,
    render_condition,
)

__all__ = ["filter_sql", "where_clause"]

_ROOT = "viking://"
_BOUND_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_LIST_SEPARATOR = "\n"
_SLASHES = "(length(uri) - length(replace(uri, '/', '')))"


class _Sql:
    """Clauses and the parameters they bind, in order."""

    def __init__(self) -> None:
        self.params: list[Any] = []

    def bind(self, value: Any) -> str:
        self.params.append(value)
        return "%s"

    def subtree(self, prefix: str) -> str | None:
        """``uri`` is ``prefix`` or below it; ``None`` when that is every row."""
        norm = normalize_uri(prefix)
        if norm == _ROOT:
            return None
        inside = norm + "/"
        upper = norm + "0"
        return (
            f"(uri = {self.bind(norm)} OR (uri >= {self.bind(inside)} "
            f"AND uri < {self.bind(upper)}))"
        )

    def depth_subtree(self, value: str, depth: int | None) -> str:
        norm = normalize_uri(value)
        if depth == 0:
            return f"uri = {self.bind(norm)}"
        inside = self.subtree(norm) or "true"
        if depth is None or depth < 0:
            return inside
        base = norm.count("/") - (1 if norm == _ROOT else 0)
        return f"({inside} AND {_SLASHES} <= {self.bind(base + int(depth))})"

    # -- structured conditions ---------------------------------------------------------------

    def node(self, node: FilterNode) -> str:
        return render_condition(node, self._must, self._text, self._range)

    def _value(self, kind: str, value: str | int | float) -> Any:
        if kind in ("str", "list"):
            return str(value)
        return int(value) if kind == "int" else float(value)

    def _must(self, cond: Condition, kind: str) -> str:
        if not cond.values:
            return "false"
        if cond.field == "uri":
            parts = [self.depth_subtree(str(v), cond.depth) for v in cond.values]
            return "(" + " OR ".join(parts) + ")"
        values = [self._value(kind, v) for v in cond.values]
        if kind == "list":
            return f"tags && {self.bind(values)}::text[]"
        cast = {"str": "text", "int": "bigint", "float": "float8"}[kind]
        return f"{cond.field} = ANY({self.bind(values)}::{cast}[])"

    def _text(self, cond: Condition, kind: str) -> str:
        needle = self.bind(str(cond.values[0]))
        if kind == "list":
            sep = self.bind(_LIST_SEPARATOR)
            return f"strpos(array_to_string(tags, {sep}), {needle}) > 0"
        if cond.op == "prefix":
            return f"starts_with({cond.field}, {needle})"
        return f"strpos({cond.field}, {needle}) > 0"

    def _range(self, cond: Condition, kind: str) -> str:
        parts = [
            f"{cond.field} {_BOUND_OPS[key]} {self.bind(float(value))}"
            for key, value in cond.bounds
        ]
        return "(" + " AND ".join(parts) + ")"

    # -- the filter ----------------------------------------------------------------------------

    def filter(self, flt: IndexFilter) -> list[str]:
        clauses: list[str] = []
        if flt.account_id is not None:
            clauses.append(f"account_id = {self.bind(flt.account_id)}")
        if flt.uri_prefixes and _ROOT not in {normalize_uri(p) for p in flt.uri_prefixes}:
            parts = [self.subtree(p) for p in flt.uri_prefixes]
            clauses.append("(" + " OR ".join(p for p in parts if p is not None) + ")")
        for prefix in flt.exclude_prefixes:
            part = self.subtree(prefix)
            clauses.append("false" if part is None else f"NOT {part}")
        if flt.levels:
            clauses.append(f"level = ANY({self.bind([int(v) for v in flt.levels])}::int[])")
        if flt.context_types:
            clauses.append(f"context_type = ANY({self.bind(list(flt.context_types))}::text[])")
        if flt.parent_uri is not None:
            clauses.append(f"parent_uri = {self.bind(normalize_uri(flt.parent_uri))}")
        if flt.parent_uris:
            parents = [normalize_uri(u) for u in flt.parent_uris]
            clauses.append(f"parent_uri = ANY({self.bind(parents)}::text[])")
        if flt.tags_all:
            clauses.append(f"tags @> {self.bind(list(flt.tags_all))}::text[]")
        if flt.updated_after is not None:
            clauses.append(f"updated_at > {self.bind(float(flt.updated_after))}")
        if flt.updated_before is not None:
            clauses.append(f"updated_at < {self.bind(float(flt.updated_before))}")
        if flt.where is not None:
            clauses.append(self.node(flt.where))
        return clauses


def filter_sql(flt: IndexFilter | None) -> tuple[str, list[Any]]:
    """``(predicate, params)`` for ``flt``: ``"true"`` when nothing is restricted.

    The filter is first rendered by :meth:`IndexFilter.to_sql`, which rejects what LanceDB
    would reject (unknown fields or operators, non-finite numbers, NUL characters, ...), so
    both backends raise the same ``InvalidArgumentError``."""
    if flt is None:
        return "true", []
    flt.to_sql()  # validation only
    sql = _Sql()
    clauses = sql.filter(flt)
    if not clauses:
        return "true", sql.params
    return " AND ".join(clauses), sql.params


def where_clause(flt: IndexFilter | None, *extra: tuple[str, list[Any]]) -> tuple[str, list[Any]]:
    """``WHERE ...`` of ``flt`` and ``extra`` predicates (each ``(sql, params)``), ANDed."""
    sql, params = filter_sql(flt)
    parts = [] if sql == "true" else [f"({sql})"]
    for clause, values in extra:
        parts.append(f"({clause})")
        params = params + values
    if not parts:
        return "", params
    return "WHERE " + " AND ".join(parts), params
