"""Skills, the pure core: parse any input format of seed 004 into a :class:`Skill`, convert
MCP tool definitions, render the stored SKILL.md and find secrets to redact (§6).

Nothing here touches storage or the service; see ``README.md`` and
``/work/shared/reference/openviking-behaviour.md`` §6 for the contract.
"""

from openviking_mcp.skills.bundles import (
    MAX_BUNDLE_BYTES,
    MAX_BUNDLE_FILES,
    load_skill_directory,
    load_skill_path,
    load_skill_zip,
)
from openviking_mcp.skills.formats import HTTP_PATH_REFUSED, looks_like_path, parse_skill
from openviking_mcp.skills.mcp_convert import mcp_tool_to_skill
from openviking_mcp.skills.model import MAX_SKILL_NAME_LENGTH, Skill, validate_skill_name
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
