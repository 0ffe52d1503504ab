"""Portable JSON schemas: no ``anyOf``/``oneOf``/``$ref``, a ``type`` on every node.

Some model APIs reject tool schemas with unions or references. Pydantic writes an optional
parameter as ``anyOf: [{type: X}, {type: null}]`` and nested models as ``$ref``; this rewrites
those into the plain form (the non-null branch, references inlined). Validation still runs on
the pydantic model, which stays as lenient as before.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["portable_schema"]

_COMBINATORS = ("anyOf", "oneOf")


def portable_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` without unions or references."""
    root = copy.deepcopy(schema)
    defs: dict[str, Any] = {**root.pop("$defs", {}), **root.pop("definitions", {})}
    out: dict[str, Any] = _node(root, defs, depth=0)
    return out


def _node(node: Any, defs: dict[str, Any], depth: int) -> Any:
    if isinstance(node, list):
        return [_node(item, defs, depth) for item in node]
    if not isinstance(node, dict):
        return node
    if depth > 32:  # a recursive model: stop with a permissive object
        return {"type": "object"}
    node = dict(node)
    ref = node.pop("$ref", None)
    if isinstance(ref, str):
        target = defs.get(ref.rsplit("/", 1)[-1], {})
        node = {**copy.deepcopy(target), **node}
        depth += 1
    for key in _COMBINATORS:
        branches = node.pop(key, None)
        if isinstance(branches, list):
            node = {**_collapse(branches, defs, depth), **node}
    if "allOf" in node and isinstance(node["allOf"], list) and len(node["allOf"]) == 1:
        node = {**_node(node.pop("allOf")[0], defs, depth + 1), **node}
    out = {key: _child(key, value, defs, depth) for key, value in node.items()}
    if out.get("default", 0) is None:
        del out["default"]
    if "type" not in out and out:  # ``{}`` (any value) stays as it is
        out["type"] = _guess_type(out)
    elif isinstance(out["type"], list):
        kinds = [t for t in out["type"] if t != "null"]
        out["type"] = kinds[0] if kinds else "string"
    return out


def _child(key: str, value: Any, defs: dict[str, Any], depth: int) -> Any:
    if key == "properties" and isinstance(value, dict):
        return {name: _node(sub, defs, depth) for name, sub in value.items()}
    if key in ("items", "additionalProperties") and isinstance(value, dict | list):
        return _node(value, defs, depth)
    return value


def _collapse(branches: list[Any], defs: dict[str, Any], depth: int) -> dict[str, Any]:
    """The first non-null branch (a nullable type becomes the type itself)."""
    real = [b for b in branches if not (isinstance(b, dict) and b.get("type") == "null")]
    if not real:
        return {"type": "string"}
    first = _node(real[0], defs, depth)
    return dict(first) if isinstance(first, dict) else {"type": "string"}


def _guess_type(node: dict[str, Any]) -> str:
    if "properties" in node or "additionalProperties" in node:
        return "object"
    if "items" in node:
        return "array"
    if node.get("enum"):
        value = node["enum"][0]
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "integer"
        if isinstance(value, float):
            return "number"
        return "string"
    return "string"
