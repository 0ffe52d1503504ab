"""The skill tools: ``add_skill`` (the four ways to give a skill as separate, schema-friendly
fields), ``find_skills`` (search skills by what they do) and ``validate_skill`` (check one
without storing it)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.mcp_server._models import (
    AddSkillResult,
    FindSkillsResult,
    SkillValidationResult,
)
from openviking_mcp.mcp_server._runtime import Runtime
from openviking_mcp.mcp_server._uploads import upload_instructions
from openviking_mcp.mcp_server.tools._common import (
    READ_ONLY,
    Limit,
    Query,
    Threshold,
    ToolRegistry,
    run_tool,
)

__all__ = ["add_skill", "find_skills", "register", "validate_skill"]

SkillsRoot = Annotated[
    str,
    Field(description="Only this root: viking://agent/skills or viking://~/skills (empty: both)."),
]


def _added_text(result: dict[str, Any]) -> str:
    verb = "Updated" if result["action"] == "update" else "Added"
    text = f"{verb} skill {result['name']}: {result['uri']}"
    if result["auxiliary_files"]:
        text += f" ({result['auxiliary_files']} auxiliary file(s))"
    if result.get("secrets_redacted"):
        text += (
            f"\n{result['secrets_redacted']} secret value(s) were replaced by "
            "placeholders; only you see them restored."
        )
    return text


async def add_skill(
    ctx: Context,
    skill_md: Annotated[str, Field(description="SKILL.md text with front matter.")] = "",
    skill: Annotated[
        dict[str, Any],
        Field(description="A skill object or an MCP tool definition (with inputSchema)."),
    ] = {},  # noqa: B006 - pydantic copies defaults
    path: Annotated[str, Field(description="Local SKILL.md, skill folder or zip.")] = "",
    temp_file_id: Annotated[str, Field(description="Id of an uploaded SKILL.md/zip.")] = "",
    target_uri: Annotated[
        str,
        Field(description="viking://~/skills (default: yours) or viking://agent/skills (shared)."),
    ] = "",
    wait: Annotated[bool, Field(description="Block until the skill is indexed.")] = False,
) -> Annotated[CallToolResult, AddSkillResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, AddSkillResult]:
        given = [v for v in (skill_md, skill, path, temp_file_id) if v]
        if len(given) != 1:
            raise InvalidArgumentError("Give exactly one of skill_md, skill, path or temp_file_id")
        if path and rt.caller is None:  # over HTTP the server cannot read the client's disk
            text, upload = await upload_instructions(rt, ctx, caller, path, "add_skill")
            return text, AddSkillResult.model_validate(upload.model_dump())
        data: object = skill_md or skill or path or None
        result = await rt.service.add_skill(
            caller,
            data,
            temp_file_id=temp_file_id or None,
            target_uri=target_uri or None,
            wait=wait,
            allow_paths=rt.caller is not None,
        )
        return _added_text(result), AddSkillResult.model_validate(result)

    return await run_tool(ctx, run)


def _found_text(result: dict[str, Any]) -> str:
    if not result["skills"]:
        return "No matching skills."
    lines = [
        f"{i}. {hit['name']} ({hit['score']:.2f}): {hit['description']}\n   {hit['skill_md_uri']}"
        for i, hit in enumerate(result["skills"], 1)
    ]
    return "\n".join(lines)


async def find_skills(
    query: Query,
    ctx: Context,
    limit: Limit = 10,
    score_threshold: Threshold = None,
    target_uri: SkillsRoot = "",
) -> Annotated[CallToolResult, FindSkillsResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, FindSkillsResult]:
        result = await rt.service.find_skills(
            caller,
            query,
            limit=limit,
            score_threshold=score_threshold,
            target_uri=target_uri or None,
        )
        return _found_text(result), FindSkillsResult.model_validate(result)

    return await run_tool(ctx, run)


def _report_text(report: dict[str, Any]) -> str:
    head = "Valid" if report["valid"] else "Not valid"
    if report.get("name"):
        head += f": skill {report['name']}"
    lines = [head]
    for kind in ("errors", "warnings"):
        for issue in report[kind]:
            lines.append(f"- {kind[:-1]} [{issue['rule']}]: {issue['message']}")
    return "\n".join(lines)


async def validate_skill(
    ctx: Context,
    skill_md: Annotated[str, Field(description="SKILL.md text with front matter.")] = "",
    skill: Annotated[
        dict[str, Any],
        Field(description="A skill object or an MCP tool definition (with inputSchema)."),
    ] = {},  # noqa: B006 - pydantic copies defaults
    strict: Annotated[
        bool, Field(description="Agent Skills format rules are errors, not warnings.")
    ] = False,
    skill_dir_name: Annotated[
        str, Field(description="The folder the skill lives in: its name must match.")
    ] = "",
) -> Annotated[CallToolResult, SkillValidationResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, SkillValidationResult]:
        if bool(skill_md) == bool(skill):
            raise InvalidArgumentError("Give exactly one of skill_md or skill")
        report = await rt.service.validate_skill(
            caller, skill_md or skill, strict=strict, skill_dir_name=skill_dir_name or None
        )
        return _report_text(report), SkillValidationResult.model_validate(report)

    return await run_tool(ctx, run)


def register(tools: ToolRegistry) -> None:
    tools.add(
        add_skill,
        "add_skill",
        ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
        ),
        "Store a skill (a reusable capability with instructions) so agents can find and "
        "follow it. Give exactly one of: skill_md (SKILL.md text with YAML front matter "
        "holding name and description), skill (an object: {name, description, content, "
        "allowed_tools, tags}, or an MCP tool definition with inputSchema, converted to "
        "SKILL.md), path (a local SKILL.md, folder or zip) or temp_file_id (an upload). A "
        "skill with the same name is replaced. Stored in your own viking://~/skills/{name} "
        "(target_uri='viking://agent/skills' shares it with the whole account).",
    )
    tools.add(
        find_skills,
        "find_skills",
        READ_ONLY,
        "Find stored skills by what they do (semantic + keyword search over the skills' "
        "names, descriptions and SKILL.md). One hit per skill, best first, with its name, "
        "description, score and skill_md_uri (read that file for the instructions).",
    )
    tools.add(
        validate_skill,
        "validate_skill",
        READ_ONLY,
        "Check a skill without storing it: whether add_skill would accept it, the name and "
        "description it would get, and errors/warnings (strict: the Agent Skills format rules "
        "are errors). Give exactly one of skill_md or skill.",
    )
