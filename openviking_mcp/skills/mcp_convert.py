"""MCP tool definitions (a dict with ``inputSchema``) turned into skills.

The name has every ``_`` replaced by ``-`` (``search_web`` → ``search-web``); the body is
rendered from ``templates/mcp_tool.md.j2``: a title, the description, a ``## Parameters``
list when the input schema has properties, and the ``## Usage`` sentence of the original.
Each parameter reads ``- **param** (type) (required|optional): description``; enums, defaults,
arrays, nested objects (indented sub-bullets, 2 spaces per level, at most
:data:`MAX_PARAMETER_DEPTH` levels), unions (``string | null``) and ``$ref`` are rendered too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.skills.model import Skill, validate_skill_name

__all__ = ["DEFAULT_MCP_TOOL_NAME", "MAX_PARAMETER_DEPTH", "mcp_tool_to_skill"]

DEFAULT_MCP_TOOL_NAME = "unnamed-tool"
MAX_PARAMETER_DEPTH = 4  # bullet levels: top-level parameters and three nested levels
_TEMPLATE = "mcp_tool.md.j2"


@dataclass(frozen=True)
class _Parameter:
    depth: int
    name: str
    type: str
    required: bool
    detail: str


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("openviking_mcp.skills", "templates"),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """``schema`` with a local ``$ref`` (``#/$defs/X``) followed once; unknown refs as is."""
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or part not in node:
            return schema
        node = node[part]
    return node if isinstance(node, Mapping) else schema


def _type_name(schema: Mapping[str, Any], root: Mapping[str, Any], depth: int = 0) -> str:
    """``string``, ``array of string``, ``string | null``, or ``any`` when the schema says
    nothing about its type."""
    if depth > MAX_PARAMETER_DEPTH:
        return "any"
    ref = schema.get("$ref")
    resolved = _resolve(schema, root)
    if resolved is not schema:
        return _type_name(resolved, root, depth + 1)
    if isinstance(ref, str):
        return ref.rsplit("/", 1)[-1] or "any"
    declared = schema.get("type")
    if isinstance(declared, list):
        names = [str(t) for t in declared]
        return " | ".join(dict.fromkeys(names)) if names else "any"
    if declared == "array":
        items = schema.get("items")
        if isinstance(items, Mapping) and items:
            return f"array of {_type_name(items, root, depth + 1)}"
        return "array"
    if isinstance(declared, str):
        return declared
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            names = [_type_name(o, root, depth + 1) for o in options if isinstance(o, Mapping)]
            return " | ".join(dict.fromkeys(names)) if names else "any"
    if isinstance(schema.get("properties"), Mapping):
        return "object"
    return "any"


def _detail(schema: Mapping[str, Any]) -> str:
    """The description, followed by the allowed values and the default when given."""
    extras: list[str] = []
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        extras.append("one of: " + ", ".join(json.dumps(v, ensure_ascii=False) for v in enum))
    if "default" in schema:
        extras.append(f"default: {json.dumps(schema['default'], ensure_ascii=False)}")
    raw = schema.get("description")
    description = _one_line(raw) if isinstance(raw, str) else ""
    if description and extras:
        return f"{description} ({'; '.join(extras)})"
    return description or "; ".join(extras)


def _nested_object(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """The object whose properties become sub-bullets: the schema itself or, for an array,
    its items (``{}`` when there is none)."""
    if schema.get("type") == "array" and isinstance(schema.get("items"), Mapping):
        schema = _resolve(schema["items"], root)
    properties = schema.get("properties")
    return schema if isinstance(properties, Mapping) and properties else {}


def _parameters(
    schema: Mapping[str, Any], root: Mapping[str, Any], depth: int = 0
) -> list[_Parameter]:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or depth >= MAX_PARAMETER_DEPTH:
        return []
    raw_required = schema.get("required")
    required = set(raw_required) if isinstance(raw_required, list) else set()
    result: list[_Parameter] = []
    for name, raw in properties.items():
        prop = _resolve(raw, root) if isinstance(raw, Mapping) else {}
        if isinstance(raw, Mapping) and "description" in raw:
            prop = {**prop, "description": raw["description"]}
        result.append(
            _Parameter(depth, str(name), _type_name(prop, root), name in required, _detail(prop))
        )
        result.extend(_parameters(_nested_object(prop, root), root, depth + 1))
    return result


def mcp_tool_to_skill(tool: Mapping[str, Any], *, source: Mapping[str, Any] | None = None) -> Skill:
    """The skill of an MCP tool definition (``name``, ``description``, ``inputSchema``).

    ``source`` (e.g. ``{"server": "web", "transport": "stdio"}``) is recorded as
    ``metadata["mcp"] = {**source, "tool": <original tool name>}``. A tool without a
    description is described as ``"MCP tool <name>"``.
    """
    raw_name = tool.get("name")
    if raw_name is None:
        raw_name = DEFAULT_MCP_TOOL_NAME
    if not isinstance(raw_name, str):
        raise InvalidArgumentError(
            "MCP tool 'name' must be a string", {"field": "name", "reason": "type"}
        )
    name = validate_skill_name(raw_name.strip().replace("_", "-") or DEFAULT_MCP_TOOL_NAME)
    raw_description = tool.get("description")
    if raw_description is not None and not isinstance(raw_description, str):
        raise InvalidArgumentError(
            "MCP tool 'description' must be a string", {"field": "description", "reason": "type"}
        )
    description = (raw_description or "").strip() or f"MCP tool {name}"
    schema = tool.get("inputSchema")
    if schema is None:
        schema = {}
    if not isinstance(schema, Mapping):
        raise InvalidArgumentError(
            "MCP tool 'inputSchema' must be a JSON Schema object",
            {"field": "inputSchema", "reason": "type"},
        )
    body = (
        _environment()
        .get_template(_TEMPLATE)
        .render(name=name, description=description, parameters=_parameters(schema, schema))
    )
    metadata: dict[str, Any] = {}
    if source is not None:
        metadata["mcp"] = {**source, "tool": raw_name}
    return Skill(
        name=name, description=description, content=body, metadata=metadata, source="mcp_tool"
    )
