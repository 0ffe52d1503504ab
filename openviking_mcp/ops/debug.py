"""Debug views of the search index: a health summary, paged rows and counts.

Rows are always scoped to what the caller may read: a USER or ADMIN sees its own account's
rows under ``viking://resources``, ``viking://agent`` and its own user space (the rows of the
namespace roots ``viking://`` and ``viking://user`` themselves are left out); ROOT sees every
account, or one with ``account_id`` (the HTTP layer currently lets ROOT keys reach only
``/debug/health``, so that applies to embedded and CLI callers).

Filters (``vector_count(filter=...)``) are JSON objects, either plain fields::

    {"uri": "viking://resources/docs", "context_type": ["resource"], "level": [0, 1],
     "parent_uri": "...", "tags": ["a"], "updated_after": 1.7e9, "updated_before": 1.8e9,
     "account_id": "acme"}

or the original's VikingDB-style conditions, combined with ``and``::

    {"op": "and", "conds": [
        {"op": "must", "field": "context_type", "conds": ["resource"]},
        {"op": "prefix", "field": "uri", "prefix": "viking://resources/docs"},
        {"op": "range", "field": "updated_at", "gte": 1.7e9}]}

Anything else is refused with 400 ``INVALID_FILTER``; an unusable index is 503 ``NO_VECTOR_DB``.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    OpenVikingError,
    PermissionDeniedError,
    UnavailableError,
)
from openviking_mcp.contract.identity import RequestContext, validate_identifier
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.ops.base import ServiceCore
from openviking_mcp.storage.index import IndexFilter, IndexRecord, VectorIndex

__all__ = ["DebugOps", "InvalidFilterError", "NoVectorDBError"]

_MAX_SCROLL = 1000
_TEXT_PREVIEW = 1000
_PLAIN_FIELDS = frozenset(
    {
        "uri",
        "context_type",
        "level",
        "parent_uri",
        "tags",
        "updated_after",
        "updated_before",
        "account_id",
    }
)

_CONDITION_KEYS = frozenset({"op", "field", "conds", "prefix", "gt", "gte", "lt", "lte"})


class InvalidFilterError(InvalidArgumentError):
    """A debug filter that is not valid JSON or names an unknown field or operator."""

    code = "INVALID_FILTER"
    default_message = "Invalid filter"


class NoVectorDBError(UnavailableError):
    """The search index cannot be used (not open, or built with another model)."""

    code = "NO_VECTOR_DB"
    default_message = "Vector database is not available"


def _strings(value: Any, name: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v for v in items):
        raise InvalidFilterError(f"'{name}' must be a string or a list of strings", {name: value})
    return list(items)


def _ints(value: Any, name: str) -> list[int]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        raise InvalidFilterError(f"'{name}' must be an integer or a list of them", {name: value})
    return list(items)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidFilterError(f"'{name}' must be a finite number", {name: value})
    return float(value)


class _FilterSpec:
    """Constraints collected from a filter document, each field at most once."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def set(self, name: str, value: Any) -> None:
        if name in self.values:
            raise InvalidFilterError(f"Filter sets '{name}' more than once", {"field": name})
        self.values[name] = value

    def plain(self, doc: dict[str, Any]) -> None:
        unknown = sorted(set(doc) - _PLAIN_FIELDS)
        if unknown:
            raise InvalidFilterError(
                f"Unknown filter field(s): {', '.join(unknown)}",
                {"unknown": unknown, "allowed": sorted(_PLAIN_FIELDS)},
            )
        for name, value in doc.items():
            if name in ("uri", "context_type", "tags"):
                self.set(name, _strings(value, name))
            elif name == "level":
                self.set(name, _ints(value, name))
            elif name in ("parent_uri", "account_id"):
                if not isinstance(value, str) or not value:
                    raise InvalidFilterError(f"'{name}' must be a string", {name: value})
                self.set(name, value)
            else:
                self.set(name, _number(value, name))

    def condition(self, doc: dict[str, Any]) -> None:
        op, field = doc.get("op"), doc.get("field")
        unknown = sorted(set(doc) - _CONDITION_KEYS)
        if unknown:
            raise InvalidFilterError(
                f"Unknown key(s) in a filter condition: {', '.join(unknown)}", {"unknown": unknown}
            )
        if op == "and":
            conds = doc.get("conds")
            if not isinstance(conds, list):
                raise InvalidFilterError("'and' needs a list 'conds'", {"filter": doc})
            for cond in conds:
                self.parse(cond)
        elif op == "must" and field in ("context_type", "level", "uri", "parent_uri", "tags"):
            self.plain({str(field): doc.get("conds")})
        elif op == "must" and field == "account_id":
            self.plain({"account_id": (doc.get("conds") or [None])[0]})
        elif op == "prefix" and field == "uri":
            self.plain({"uri": doc.get("prefix")})
        elif op == "range" and field == "updated_at":
            bounds = {k: doc[k] for k in ("gt", "gte", "lt", "lte") if k in doc}
            if not bounds:
                raise InvalidFilterError("'range' needs gt, gte, lt or lte", {"filter": doc})
            for key, value in bounds.items():
                number = _number(value, key)
                if key.startswith("g"):
                    self.set(
                        "updated_after",
                        math.nextafter(number, -math.inf) if key == "gte" else number,
                    )
                else:
                    self.set(
                        "updated_before",
                        math.nextafter(number, math.inf) if key == "lte" else number,
                    )
        else:
            raise InvalidFilterError(
                f"Unsupported filter condition op={op!r} field={field!r}",
                {"op": op, "field": field},
            )

    def parse(self, doc: Any) -> None:
        if not isinstance(doc, dict):
            raise InvalidFilterError("A filter must be a JSON object", {"filter": doc})
        if "op" in doc:
            self.condition(doc)
        else:
            self.plain(doc)


