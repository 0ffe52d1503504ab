"""The console's MCP servers page: the registered servers with their health, a refresh button
each, and the form that registers one (docs/mcp-servers.md).

Every action is the same operation as ``/api/v1/mcp-servers`` (``ContextService.call``, so the
scopes, the audit log and the registry's own checks apply unchanged). Header and env values are
write-only: the page shows their names. A refresh that cannot reach its server shows the error
as the server's health rather than an error page.
"""

from __future__ import annotations

import shlex
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response

from http_api.console._web import PREFIX, AnyCaller, page_router, redirect, render, service_of
from http_api.console.skills import parse_headers
from openviking_mcp.contract.errors import InvalidArgumentError, UnavailableError
from openviking_mcp.contract.identity import RequestContext

__all__ = ["router"]

router = page_router()


def _may_run_commands(request: Request, caller: RequestContext) -> bool:
    """The API's rule for the command form: ROOT, or a server in dev mode."""
    return caller.is_root or service_of(request).config.server.effective_auth_mode == "dev"


async def _page(
    request: Request, caller: RequestContext, notice: dict[str, Any] | None = None
) -> Response:
    servers = await service_of(request).call(caller, "list_mcp_servers", {})
    context = {
        "title": "MCP servers",
        "active": "mcp-servers",
        "servers": servers,
        "allow_command": _may_run_commands(request, caller),
        "notice": notice,
    }
    return render(request, "mcp_servers.html", context)


@router.get("/mcp-servers")
async def page(request: Request, caller: AnyCaller) -> Response:
    return await _page(request, caller)


def _register_arguments(
    name: str, mode: str, url: str, headers: str, command: str, target: str, interval: str
) -> dict[str, Any]:
    """The register request the form asks for: by ``url`` (with headers) or by ``command``."""
    arguments: dict[str, Any] = {"name": name}
    if mode == "command":
        try:
            arguments["command"] = shlex.split(command)
        except ValueError as exc:
            raise InvalidArgumentError(f"Unreadable command: {exc}", {"field": "command"}) from None
    else:
        arguments["url"] = url.strip()
        arguments["headers"] = parse_headers(headers)
    if target.strip():
        arguments["target_uri"] = target.strip()
    if interval.strip():
        try:
            arguments["refresh_interval_seconds"] = float(interval)
        except ValueError:
            raise InvalidArgumentError(
                "The interval is a number of seconds", {"field": "refresh_interval_seconds"}
            ) from None
    return {k: v for k, v in arguments.items() if v is not None}


@router.post("/mcp-servers")
async def register(
    request: Request,
    caller: AnyCaller,
    name: Annotated[str, Form()],
    mode: Annotated[str, Form()] = "url",
    url: Annotated[str, Form()] = "",
    headers: Annotated[str, Form()] = "",
    command: Annotated[str, Form()] = "",
    target: Annotated[str, Form()] = "",
    interval: Annotated[str, Form()] = "",
) -> Response:
    """Register a server; the page with how its first import went."""
    arguments = _register_arguments(name, mode, url, headers, command, target, interval)
    result = await service_of(request).call(
        caller,
        "register_mcp_server",
        arguments,
        allow_command=_may_run_commands(request, caller),
    )
    return await _page(request, caller, {"kind": "registered", **result})


@router.post("/mcp-servers/{server_id}/refresh")
async def refresh(server_id: str, request: Request, caller: AnyCaller) -> Response:
    """Refresh one server now; the page with the report, or the server's error."""
    service = service_of(request)
    try:
        result = await service.call(caller, "refresh_mcp_server", {"server_id": server_id})
    except UnavailableError as exc:
        server = await service.call(caller, "get_mcp_server", {"server_id": server_id})
        return await _page(request, caller, {"kind": "failed", "server": server, "error": str(exc)})
    return await _page(request, caller, {"kind": "refreshed", **result})


@router.post("/mcp-servers/{server_id}/delete")
async def delete(
    server_id: str,
    request: Request,
    caller: AnyCaller,
    remove_skills: Annotated[bool, Form()] = False,
) -> Response:
    """Unregister a server (and, when asked, delete its skills)."""
    arguments = {"server_id": server_id, "remove_skills": remove_skills}
    await service_of(request).call(caller, "delete_mcp_server", arguments)
    return redirect(request, f"{PREFIX}/mcp-servers")
