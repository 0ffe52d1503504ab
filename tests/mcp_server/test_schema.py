"""Portable schemas: unions collapsed, references inlined, a type on every node."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from openviking_mcp.mcp_server import portable_schema


class Inner(BaseModel):
    name: str
    size: int | None = None


class Outer(BaseModel):
    items: list[Inner]
    best: Inner | None = None
    threshold: float | None = None
    tags: dict[str, list[str]] = {}


def _walk(node: Any) -> list[dict[str, Any]]:
    """Every schema node below ``node`` (a schema)."""
    out: list[dict[str, Any]] = [node]
    for sub in node.get("properties", {}).values():
        out += _walk(sub)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            out += _walk(node[key])
    return out


def test_pydantic_schema_becomes_portable() -> None:
    raw = Outer.model_json_schema()
    assert "anyOf" in json.dumps(raw)
    assert "$ref" in json.dumps(raw)
    schema = portable_schema(raw)
    text = json.dumps(schema)
    assert "anyOf" not in text
    assert "oneOf" not in text
    assert "$ref" not in text
    assert "$defs" not in schema
    props = schema["properties"]
    assert props["threshold"]["type"] == "number"
    assert "default" not in props["threshold"]  # a null default is dropped
    assert props["best"]["type"] == "object"
    assert props["best"]["properties"]["size"]["type"] == "integer"
    assert props["items"]["items"]["properties"]["name"]["type"] == "string"
    assert props["tags"]["additionalProperties"]["items"]["type"] == "string"
    # the input is not modified
    assert "anyOf" in json.dumps(raw)


def test_every_typed_node_keeps_a_type() -> None:
    schema = portable_schema(Outer.model_json_schema())
    nodes = _walk(schema)
    assert len(nodes) > 8
    for node in nodes:
        assert "type" in node, node


def test_recursive_model_terminates() -> None:
    class Tree(BaseModel):
        label: str
        children: list[Tree] = []

    schema = portable_schema(Tree.model_json_schema())
    assert "$ref" not in json.dumps(schema)
    assert schema["properties"]["children"]["type"] == "array"


def test_nullable_type_lists_and_enums() -> None:
    schema = portable_schema(
        {
            "type": "object",
            "properties": {
                "a": {"type": ["string", "null"]},
                "b": {"enum": [1, 2]},
                "c": {"anyOf": [{"type": "null"}]},
            },
        }
    )
    assert schema["properties"]["a"]["type"] == "string"
    assert schema["properties"]["b"]["type"] == "integer"
    assert schema["properties"]["c"]["type"] == "string"
