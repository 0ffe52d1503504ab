"""The filter documents of ``vector_count``: JSON → the constraints they set.

A filter is a JSON object, either plain fields::

    {"uri": "viking://resources/docs", "context_type": ["resource"], "level": [0, 1],
     "parent_uri": "...", "tags": ["a"], "updated_after": 1.7e9, "updated_before": 1.8e9,
     "account_id": "acme"}

or the original's VikingDB-style conditions, combined with ``and``::

    {"op": "and", "conds": [
        {"op": "must", "field": "context_type", "conds": ["resource"]},
        {"op": "prefix", "field": "uri", "prefix": "viking://resources/docs"},
        {"op": "range", "field": "updated_at", "gte": 1.7e9}]}

Each field may be set once. Inclusive bounds (``gte``/``lte``) become the exclusive
``updated_after``/``updated_before`` of the next representable float. Anything else is
:class:`InvalidFilterError` (400 ``INVALID_FILTER``). Pure: no storage, no URIs resolved.
"""

from __future__ import annotations

import json
import math
from typing import Any

from openviking_mcp.contract.errors import InvalidArgumentError

__all__ = ["InvalidFilterError", "collect_filter"]

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

    def time_range(self, doc: dict[str, Any]) -> None:
        """``range`` on ``updated_at``: inclusive bounds move one float outwards."""
        bounds = {k: doc[k] for k in ("gt", "gte", "lt", "lte") if k in doc}
        if not bounds:
            raise InvalidFilterError("'range' needs gt, gte, lt or lte", {"filter": doc})
        for key, value in bounds.items():
            number = _number(value, key)
            if key.startswith("g"):
                self.set(
                    "updated_after", math.nextafter(number, -math.inf) if key == "gte" else number
                )
            else:
                self.set(
                    "updated_before", math.nextafter(number, math.inf) if key == "lte" else number
                )

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
            self.time_range(doc)
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


def _finite(text: str) -> float:
    """A JSON number of a filter; ``1e999``, ``NaN`` and ``Infinity`` are refused."""
    value = float(text)
    if not math.isfinite(value):
        raise InvalidFilterError(f"Filter number out of range: {text[:40]}", {"value": text[:40]})
    return value


def collect_filter(
    filter_json: str | None,
    *,
    uri: str | None = None,
    context_type: str | None = None,
    level: int | None = None,
    account_id: str | None = None,
) -> dict[str, Any]:
    """The constraints of a filter document plus the query's own ``uri``, ``context_type``
    and ``level``; keys are the plain field names (``uri``, ``context_type``, ``level`` and
    ``tags`` as lists). The filter's ``account_id`` must agree with the query's."""
    spec = _FilterSpec()
    if filter_json is not None and filter_json.strip():
        try:
            doc = json.loads(filter_json, parse_float=_finite, parse_constant=_finite)
        except json.JSONDecodeError as exc:
            raise InvalidFilterError(
                f"Filter is not valid JSON: {exc.msg}", {"position": exc.pos}
            ) from None
        spec.parse(doc)
    if uri:
        spec.values["uri"] = [*spec.values.get("uri", []), uri]
    if context_type:
        spec.set("context_type", [context_type])
    if level is not None:
        spec.set("level", [level])
    asked = spec.values.get("account_id")
    if asked and account_id and asked != account_id:
        raise InvalidFilterError(
            "account_id differs between the filter and the query",
            {"filter": asked, "query": account_id},
        )
    return spec.values