def _record_view(record: IndexRecord, with_vector: bool) -> dict[str, Any]:
    text = record.text
    view: dict[str, Any] = {
        "id": record.id,
        "account_id": record.account_id,
        "uri": record.uri,
        "level": record.level,
        "anchor": record.anchor,
        "context_type": record.context_type,
        "name": record.name,
        "parent_uri": record.parent_uri,
        "owner_user_id": record.owner_user_id,
        "abstract": record.abstract,
        "text": text if len(text) <= _TEXT_PREVIEW else text[:_TEXT_PREVIEW] + "...",
        "text_length": len(text),
        "tags": list(record.tags),
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "active_count": record.active_count,
        "vector_dimension": int(record.vector.shape[0]) if record.vector.ndim else 0,
    }
    if with_vector:
        view["vector"] = [float(x) for x in record.vector]
    return view


class DebugOps(ServiceCore):
    """``/api/v1/debug/vector``: raw index rows and counts."""

    def _debug_index(self) -> VectorIndex:
        try:
            return self._require_index()
        except OpenVikingError as exc:
            raise NoVectorDBError(
                f"Vector database is not available: {exc.message}", {"reason": exc.code}
            ) from None

    def _debug_scope(
        self, ctx: RequestContext, account_id: str | None, uris: list[str]
    ) -> IndexFilter:
        """The caller's readable rows, narrowed to ``account_id`` and URI prefixes."""
        if ctx.is_root:
            account = validate_identifier(account_id, "account_id") if account_id else None
            resolver = RequestContext.root(account or self.config.default_account)
            chosen = tuple(self._resolve(resolver, u).uri for u in uris)
            return IndexFilter(account_id=account, uri_prefixes=chosen)
        if account_id and account_id != ctx.account_id:
            raise PermissionDeniedError(
                "Only ROOT may inspect another account's vectors", {"resource": account_id}
            )
        readable = [
            VikingURI("resources"),
            VikingURI("agent"),
            VikingURI("user", (ctx.user_id,)),
        ]
        wanted = [self._resolve(ctx, u) for u in uris] or [VikingURI("")]
        prefixes: list[str] = []
        for uri in wanted:
            for area in readable:
                if uri.is_ancestor_of(area):
                    prefixes.append(area.uri)
                elif area.is_ancestor_of(uri):
                    prefixes.append(uri.uri)
        if not prefixes:  # e.g. viking://user alone resolves to nothing readable but one's own
            prefixes.append(VikingURI("user", (ctx.user_id,)).uri)
        return IndexFilter(account_id=ctx.account_id, uri_prefixes=tuple(dict.fromkeys(prefixes)))

    def _debug_filter(
        self,
        ctx: RequestContext,
        *,
        account_id: str | None,
        uri: str | None,
        filter_json: str | None = None,
        context_type: str | None = None,
        level: int | None = None,
    ) -> IndexFilter:
        spec = _FilterSpec()
        if filter_json is not None and filter_json.strip():
            try:
                doc = json.loads(filter_json)
            except json.JSONDecodeError as exc:
                raise InvalidFilterError(
                    f"Filter is not valid JSON: {exc.msg}", {"position": exc.pos}
                ) from None
            spec.parse(doc)
        if uri:
            spec.values.setdefault("uri", [])
            spec.values["uri"] = [*spec.values["uri"], uri]
        if context_type:
            spec.set("context_type", [context_type])
        if level is not None:
            spec.set("level", [level])
        values = spec.values
        asked_account = values.get("account_id")
        if asked_account and account_id and asked_account != account_id:
            raise InvalidFilterError(
                "account_id differs between the filter and the query",
                {"filter": asked_account, "query": account_id},
            )
        scope = self._debug_scope(ctx, account_id or asked_account, values.get("uri", []))
        parent = values.get("parent_uri")
        return replace(
            scope,
            context_types=tuple(values.get("context_type", ())),
            levels=tuple(values.get("level", ())),
            tags_all=tuple(t.lower() for t in values.get("tags", ())),
            parent_uri=self._resolve(ctx if not ctx.is_root else RequestContext.root(), parent).uri
            if parent
            else None,
            updated_after=values.get("updated_after"),
            updated_before=values.get("updated_before"),
        )

    async def vector_scroll(
        self,
        ctx: RequestContext,
        *,
        uri: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
        account_id: str | None = None,
        context_type: str | None = None,
        level: int | None = None,
        with_vector: bool = False,
    ) -> dict[str, Any]:
        """A page of index rows in id order: ``{records, next_cursor, count}``."""
        if not 1 <= limit <= _MAX_SCROLL:
            raise InvalidArgumentError(
                f"limit must be between 1 and {_MAX_SCROLL}", {"limit": limit}
            )
        index = self._debug_index()
        flt = self._debug_filter(
            ctx, account_id=account_id, uri=uri, context_type=context_type, level=level
        )
        records, next_cursor = await index.scroll(flt, limit, cursor or None)
        views = [_record_view(r, with_vector) for r in records]
        return {"records": views, "next_cursor": next_cursor, "count": len(views)}

    async def vector_count(
        self,
        ctx: RequestContext,
        *,
        filter_json: str | None = None,
        uri: str | None = None,
        account_id: str | None = None,
    ) -> dict[str, Any]:
        """``{count}`` of the caller's index rows matching the filter."""
        index = self._debug_index()
        flt = self._debug_filter(ctx, account_id=account_id, uri=uri, filter_json=filter_json)
        return {"count": await index.count(flt)}
