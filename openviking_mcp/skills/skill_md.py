"""The SKILL.md text format: YAML front matter between ``---`` lines, then a Markdown body.

:func:`parse_skill_md` reads it; :func:`render_skill_md` writes the file that gets stored:
**one** front-matter block (``name``, ``description``, then ``allowed-tools``, ``tags`` and
``metadata`` only when non-empty), a blank line, the body, and exactly one trailing
``"\\n"``. The original stored MCP skills with two consecutive front-matter
blocks; this clone consciously writes one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.skills._fields import build_skill
from openviking_mcp.skills.model import Skill

__all__ = ["parse_skill_md", "render_skill_md", "split_front_matter"]

_FENCE = "---"
_MAX_FRONT_MATTER_CHARS = 256 * 1024


def _is_fence(line: str) -> bool:
    return line.rstrip(" \t\r") == _FENCE


def split_front_matter(text: str) -> tuple[dict[str, Any], str] | None:
    """``(front matter mapping, stripped body)``, or ``None`` when ``text`` does not start with
    a ``---`` line. Invalid YAML, an unclosed block or a non-mapping raise
    :class:`InvalidArgumentError` (``details.field == "frontmatter"``)."""
    lines = text.removeprefix("\ufeff").split("\n")
    if not lines or not _is_fence(lines[0]):
        return None
    end = next((i for i in range(1, len(lines)) if _is_fence(lines[i])), None)
    if end is None:
        raise InvalidArgumentError(
            "SKILL.md front matter is not closed: no '---' line after the opening one",
            {"field": "frontmatter", "reason": "unclosed"},
        )
    source = "\n".join(lines[1:end])
    if len(source) > _MAX_FRONT_MATTER_CHARS:
        raise InvalidArgumentError(
            "SKILL.md front matter is too large",
            {"field": "frontmatter", "reason": "too_large"},
        )
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        # +2: marks count from 0 and the YAML starts on the line after the opening "---".
        line = mark.line + 2 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        where = f" (line {line})" if line is not None else ""
        raise InvalidArgumentError(
            f"Invalid YAML in SKILL.md front matter{where}: {problem}",
            {"field": "frontmatter", "reason": "yaml", "line": line},
        ) from exc
    if not isinstance(data, dict):
        raise InvalidArgumentError(
            f"SKILL.md front matter must be a YAML mapping, not {type(data).__name__}",
            {"field": "frontmatter", "reason": "not_mapping"},
        )
    body = "\n".join(lines[end + 1 :]).strip()
    return data, body


def parse_skill_md(
    text: str, *, source: str = "skill_md", auxiliary: Iterable[tuple[str, bytes]] = ()
) -> Skill:
    """The skill of a SKILL.md text; it must start with front matter holding ``name`` and
    ``description`` (else :class:`InvalidArgumentError`)."""
    parts = split_front_matter(text)
    if parts is None:
        raise InvalidArgumentError(
            "SKILL.md must have YAML frontmatter", {"field": "frontmatter", "reason": "missing"}
        )
    fields, body = parts
    return build_skill(fields, content=body, source=source, auxiliary=auxiliary)


class _Dumper(yaml.SafeDumper):
    """Safe YAML with list items indented under their key (``tags:\\n  - web``)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _front_matter(skill: Skill) -> str:
    fields: dict[str, Any] = {"name": skill.name, "description": skill.description}
    if skill.allowed_tools:
        fields["allowed-tools"] = list(skill.allowed_tools)
    if skill.tags:
        fields["tags"] = list(skill.tags)
    if skill.metadata:
        fields["metadata"] = skill.metadata
    # Plain scalars when YAML allows them (``name: search-web``), quoted otherwise, so the block
    # always parses back to the same values; no line folding, insertion order kept.
    return yaml.dump(
        fields,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1 << 30,
    )


def render_skill_md(skill: Skill) -> str:
    """The full SKILL.md of ``skill``: one front-matter block, a blank line, the body, and
    exactly one trailing newline (the front matter alone when the body is empty)."""
    head = f"{_FENCE}\n{_front_matter(skill)}{_FENCE}\n"
    body = skill.content.strip()
    return f"{head}\n{body}\n" if body else head
