"""The registry of MCP servers: ``/api/v1/mcp-servers`` (docs/mcp-servers.md).

* ``POST /mcp-servers`` ``{name, url, headers | command, env, target_uri,
  refresh_interval_seconds, enabled}`` → ``{server, report}`` (the first import);
* ``GET /mcp-servers`` → the servers the caller may manage; ``GET /mcp-servers/{id}`` one;
* ``PATCH /mcp-servers/{id}`` ``{name, headers, env, refresh_interval_seconds, enabled}``;
* ``DELETE /mcp-servers/{id}?remove_skills=true`` → ``{server, removed_skills}``;
* ``POST /mcp-servers/{id}/refresh`` → ``{server, report}``.

ROOT names the account with ``account_id`` (a query parameter, or a body field on ``POST`` and
``PATCH``). A ``command`` is run only for ROOT or in dev mode (403 otherwise). Header and env
values are never answered. Every other check is the operation's (``mcp_registry/service.py``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from http_api import envelope
from http_api.bodies import STRICT
from http_api.deps import Caller, Service
from openviking_mcp.contract.mcp_servers import RegisterMcpServerRequest, UpdateMcpServerRequest

__all__ = ["RegisterMcpServerBody", "UpdateMcpServerBody", "router"]

router = APIRouter(prefix="/api/v1/mcp-servers", tags=["mcp-servers"])

_Account = Annotated[str | None, Query(description="ROOT only: the account of the servers.")]


def _fields(server_id: str, account_id: str | None) -> dict[str, object]:
    return {"server_id": server_id, **({"account_id": account_id} if account_id else {})}


class RegisterMcpServerBody(RegisterMcpServerRequest):
    """A server to register (unknown fields are refused)."""

    model_config = STRICT


class UpdateMcpServerBody(UpdateMcpServerRequest):
    """What to change; the server's id comes from the path."""

    model_config = STRICT
    server_id: str = ""


@router.post("", summary="Register an MCP server and import its tools as skills")
async def register_mcp_server(
    body: RegisterMcpServerBody, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    allow_command = caller.is_root or service.config.server.effective_auth_mode == "dev"
    arguments = body.model_dump(exclude_none=True)
    result = await service.call(
        caller, "register_mcp_server", arguments, allow_command=allow_command
    )
    return envelope.ok(request, result)


@router.get("", summary="The MCP servers you may manage, with their health")
async def list_mcp_servers(
    request: Request, service: Service, caller: Caller, account_id: _Account = None
) -> JSONResponse:
    arguments = {"account_id": account_id} if account_id else {}
    return envelope.ok(request, await service.call(caller, "list_mcp_servers", arguments))


@router.get("/{server_id}", summary="One registered MCP server and its health")
async def get_mcp_server(
    server_id: str, request: Request, service: Service, caller: Caller, account_id: _Account = None
) -> JSONResponse:
    result = await service.call(caller, "get_mcp_server", _fields(server_id, account_id))
    return envelope.ok(request, result)


@router.patch("/{server_id}", summary="Change a server, or replace its headers or env")
async def update_mcp_server(
    server_id: str,
    body: UpdateMcpServerBody,
    request: Request,
    service: Service,
    caller: Caller,
    account_id: _Account = None,
) -> JSONResponse:
    arguments = {**body.model_dump(exclude_none=True), **_fields(server_id, account_id)}
    return envelope.ok(request, await service.call(caller, "update_mcp_server", arguments))


@router.delete("/{server_id}", summary="Unregister a server (its skills stay unless asked)")
async def delete_mcp_server(
    server_id: str,
    request: Request,
    service: Service,
    caller: Caller,
    remove_skills: Annotated[
        bool, Query(description="Also delete the skills imported from this server.")
    ] = False,
    account_id: _Account = None,
) -> JSONResponse:
    arguments = {**_fields(server_id, account_id), "remove_skills": remove_skills}
    return envelope.ok(request, await service.call(caller, "delete_mcp_server", arguments))


@router.post("/{server_id}/refresh", summary="Refresh a server's skills now")
async def refresh_mcp_server(
    server_id: str, request: Request, service: Service, caller: Caller, account_id: _Account = None
) -> JSONResponse:
    result = await service.call(caller, "refresh_mcp_server", _fields(server_id, account_id))
    return envelope.ok(request, result)
