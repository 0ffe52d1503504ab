"""Skills: ``/api/v1/skills`` (add, list, get, replace, delete), the contract of seed 004.

Over HTTP a skill arrives as data (a skill dict, an MCP tool dict or SKILL.md text) or as a
``temp_file_id`` (an uploaded SKILL.md or zip); a one-line path string is refused with 403, since
the server must not read its own disk on a client's behalf.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from http_api import envelope
from http_api.deps import Caller, Service
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.service import ContextService

__all__ = ["AddSkillRequest", "router"]

router = APIRouter(prefix="/api/v1/skills", tags=["skills"])


class AddSkillRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: Any = Field(
        default=None,
        description="Skill dict, MCP tool dict (with inputSchema) or SKILL.md text.",
    )
    temp_file_id: str | None = Field(default=None, description="An uploaded SKILL.md or zip.")
    target_uri: str | None = Field(
        default=None, description="viking://agent/skills (default) or viking://~/skills."
    )
    wait: bool = False
    timeout: float | None = Field(default=None, ge=0)


async def _add(
    service: ContextService,
    caller: RequestContext,
    body: AddSkillRequest,
    expect_name: str | None = None,
) -> dict[str, Any]:
    added: dict[str, Any] = await service.add_skill(
        caller,
        body.data,
        temp_file_id=body.temp_file_id,
        target_uri=body.target_uri,
        wait=body.wait,
        timeout=body.timeout,
        allow_paths=False,
        expect_name=expect_name,
    )
    return added


@router.post("", summary="Add a skill (four formats, seed 004)")
async def add_skill(
    body: AddSkillRequest, request: Request, service: Service, caller: Caller
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
    name: str, body: AddSkillRequest, request: Request, service: Service, caller: Caller
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
