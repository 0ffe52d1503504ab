"""``POST /api/v1/skills/import-mcp``: import (or refresh) a live MCP server's tools as skills.

The server is a streamable-HTTP ``url`` (loopback and private addresses are fine: local MCP
servers are the common case) or a ``command`` to launch over stdio. Launching a program on the
server host is only for ROOT or dev mode; a user key gets 403. ``headers`` (e.g. a bearer
token for the MCP server) are used for the connection and never stored.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from http_api import envelope
from http_api.deps import Caller, Service

__all__ = ["ImportMcpRequest", "router"]

router = APIRouter(tags=["skills"])


class ImportMcpRequest(BaseModel):
    """Body of ``POST /api/v1/skills/import-mcp`` (unknown fields are refused)."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, description="Streamable-HTTP endpoint of the server.")
    headers: dict[str, str] | None = Field(
        default=None, description="Headers sent to url (never stored)."
    )
    command: list[str] | None = Field(
        default=None, description="Program and arguments to launch (ROOT or dev mode only)."
    )
    env: dict[str, str] | None = Field(
        default=None, description="Extra environment of the command (never stored)."
    )
    target_uri: str | None = Field(
        default=None, description="viking://agent/skills (default) or viking://~/skills."
    )
    prune: bool = Field(default=False, description="Delete skills of tools that are gone.")
    wait: bool = False
    timeout: float | None = Field(default=None, gt=0)


@router.post(
    "/api/v1/skills/import-mcp", summary="Import or refresh an MCP server's tools as skills"
)
async def import_mcp(
    request: Request, body: ImportMcpRequest, service: Service, caller: Caller
) -> JSONResponse:
    """Result: ``{server, skills_root, added, updated, unchanged, removed, pruned, errors}``."""
    result = await service.import_mcp_server(
        caller,
        command=body.command,
        url=body.url,
        headers=body.headers,
        env=body.env,
        target_uri=body.target_uri,
        prune=body.prune,
        wait=body.wait,
        timeout=body.timeout,
        allow_command=caller.is_root or service.config.server.effective_auth_mode == "dev",
    )
    return envelope.ok(request, result)
