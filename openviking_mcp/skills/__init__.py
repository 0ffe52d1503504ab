"""Skills, the pure core: parse any accepted input format into a :class:`Skill`, convert
MCP tool definitions, render the stored SKILL.md and find secrets to redact.

Nothing here touches storage or the service; see ``README.md`` and
:mod:`openviking_mcp.contract.skills` for the contract.

The names below load their modules on first use, so a light submodule (``skills.paths``, which
the HTTP clients use) never pays for the skill models, YAML or the MCP conversion.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openviking_mcp._lazy import lazy_exports

if TYPE_CHECKING:
    from openviking_mcp.skills.bundles import (
        MAX_BUNDLE_BYTES,
        MAX_BUNDLE_FILES,
        load_skill_directory,
        load_skill_path,
        load_skill_zip,
    )
    from openviking_mcp.skills.formats import HTTP_PATH_REFUSED, parse_skill
    from openviking_mcp.skills.mcp_convert import mcp_tool_to_skill
    from openviking_mcp.skills.model import MAX_SKILL_NAME_LENGTH, Skill, validate_skill_name
    from openviking_mcp.skills.paths import looks_like_path
    from openviking_mcp.skills.secrets import Secret, find_secrets, placeholder, redact, restore
    from openviking_mcp.skills.skill_md import parse_skill_md, render_skill_md, split_front_matter

__all__ = [
    "HTTP_PATH_REFUSED",
    "MAX_BUNDLE_BYTES",
    "MAX_BUNDLE_FILES",
    "MAX_SKILL_NAME_LENGTH",
    "Secret",
    "Skill",
    "find_secrets",
    "load_skill_directory",
    "load_skill_path",
    "load_skill_zip",
    "looks_like_path",
    "mcp_tool_to_skill",
    "parse_skill",
    "parse_skill_md",
    "placeholder",
    "redact",
    "render_skill_md",
    "restore",
    "split_front_matter",
    "validate_skill_name",
]

_LAZY = {
    "MAX_BUNDLE_BYTES": "openviking_mcp.skills.bundles",
    "MAX_BUNDLE_FILES": "openviking_mcp.skills.bundles",
    "load_skill_directory": "openviking_mcp.skills.bundles",
    "load_skill_path": "openviking_mcp.skills.bundles",
    "load_skill_zip": "openviking_mcp.skills.bundles",
    "HTTP_PATH_REFUSED": "openviking_mcp.skills.formats",
    "parse_skill": "openviking_mcp.skills.formats",
    "looks_like_path": "openviking_mcp.skills.paths",
    "mcp_tool_to_skill": "openviking_mcp.skills.mcp_convert",
    "MAX_SKILL_NAME_LENGTH": "openviking_mcp.skills.model",
    "Skill": "openviking_mcp.skills.model",
    "validate_skill_name": "openviking_mcp.skills.model",
    "Secret": "openviking_mcp.skills.secrets",
    "find_secrets": "openviking_mcp.skills.secrets",
    "placeholder": "openviking_mcp.skills.secrets",
    "redact": "openviking_mcp.skills.secrets",
    "restore": "openviking_mcp.skills.secrets",
    "parse_skill_md": "openviking_mcp.skills.skill_md",
    "render_skill_md": "openviking_mcp.skills.skill_md",
    "split_front_matter": "openviking_mcp.skills.skill_md",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__, globals())
