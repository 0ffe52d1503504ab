"""Validating a skill without storing it: the report of ``POST /api/v1/skills/validate``.

The data goes through the same parsing as ``add_skill`` (:func:`parse_skill`, paths refused),
so ``valid`` says whether an add would take it and the report's fields are the skill an add
would store (an MCP tool's name converted, tags and allowed tools normalised). Whatever an add
refuses is an error in both modes: unparsable data (``yaml_format``), a missing name
(``name_required``), a name too long or with other characters than letters, digits, ``-`` and
``_`` (``name_max_length``, ``name_allowed_characters``). The Agent Skills format rules an add
does not enforce are warnings, or errors with ``strict``: the name must match
``skill_dir_name`` (``name_matches_directory``), a description is required
(``description_required``: a skill dict may lack one) and at most 1024 characters long
(``description_max_length``). With ``strict`` a body over 500 lines adds a warning
(``body_max_lines``); secret values an add would replace by placeholders are always a warning
(``secrets_redacted``).
"""

from __future__ import annotations

from openviking_mcp.contract.errors import OpenVikingError
from openviking_mcp.contract.skills import SkillValidation, ValidateSkillRequest, ValidationIssue
from openviking_mcp.skills.formats import parse_skill
from openviking_mcp.skills.model import Skill
from openviking_mcp.skills.secrets import redact
from openviking_mcp.skills.skill_md import render_skill_md

__all__ = ["MAX_BODY_LINES", "MAX_DESCRIPTION_LENGTH", "validate_skill_data"]

MAX_DESCRIPTION_LENGTH = 1024
MAX_BODY_LINES = 500

# The rule of a refused field, by ``details["field"]`` and ``details["reason"]``.
_NAME_RULES = {
    "missing": "name_required",
    "empty": "name_required",
    "type": "name_required",
    "too_long": "name_max_length",
    "characters": "name_allowed_characters",
}


def _issue(rule: str, message: str, field: str | None) -> ValidationIssue:
    return ValidationIssue(rule=rule, message=message, field=field)


def _refusal(exc: OpenVikingError) -> ValidationIssue:
    """The issue of an add's refusal, by the field it names."""
    field, reason = exc.details.get("field"), exc.details.get("reason")
    if field == "name":
        return _issue(_NAME_RULES.get(str(reason), "name_required"), exc.message, "name")
    if field == "description":
        return _issue("description_required", exc.message, "description")
    if field in (None, "data", "frontmatter"):
        return _issue("yaml_format", exc.message, "data")
    return _issue(f"{field}_format".replace("-", "_"), exc.message, str(field))


def _format_issues(skill: Skill, req: ValidateSkillRequest) -> list[ValidationIssue]:
    """The Agent Skills format rules that an add does not enforce."""
    found: list[ValidationIssue] = []
    directory = (req.skill_dir_name or "").strip()
    if directory and skill.name != directory:
        message = f"name '{skill.name}' does not match directory name '{directory}'"
        found.append(_issue("name_matches_directory", message, "name"))
    if not skill.description.strip():
        found.append(_issue("description_required", "description is required", "description"))
    if len(skill.description) > MAX_DESCRIPTION_LENGTH:
        message = f"description must not exceed {MAX_DESCRIPTION_LENGTH} characters"
        found.append(_issue("description_max_length", message, "description"))
    return found


def validate_skill_data(req: ValidateSkillRequest) -> SkillValidation:
    """The validation report of ``req.data`` (see the module docs); nothing is stored."""
    source_path = req.source_path or ""
    try:
        skill = parse_skill(req.data, allow_paths=False)
    except OpenVikingError as exc:
        return SkillValidation(
            valid=False,
            strict=req.strict,
            source_path=source_path,
            errors=[_refusal(exc)],
            warnings=[],
        )
    errors: list[ValidationIssue] = []
    warnings: list[ValidationIssue] = []
    (errors if req.strict else warnings).extend(_format_issues(skill, req))
    body_lines = len(skill.content.splitlines())
    if req.strict and body_lines > MAX_BODY_LINES:
        message = f"SKILL.md body exceeds {MAX_BODY_LINES} lines"
        warnings.append(_issue("body_max_lines", message, "content"))
    _, secrets = redact(render_skill_md(skill), skill.name)
    if secrets:
        message = f"{len(secrets)} secret value(s) would be replaced by placeholders"
        warnings.append(_issue("secrets_redacted", message, "content"))
    return SkillValidation(
        valid=not errors,
        strict=req.strict,
        name=skill.name,
        description=skill.description,
        tags=list(skill.tags),
        allowed_tools=list(skill.allowed_tools),
        body_lines=body_lines,
        source_path=source_path,
        skill_dir_name=req.skill_dir_name or "",
        errors=errors,
        warnings=warnings,
    )
