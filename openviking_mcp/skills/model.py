"""The parsed skill and the rule every skill name must follow."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from openviking_mcp.contract.errors import InvalidArgumentError

__all__ = ["MAX_SKILL_NAME_LENGTH", "Skill", "validate_skill_name"]

MAX_SKILL_NAME_LENGTH = 64
_NAME_CHARS = re.compile(r"[A-Za-z0-9_-]+")


def validate_skill_name(name: object) -> str:
    """The trimmed name, or :class:`InvalidArgumentError` naming the ``name`` field.

    A name is a non-empty string of at most 64 ASCII letters, digits, ``-`` or ``_`` once
    surrounding whitespace is removed (it becomes a ``viking://`` path segment).
    """
    if not isinstance(name, str):
        raise InvalidArgumentError(
            f"Invalid skill name: 'name' must be a string, not {type(name).__name__}",
            {"field": "name", "reason": "type"},
        )
    trimmed = name.strip()
    if not trimmed:
        raise InvalidArgumentError(
            "Invalid skill name: 'name' must not be empty", {"field": "name", "reason": "empty"}
        )
    if len(trimmed) > MAX_SKILL_NAME_LENGTH:
        raise InvalidArgumentError(
            f"Invalid skill name: 'name' is {len(trimmed)} characters, "
            f"at most {MAX_SKILL_NAME_LENGTH} allowed",
            {"field": "name", "reason": "too_long", "max_length": MAX_SKILL_NAME_LENGTH},
        )
    if not _NAME_CHARS.fullmatch(trimmed):
        raise InvalidArgumentError(
            f"Invalid skill name {trimmed!r}: 'name' may only contain ASCII letters, digits, "
            "'-' and '_'",
            {"field": "name", "reason": "characters", "value": trimmed},
        )
    return trimmed


class Skill(BaseModel):
    """A skill as parsed from any input format, before storage.

    ``content`` is the Markdown body of SKILL.md *without* front matter;
    :func:`openviking_mcp.skills.render_skill_md` puts the single front-matter block back.
    ``auxiliary`` holds the other files of a directory or zip input as
    ``(relative POSIX path, bytes)`` pairs, sorted by path. ``source`` names the input format:
    ``skill_dict``, ``mcp_tool``, ``skill_md``, ``file``, ``directory`` or ``zip``.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    content: str = ""
    allowed_tools: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    auxiliary: list[tuple[str, bytes]] = Field(default_factory=list)
    source: str = "skill_dict"

    @field_validator("name", mode="before")
    @classmethod
    def _check_name(cls, value: object) -> str:
        # InvalidArgumentError is not a ValueError, so pydantic lets it through unwrapped.
        return validate_skill_name(value)
