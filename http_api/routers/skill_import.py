"""``POST /api/v1/skills/import-mcp``: import (or refresh) a live MCP server's tools as skills.

The server is a streamable-HTTP ``url`` or a ``command`` to launch over stdio. Launching a
program on the server host, or reaching a loopback or private address, is only for ROOT or dev
mode (or any caller with ``allow_private_networks``); a user key gets 403. ``headers`` (e.g. a
bearer token for the MCP server) are used for the connection and never stored.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from http_api import envelope
from http_api.bodies import STRICT, PositiveTimeout
from http_api.deps import Caller, Service
from openviking_mcp.contract import skills as skills_contract

__all__ = ["ImportMcpBody", "router"]

router = APIRouter(tags=["skills"])


class ImportMcpBody(skills_contract.ImportMcpRequest):
    """Body of ``POST /api/v1/skills/import-mcp`` (unknown fields are refused)."""

    model_config = STRICT

    timeout: PositiveTimeout = None


@router.post(
    "/api/v1/skills/import-mcp", summary="Import or refresh an MCP server's tools as skills"
)
async def import_mcp(
    request: Request, body: ImportMcpBody, service: Service, caller: Caller
) -> JSONResponse:
    """Result: ``{server, skills_root, added, updated, unchanged, removed, pruned, errors}``."""
    allow_command = caller.is_root or service.config.server.effective_auth_mode == "dev"
    result = await service.call(
        caller, "import_mcp_server", body.model_dump(), allow_command=allow_command
    )
    return envelope.ok(request, result)
