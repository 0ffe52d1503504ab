"""Skills: ``/api/v1/skills`` (add, list, get, replace, delete), the contract of seed 004.

Over HTTP a skill arrives as data (a skill dict, an MCP tool dict or SKILL.md text) or as a
``temp_file_id`` (an uploaded SKILL.md or zip); a one-line path string is refused with 403, since
the server must not read its own disk on a client's behalf.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator, Field
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from http_api import envelope
from http_api.bodies import STRICT, NonNegativeTimeout, UpstreamFields
from http_api.deps import Caller, Service
from openviking_mcp.contract import skills as skills_contract
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.service import ContextService

__all__ = ["AddSkillBody", "router"]

router = APIRouter(prefix="/api/v1/skills", tags=["skills"])


def _not_in_body(value: object) -> object:
    raise PydanticCustomError("extra_forbidden", "Extra inputs are not permitted")


class AddSkillBody(UpstreamFields, skills_contract.AddSkillRequest):
    """Body of ``POST /api/v1/skills`` and ``PUT /api/v1/skills/{name}``."""

    model_config = STRICT
    upstream_ignored = frozenset({"source_metadata", "telemetry"})
    # Picking skills out of a multi-skill source, only listing them, or refreshing a skill
    # from its recorded source: ignoring these would install something else.
    upstream_unsupported = frozenset({"from_source", "list_only", "skills"})

    timeout: NonNegativeTimeout = None
    # Set by the route (the path's name on PUT), never by a client: left out of the body
    # schema and of ``model_dump``, and refused in the body like any unknown field.
    expect_name: Annotated[
        SkipJsonSchema[str | None], BeforeValidator(_not_in_body), Field(exclude=True)
    ] = None


async def _add(
    service: ContextService,
    caller: RequestContext,
    body: AddSkillBody,
    expect_name: str | None = None,
) -> dict[str, Any]:
    arguments = {**body.model_dump(), "expect_name": expect_name}
    added: dict[str, Any] = await service.call(caller, "add_skill", arguments, allow_paths=False)
    return added


@router.post("", summary="Add a skill (four formats, seed 004)")
async def add_skill(
    body: AddSkillBody, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await _add(service, caller, body))


@router.get("", summary="List the skills the caller can use")
async def list_skills(
    request: Request,
    service: Service,
    caller: Caller,
    target_uri: str | None = Query(default=None),
) -> JSONResponse:
    skills = await service.list_skills(caller, target_uri)
    return envelope.ok(request, {"skills": skills, "total": len(skills)})


@router.get("/{name}", summary="One skill: summary, tiers, SKILL.md and files")
async def get_skill(
    name: str,
    request: Request,
    service: Service,
    caller: Caller,
    target_uri: str | None = Query(default=None),
) -> JSONResponse:
    return envelope.ok(request, await service.get_skill(caller, name, target_uri=target_uri))


@router.put("/{name}", summary="Replace a skill cleanly")
async def replace_skill(
    name: str, body: AddSkillBody, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    await service.get_skill(caller, name, target_uri=body.target_uri)  # 404 if missing
    return envelope.ok(request, await _add(service, caller, body, expect_name=name))


@router.delete("/{name}", summary="Delete a skill")
async def delete_skill(
    name: str,
    request: Request,
    service: Service,
    caller: Caller,
    target_uri: str | None = Query(default=None),
) -> JSONResponse:
    return envelope.ok(request, await service.delete_skill(caller, name, target_uri=target_uri))
