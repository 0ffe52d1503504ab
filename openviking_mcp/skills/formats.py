"""``parse_skill``: the four input formats of ``add_skill``, in the original's order.

1. a string: a path when it is a single line that looks like one (refused over HTTP with
   :class:`PermissionDeniedError`), otherwise SKILL.md text with YAML front matter;
2. a dict with ``inputSchema``: an MCP tool, converted (:func:`mcp_tool_to_skill`);
3. any other dict: the skill fields themselves (``name``, ``description``, ``content``,
   ``allowed_tools`` or ``allowed-tools``, ``tags``, ``metadata``);
4. a :class:`~pathlib.Path` (or path string): a SKILL.md file, a directory or a zip.

``bytes`` are taken as a zip when they start with the zip signature, else as SKILL.md text.
Every bad input raises :class:`InvalidArgumentError` whose message and ``details["field"]``
name the offending field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openviking_mcp.contract.errors import InvalidArgumentError, PermissionDeniedError
from openviking_mcp.skills._fields import build_skill
from openviking_mcp.skills.bundles import load_skill_path, load_skill_zip
from openviking_mcp.skills.mcp_convert import mcp_tool_to_skill
from openviking_mcp.skills.model import Skill
from openviking_mcp.skills.paths import is_existing_path, looks_like_path
from openviking_mcp.skills.skill_md import parse_skill_md, split_front_matter

__all__ = ["HTTP_PATH_REFUSED", "is_existing_path", "looks_like_path", "parse_skill"]

HTTP_PATH_REFUSED = "HTTP server only accepts raw skill content or temp-uploaded files"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _refuse_path() -> PermissionDeniedError:
    return PermissionDeniedError(HTTP_PATH_REFUSED, {"field": "data"})


def _parse_dict(data: Mapping[str, Any]) -> Skill:
    for key in data:
        if not isinstance(key, str):
            raise InvalidArgumentError(
                "Skill dict keys must be strings", {"field": "data", "reason": "type"}
            )
    content = data.get("content", "")
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise InvalidArgumentError(
            "Skill 'content' must be a string", {"field": "content", "reason": "type"}
        )
    fields: dict[str, Any] = {k: v for k, v in data.items() if k != "content"}
    # Content that carries its own front matter (as the original's MCP conversion produced)
    # gives up that block: its fields fill in what the dict lacks, and one block is stored.
    try:
        parts = split_front_matter(content)
    except InvalidArgumentError:
        parts = None  # a leading "---" rule rather than front matter: the content stays as is
    if parts is not None:
        front, content = parts
        for key, value in front.items():
            if not (key in ("allowed_tools", "allowed-tools") and _has_tools(fields)):
                fields.setdefault(str(key), value)
    # only the name is required, as the original: no description or content is ""
    return build_skill(
        fields, content=content.strip(), source="skill_dict", description_required=False
    )


def _has_tools(fields: Mapping[str, Any]) -> bool:
    return "allowed_tools" in fields or "allowed-tools" in fields


def parse_skill(data: object, *, allow_paths: bool) -> Skill:
    """The skill described by ``data`` (any of the four formats).

    ``allow_paths=False`` (HTTP) refuses paths with :class:`PermissionDeniedError`;
    malformed input raises :class:`InvalidArgumentError`.
    """
    if isinstance(data, Path):
        if not allow_paths:
            raise _refuse_path()
        return load_skill_path(data.expanduser())
    if isinstance(data, str):
        if looks_like_path(data) or (allow_paths and is_existing_path(data)):
            if not allow_paths:
                raise _refuse_path()
            return load_skill_path(Path(data.strip()).expanduser())
        return parse_skill_md(data)
    if isinstance(data, bytes | bytearray):
        raw = bytes(data)
        if raw.startswith(_ZIP_MAGIC):
            return load_skill_zip(raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidArgumentError(
                "Skill data is neither a zip nor UTF-8 SKILL.md text",
                {"field": "data", "reason": "encoding"},
            ) from exc
        return parse_skill_md(text)
    if isinstance(data, Mapping):
        if "inputSchema" in data:
            return mcp_tool_to_skill(data)
        return _parse_dict(data)
    raise InvalidArgumentError(
        f"Unsupported skill data of type {type(data).__name__}: give a skill dict, an MCP tool, "
        "SKILL.md text or a path",
        {"field": "data", "reason": "type"},
    )
