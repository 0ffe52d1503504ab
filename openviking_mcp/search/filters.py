"""The ``filter`` of find and search: the original's condition DSL, checked into a small tree.

A filter is one condition (optionally wrapped as ``{"filter": {...}}``)::

    {"op": "and" | "or", "conds": [condition, ...]}
    {"op": "must" | "must_not", "field": F, "conds": [value, ...], "para"?: "-d=N"}
    {"op": "prefix", "field": F, "prefix": "..."}
    {"op": "contains", "field": F, "substring": "..."}
    {"op": "range" | "range_out", "field": F, "gt"?, "gte"?, "lt"?, "lte"?}
    {"op": "time_range", "field": "created_at" | "updated_at", "gte"?, "lte"?, ...}

Fields: ``uri`` (``must`` matches the URI and its subtree; ``para="-d=N"`` limits the depth;
``/resources/x`` is read as ``viking://resources/x``), ``parent_uri``, ``context_type``,
``name``, ``abstract``, ``owner_user_id``, ``account_id``, ``tags`` (alias ``search_tags``;
``must`` means any of the listed ``k=v`` tags), ``level``, ``active_count``, ``created_at``
and ``updated_at`` (epoch seconds, an ISO date/time or a duration ago such as ``7d``).
Anything else, a wrong value type or a malformed node is :class:`InvalidFilterError`
(400 ``INVALID_FILTER``) naming the culprit. Pure: the tree becomes SQL in the index, where
every value is an escaped literal, and it is ANDed with the caller's readable space, so a
filter can only narrow a search.
"""

from __future__ import annotations

import math
import re
from typing import Any

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.search.params import when
from openviking_mcp.storage.index import FILTER_COLUMNS, BoolCondition, Condition, FilterNode

__all__ = ["InvalidFilterError", "parse_filter"]

_ALIASES = {"search_tags": "tags"}
_MAX_DEPTH = 16
_MAX_NODES = 256
_MAX_VALUES = 1000
_MAX_TEXT = 4096
_MAX_NUMBER = 2**53
_BOUNDS = ("gt", "gte", "lt", "lte")
_PARA_RE = re.compile(r"^\s*-d=(-?[0-9]{1,4})\s*$")
#: Keys each operator takes besides ``op``.
_KEYS: dict[str, frozenset[str]] = {
    "and": frozenset({"conds"}),
    "or": frozenset({"conds"}),
    "must": frozenset({"field", "conds", "para"}),
    "must_not": frozenset({"field", "conds", "para"}),
    "prefix": frozenset({"field", "prefix"}),
    "contains": frozenset({"field", "substring"}),
    "range": frozenset({"field", *_BOUNDS}),
    "range_out": frozenset({"field", *_BOUNDS}),
    "time_range": frozenset({"field", *_BOUNDS}),
}


class InvalidFilterError(InvalidArgumentError):
    """A ``filter`` that names an unknown field or operator, or is malformed."""

    code = "INVALID_FILTER"
    default_message = "Invalid filter"


def parse_filter(doc: dict[str, Any] | None) -> FilterNode | None:
    """The checked tree of ``doc``; ``None`` for no filter (``None`` or ``{}``)."""
    if not doc:
        return None
    if set(doc) == {"filter"}:
        return parse_filter(doc["filter"]) if isinstance(doc["filter"], dict) else _bad(doc)
    counter = [0]
    return _node(doc, 0, counter)


def _bad(doc: Any, message: str = "A filter condition must be a JSON object") -> FilterNode:
    raise InvalidFilterError(message, {"filter": _preview(doc)})


def _preview(value: Any) -> str:
    return repr(value)[:200]


def _node(doc: Any, depth: int, counter: list[int]) -> FilterNode:
    if not isinstance(doc, dict):
        return _bad(doc)
    counter[0] += 1
    if depth > _MAX_DEPTH or counter[0] > _MAX_NODES:
        raise InvalidFilterError(
            f"Filter too large (at most {_MAX_NODES} conditions, {_MAX_DEPTH} levels deep)"
        )
    op = doc.get("op")
    if not isinstance(op, str) or op not in _KEYS:
        raise InvalidFilterError(
            f"Unknown filter operator: {_preview(op)}",
            {"op": _preview(op), "allowed": sorted(_KEYS)},
        )
    unknown = sorted(set(doc) - _KEYS[op] - {"op"})
    if unknown:
        raise InvalidFilterError(
            f"Unknown key(s) in a '{op}' condition: {', '.join(unknown)}", {"unknown": unknown}
        )
    if op in ("and", "or"):
        conds = doc.get("conds")
        if not isinstance(conds, list) or not conds:
            raise InvalidFilterError(f"'{op}' needs a non-empty list 'conds'", {"op": op})
        return BoolCondition(op, tuple(_node(c, depth + 1, counter) for c in conds))
    field, kind = _field(doc, op)
    if op in ("must", "must_not"):
        return _must(doc, op, field, kind)
    if op in ("prefix", "contains"):
        key = "prefix" if op == "prefix" else "substring"
        return Condition(op, field, (_value(doc.get(key), field, kind, key),))
    if op == "time_range" and kind != "float":
        raise InvalidFilterError("'time_range' needs created_at or updated_at", {"field": field})
    return _range(doc, "range" if op == "time_range" else op, field, kind)


