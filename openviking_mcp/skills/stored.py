"""A stored skill folder as callers see it: the SKILL.md split, the L0 text and the summary.

Pure functions over text and URIs; the skill service reads and writes the folders.
"""

from __future__ import annotations

from typing import Any

from openviking_mcp.contract.errors import OpenVikingError
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.skills.bundles import SKILL_FILE
from openviking_mcp.skills.model import Skill
from openviking_mcp.skills.skill_md import split_front_matter

__all__ = [
    "SKILL_COMPONENT",
    "SKILL_FILE",
    "is_skill_md",
    "skill_abstract",
    "skill_summary",
    "split_skill_md",
]

#: ``generated_by.component`` of a skill's L0 sidecar: refreshes keep it (see indexing).
SKILL_COMPONENT = "skill"


def split_skill_md(text: str) -> tuple[dict[str, Any], str]:
    """``(front matter, body)`` of a stored SKILL.md; unreadable front matter counts as none."""
    try:
        parts = split_front_matter(text)
    except OpenVikingError:
        parts = None
    return parts if parts is not None else ({}, text.strip())


def skill_abstract(skill: Skill) -> str:
    """The L0 of a skill: its name and description (and tags)."""
    text = f"{skill.name}: {skill.description}"
    return f"{text}\nTags: {', '.join(skill.tags)}" if skill.tags else text


def is_skill_md(uri: VikingURI) -> bool:
    """Whether ``uri`` is the SKILL.md of an account skill or of a user's private skill."""
    parts = uri.parts
    return uri.name == SKILL_FILE and (
        (len(parts) == 4 and parts[:2] == ("agent", "skills"))
        or (len(parts) == 5 and parts[0] == "user" and parts[2] == "skills")
    )


def skill_summary(
    meta: dict[str, Any], body: str, name: str, directory: VikingURI, root: VikingURI
) -> dict[str, Any]:
    """The summary fields of the skill folder ``directory`` in the skills root ``root``, from
    its front matter (the folder name and the body's first line fill in): ``uri`` and
    ``root_uri`` name the folder, ``skills_root`` the root."""
    metadata = meta.get("metadata")
    return {
        "type": "skill",
        "name": str(meta.get("name") or name),
        "description": str(meta.get("description") or _first_line(body)),
        "uri": directory.uri,
        "root_uri": directory.uri,
        "skill_md_uri": directory.join(SKILL_FILE).uri,
        "skills_root": root.uri,
        "scope": "agent" if root.scope == "agent" else "user",
        "tags": list(meta.get("tags") or []),
        "allowed_tools": list(meta.get("allowed-tools") or []),
        "metadata": metadata if isinstance(metadata, dict) else {},
    }


def _first_line(body: str) -> str:
    for line in body.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return ""
