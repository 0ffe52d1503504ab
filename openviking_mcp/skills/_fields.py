"""Loose skill fields (a dict or YAML front matter) checked and turned into a :class:`Skill`."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.skills.model import Skill

__all__ = ["build_skill", "parse_allowed_tools"]

# Keys with a field of their own; any other key of the input is kept in ``metadata``.
_KNOWN_KEYS = frozenset(
    {"name", "description", "content", "allowed_tools", "allowed-tools", "tags", "metadata"}
)
_MAX_METADATA_NODES = 10_000


def _invalid(message: str, field: str, **details: Any) -> InvalidArgumentError:
    return InvalidArgumentError(message, {"field": field, **details})


def parse_allowed_tools(value: object, field: str = "allowed-tools") -> list[str]:
    """``allowed-tools`` as a list: a list of strings, or one string separated by spaces or
    commas where parentheses may contain both (``"Bash(git add:*) Read, Write"``)."""
    if value is None:
        return []
    if isinstance(value, str):
        return _split_tools(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    raise _invalid(
        f"Skill '{field}' must be a list of strings or a space/comma separated string",
        field,
    )


def _split_tools(text: str) -> list[str]:
    tools: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        if depth == 0 and (char.isspace() or char == ","):
            if current:
                tools.append("".join(current))
                current = []
            continue
        current.append(char)
    if current:
        tools.append("".join(current))
    return tools


def _parse_tags(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        items = value
    else:
        raise _invalid("Skill 'tags' must be a string or a list of strings", "tags")
    tags: list[str] = []
    for item in items:
        tag = item.strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def _jsonable(value: object, budget: list[int], field: str) -> Any:
    """A JSON-able copy of YAML/JSON data (dates as ISO strings, keys as strings); the node
    budget stops alias bombs (``&a [*a, *a, ...]``) from expanding without bound."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _invalid(f"Skill '{field}' is too large", field)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, _dt.date | _dt.datetime | _dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, budget, field) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v, budget, field) for v in value]
    raise _invalid(
        f"Skill '{field}' holds a value of unsupported type {type(value).__name__}", field
    )


def _parse_metadata(fields: Mapping[str, Any]) -> dict[str, Any]:
    budget = [_MAX_METADATA_NODES]
    raw = fields.get("metadata")
    if raw is None:
        metadata: dict[str, Any] = {}
    elif isinstance(raw, Mapping):
        metadata = _jsonable(raw, budget, "metadata")
    else:
        raise _invalid("Skill 'metadata' must be a mapping", "metadata")
    for key, value in fields.items():
        if str(key) not in _KNOWN_KEYS:
            metadata.setdefault(str(key), _jsonable(value, budget, str(key)))
    return metadata


def _required_text(fields: Mapping[str, Any], field: str) -> str:
    value = fields.get(field)
    if value is None:
        raise _invalid(f"Skill must have '{field}' field", field, reason="missing")
    if not isinstance(value, str):
        raise _invalid(
            f"Skill '{field}' must be a string, not {type(value).__name__}", field, reason="type"
        )
    return value


def build_skill(
    fields: Mapping[str, Any],
    *,
    content: str,
    source: str,
    auxiliary: Iterable[tuple[str, bytes]] = (),
    description_required: bool = True,
) -> Skill:
    """Check ``fields`` (name, description, allowed tools, tags, metadata) and build the skill.

    Keys other than the known ones are kept in ``metadata`` (never overwriting its own keys).
    ``description_required=False`` (a skill dict, as the original) lets a missing or empty
    description be ``""``.
    """
    name = _required_text(fields, "name")
    if description_required or fields.get("description") is not None:
        description = _required_text(fields, "description").strip()
    else:
        description = ""
    if not description and description_required:
        raise _invalid("Skill 'description' must not be empty", "description", reason="empty")
    if "allowed_tools" in fields and "allowed-tools" in fields:
        raise _invalid(
            "Skill gives both 'allowed_tools' and 'allowed-tools'; use one", "allowed_tools"
        )
    tools_key = "allowed_tools" if "allowed_tools" in fields else "allowed-tools"
    return Skill(
        name=name,
        description=description,
        content=content,
        allowed_tools=parse_allowed_tools(fields.get(tools_key), tools_key),
        tags=_parse_tags(fields.get("tags")),
        metadata=_parse_metadata(fields),
        auxiliary=sorted(auxiliary),
        source=source,
    )