def _field(doc: dict[str, Any], op: str) -> tuple[str, str]:
    raw = doc.get("field")
    field = _ALIASES.get(raw, raw) if isinstance(raw, str) else raw
    kind = FILTER_COLUMNS.get(field) if isinstance(field, str) else None
    if kind is None or not isinstance(field, str):
        raise InvalidFilterError(
            f"Unknown filter field: {_preview(raw)}",
            {"field": _preview(raw), "allowed": sorted([*FILTER_COLUMNS, *_ALIASES])},
        )
    if op in ("prefix", "contains") and kind not in ("str", "list"):
        raise InvalidFilterError(f"'{op}' needs a text field, not {field}", {"field": field})
    if op == "prefix" and kind == "list":
        raise InvalidFilterError("'prefix' is not supported on tags", {"field": field})
    if op in ("range", "range_out") and kind not in ("int", "float"):
        raise InvalidFilterError(f"'{op}' needs a numeric field, not {field}", {"field": field})
    return field, kind


def _must(doc: dict[str, Any], op: str, field: str, kind: str) -> Condition:
    conds = doc.get("conds")
    items = conds if isinstance(conds, list) else [conds]
    if not items or len(items) > _MAX_VALUES:
        raise InvalidFilterError(
            f"'{op}' needs 1 to {_MAX_VALUES} values in 'conds'", {"field": field}
        )
    depth = None
    para = doc.get("para")
    if para not in (None, ""):
        match = _PARA_RE.match(para) if isinstance(para, str) else None
        if field != "uri" or match is None:
            raise InvalidFilterError(
                "'para' must be '-d=N' and is only for the uri field", {"para": _preview(para)}
            )
        depth = int(match.group(1))
    values = tuple(_value(v, field, kind, "conds") for v in items)
    return Condition(op, field, values, depth=depth)


def _range(doc: dict[str, Any], op: str, field: str, kind: str) -> Condition:
    bounds = tuple((k, float(_number(doc[k], field, kind, k, True))) for k in _BOUNDS if k in doc)
    if not bounds:
        raise InvalidFilterError(f"'{op}' needs gt, gte, lt or lte", {"field": field})
    return Condition(op, field, bounds=bounds)


def _value(value: Any, field: str, kind: str, key: str) -> str | int | float:
    if kind in ("int", "float"):
        return _number(value, field, kind, key)
    if not isinstance(value, str) or len(value) > _MAX_TEXT or "\x00" in value:
        raise InvalidFilterError(
            f"'{key}' of {field} must be a string (at most {_MAX_TEXT} characters, no NUL)",
            {"field": field, "value": _preview(value)},
        )
    if field in ("uri", "parent_uri") and value.startswith("/"):
        return "viking://" + value.strip("/")
    return value


def _number(value: Any, field: str, kind: str, key: str, bound: bool = False) -> int | float:
    """A number of ``field``; integral for ``int`` fields unless it is a range ``bound``."""
    if kind == "float" and isinstance(value, str):
        try:
            moment = when(value, field)
        except InvalidArgumentError:
            moment = None
        if moment is not None:
            return moment
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidFilterError(
            f"'{key}' of {field} must be a number"
            + (", an ISO date/time or a duration" if kind == "float" else ""),
            {"field": field, "value": _preview(value)},
        )
    integral = kind == "int" and not bound
    if not math.isfinite(value) or abs(value) > _MAX_NUMBER or (integral and value != int(value)):
        raise InvalidFilterError(
            f"'{key}' of {field} must be a finite {'integer' if integral else 'number'}",
            {"field": field, "value": _preview(value)},
        )
    return int(value) if kind == "int" else float(value)
