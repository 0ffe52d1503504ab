"""Skills: ``/api/v1/skills`` (add, list, find, validate, get, replace, delete).

Over HTTP a skill arrives as data (a skill dict, an MCP tool dict or SKILL.md text) or as a
``temp_file_id`` (an uploaded SKILL.md or zip); a one-line path string is refused with 403, since
the server must not read its own disk on a client's behalf.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from http_api import envelope
from http_api.bodies import STRICT, NonNegativeTimeout, PathRefused, UpstreamFields
from http_api.deps import Caller, Service
from openviking_mcp.contract import skills as skills_contract
from openviking_mcp.contract.base import parse_request, to_wire

__all__ = ["AddSkillBody", "FindSkillsBody", "UpdateSkillBody", "ValidateSkillBody", "router"]

router = APIRouter(prefix="/api/v1/skills", tags=["skills"])

_FromPath = Annotated[PathRefused, Field(exclude=True)]


class AddSkillBody(UpstreamFields, skills_contract.AddSkillRequest):
    """Body of ``POST /api/v1/skills``."""

    model_config = STRICT
    upstream_ignored = frozenset({"source_metadata", "telemetry"})
    # Picking skills out of a multi-skill source, only listing them, or refreshing a skill
    # from its recorded source: ignoring these would install something else.
    upstream_unsupported = frozenset({"from_source", "list_only", "skills"})

    timeout: NonNegativeTimeout = None


class UpdateSkillBody(UpstreamFields, skills_contract.UpdateSkillRequest):
    """Body of ``PUT /api/v1/skills/{skill_name}`` (the name comes from the path)."""

    model_config = STRICT
    upstream_ignored = frozenset({"source_metadata", "telemetry"})
    upstream_unsupported = frozenset({"from_source"})

    skill_name: _FromPath = ""
    timeout: NonNegativeTimeout = None


class FindSkillsBody(UpstreamFields, skills_contract.FindSkillsRequest):
    """Body of ``POST /api/v1/skills/find``."""

    model_config = STRICT
    upstream_ignored = frozenset({"telemetry"})


class ValidateSkillBody(skills_contract.ValidateSkillRequest):
    """Body of ``POST /api/v1/skills/validate``."""

    model_config = STRICT


@router.post("", summary="Add a skill (four formats)")
async def add_skill(
    body: AddSkillBody, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    """Result: ``{status, uri, root_uri (both the skill's folder), skills_root, name,
    auxiliary_files, action, secrets_redacted, task_id, queue_status (with wait)}``; without
    ``target_uri`` the skill goes to the caller's own ``viking://user/{uid}/skills``."""
    added = await service.call(caller, "add_skill", body.model_dump(), allow_paths=False)
    return envelope.ok(request, added)


@router.get("", summary="List the skills the caller can use")
async def list_skills(
    request: Request,
    service: Service,
    caller: Caller,
    node_limit: int = Query(default=1000),
    target_uri: str | None = Query(default=None),
) -> JSONResponse:
    """Result: ``{root_uris (or root_uri with a target), skills, total}``; a private skill
    hides an account skill of the same name."""
    fields = {"node_limit": node_limit, "target_uri": target_uri}
    req = parse_request(skills_contract.SkillsRequest, fields)
    return envelope.ok(request, to_wire(await service.skills.list_page(caller, req)))


@router.post("/find", summary="Find skills by what they do")
async def find_skills(
    body: FindSkillsBody, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    """Result: ``{root_uris (or root_uri), skills, total}``, one hit per skill, best first."""
    return envelope.ok(request, await service.call(caller, "find_skills", body.model_dump()))


@router.post("/validate", summary="Validate a skill without storing it")
async def validate_skill(
    body: ValidateSkillBody, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    """Result: ``{valid, strict, name, description, tags, allowed_tools, body_lines,
    source_path, skill_dir_name, errors, warnings}``."""
    return envelope.ok(request, await service.call(caller, "validate_skill", body.model_dump()))


@router.get("/{skill_name}", summary="One skill: summary, tiers, SKILL.md and files")
async def get_skill(
    skill_name: str,
    request: Request,
    service: Service,
    caller: Caller,
    target_uri: str | None = Query(default=None),
    include_content: bool | None = Query(default=None),
    include_files: bool = Query(default=True),
    include_integrity: bool = Query(default=False),
    include_source: bool = Query(default=False),
    level: int | None = Query(default=None),
) -> JSONResponse:
    arguments = {
        "skill_name": skill_name,
        "target_uri": target_uri,
        "include_content": include_content,
        "include_files": include_files,
        "include_integrity": include_integrity,
        "include_source": include_source,
        "level": level,
    }
    return envelope.ok(request, await service.call(caller, "get_skill", arguments))


@router.put("/{skill_name}", summary="Replace a skill cleanly")
async def update_skill(
    skill_name: str, body: UpdateSkillBody, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    arguments = {**body.model_dump(), "skill_name": skill_name}
    updated = await service.call(caller, "update_skill", arguments, allow_paths=False)
    return envelope.ok(request, updated)


@router.delete("/{skill_name}", summary="Delete a skill")
async def delete_skill(
    skill_name: str,
    request: Request,
    service: Service,
    caller: Caller,
    target_uri: str | None = Query(default=None),
) -> JSONResponse:
    deleted = await service.delete_skill(caller, skill_name, target_uri=target_uri)
    return envelope.ok(request, deleted)
