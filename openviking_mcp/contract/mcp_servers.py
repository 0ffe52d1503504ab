"""The registry of MCP servers: servers whose tools are imported as skills and kept fresh.

A registered server is reached by ``url`` (streamable HTTP, with optional ``headers``) or by
``command`` (stdio, with optional ``env``; ROOT or dev mode only). Header and env values are
secrets: they are kept in the registering user's privacy config (category ``mcp-servers``,
the server id as key) and never answered; a server shows only their names. Its tools are
imported as skills into ``skills_root`` when it is registered, then refreshed every
``refresh_interval_seconds`` and on demand; a refresh reports the skills ``added``,
``updated`` and ``removed`` (deleted: the registry owns the skills of its servers) and keeps
the server's health. Who may do what is in docs/mcp-servers.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from openviking_mcp.contract.base import Request, Result
from openviking_mcp.contract.operations import Operation, Route
from openviking_mcp.contract.skills import ImportReport

__all__ = [
    "OPERATIONS",
    "DeleteMcpServerRequest",
    "McpServerDeleted",
    "McpServerHealthInfo",
    "McpServerRefreshed",
    "McpServerRequest",
    "McpServersRequest",
    "RegisterMcpServerRequest",
    "RegisteredMcpServer",
    "UpdateMcpServerRequest",
]

_INTERVAL = "Seconds between scheduled refreshes (0: on demand only; default from ov.conf)."


class McpServersRequest(Request):
    account_id: str | None = Field(default=None, description="ROOT only: the account.")


class RegisterMcpServerRequest(McpServersRequest):
    """A server to register: exactly one of ``url`` or ``command``."""

    name: str = Field(description="A name for people, unique within its skills root.")
    url: str | None = Field(default=None, description="Streamable-HTTP endpoint of the server.")
    headers: dict[str, str] | None = Field(
        default=None, description="Headers sent to url (secrets: kept, never answered)."
    )
    command: list[str] | None = Field(
        default=None, description="Program and arguments to launch (ROOT or dev mode only)."
    )
    env: dict[str, str] | None = Field(
        default=None, description="Extra environment of the command (secrets, never answered)."
    )
    target_uri: str | None = Field(
        default=None,
        description="viking://~/skills (default: yours) or viking://agent/skills (ADMIN).",
    )
    refresh_interval_seconds: float | None = Field(default=None, description=_INTERVAL)
    enabled: bool = Field(default=True, description="Refresh on the schedule.")


class McpServerRequest(McpServersRequest):
    server_id: str


class UpdateMcpServerRequest(McpServerRequest):
    """Fields left out (or ``null``) keep their value; ``headers``/``env`` replace all of
    them (``{}`` removes them)."""

    name: str | None = None
    headers: dict[str, str] | None = None
    env: dict[str, str] | None = None
    refresh_interval_seconds: float | None = Field(default=None, description=_INTERVAL)
    enabled: bool | None = None


class DeleteMcpServerRequest(McpServerRequest):
    remove_skills: bool = Field(
        default=False, description="Also delete the skills imported from this server."
    )


class McpServerHealthInfo(Result):
    """How the last refresh went (``pending`` before the first one)."""

    status: Literal["pending", "ok", "error"]
    last_refresh_at: str | None = None
    next_refresh_at: str | None = None
    error: str | None = Field(default=None, description="Why the last refresh failed.")
    tool_count: int | None = Field(default=None, description="Tools the server offered.")
    duration_ms: float | None = None
    added: list[str] = []
    updated: list[str] = []
    removed: list[str] = []


class RegisteredMcpServer(Result):
    """A registered server: never its header or env values, only their names."""

    server_id: str
    name: str
    account_id: str
    transport: Literal["http", "stdio"]
    url: str | None = None
    command: list[str] | None = None
    header_names: list[str] = []
    env_names: list[str] = []
    skills_root: str
    source_id: str = Field(description="The metadata.mcp.id of the skills it imports.")
    refresh_interval_seconds: float
    enabled: bool
    created_by: str
    created_at: str
    updated_at: str
    health: McpServerHealthInfo


class McpServerRefreshed(Result):
    """A server and the report of the import just made (``None`` when it failed: see
    ``server.health.error``)."""

    server: RegisteredMcpServer
    report: ImportReport | None = None


class McpServerDeleted(Result):
    server: RegisteredMcpServer
    removed_skills: list[str] = []


_P = "/api/v1/mcp-servers"
_ONE = _P + "/{server_id}"

OPERATIONS = (
    Operation(
        "register_mcp_server",
        "mcp_registry.register",
        RegisterMcpServerRequest,
        McpServerRefreshed,
        ("name",),
        Route("POST", _P),
        doc="Register an MCP server and import its tools as skills.",
        embedded={"allow_command": True},
    ),
    Operation(
        "list_mcp_servers",
        "mcp_registry.list_servers",
        McpServersRequest,
        list[RegisteredMcpServer],
        (),
        Route("GET", _P),
        doc="The MCP servers you may manage, with their health.",
    ),
    Operation(
        "get_mcp_server",
        "mcp_registry.get",
        McpServerRequest,
        RegisteredMcpServer,
        ("server_id",),
        Route("GET", _ONE),
        doc="One registered MCP server and its health.",
    ),
    Operation(
        "update_mcp_server",
        "mcp_registry.update",
        UpdateMcpServerRequest,
        RegisteredMcpServer,
        ("server_id",),
        Route("PATCH", _ONE),
        doc="Rename, re-schedule, enable or disable a server, or replace its headers or env.",
    ),
    Operation(
        "delete_mcp_server",
        "mcp_registry.delete",
        DeleteMcpServerRequest,
        McpServerDeleted,
        ("server_id",),
        Route("DELETE", _ONE),
        doc="Unregister a server (its skills stay unless remove_skills).",
    ),
    Operation(
        "refresh_mcp_server",
        "mcp_registry.refresh",
        McpServerRequest,
        McpServerRefreshed,
        ("server_id",),
        Route("POST", _ONE + "/refresh", fields_in="query"),
        doc="Refresh a server's skills now; reports added, updated and removed tools.",
    ),
)
