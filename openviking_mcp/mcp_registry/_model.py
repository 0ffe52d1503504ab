"""The registry's pure helpers: checking what a caller registers, who may manage a server,
and the answers' shapes."""

from __future__ import annotations

import math
import shlex
from urllib.parse import urlsplit

from openviking_mcp._config_mcp_registry import McpRegistryConfig
from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.contract.mcp_servers import McpServerHealthInfo, RegisteredMcpServer
from openviking_mcp.contract.skills import ImportReport
from openviking_mcp.storage.mcp_servers import McpServerRecord
from openviking_mcp.store import iso_time

__all__ = [
    "MAX_NAME",
    "changes_of",
    "check_interval",
    "check_name",
    "check_secret_kinds",
    "info",
    "may_manage",
    "owner_of",
    "scrub",
    "source_of",
    "tool_count",
]

MAX_NAME = 100
_AGENT_ROOT = "viking://agent/"


def check_name(name: str) -> str:
    """A server's name: 1 to :data:`MAX_NAME` printable characters, trimmed."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise InvalidArgumentError(
            f"A server name is 1 to {MAX_NAME} printable characters", {"field": "name"}
        )
    return name


def check_interval(seconds: float | None, settings: McpRegistryConfig) -> float:
    """The refresh interval: the configured default for ``None``, 0 for on demand only, else
    at least ``min_refresh_seconds``."""
    if seconds is None:
        seconds = settings.default_refresh_seconds
    if seconds == 0:
        return 0.0
    if not math.isfinite(seconds) or seconds < settings.min_refresh_seconds:
        raise InvalidArgumentError(
            f"refresh_interval_seconds is 0 (on demand only) or at least "
            f"{settings.min_refresh_seconds:g}",
            {"field": "refresh_interval_seconds", "minimum": settings.min_refresh_seconds},
        )
    return float(seconds)


def check_secret_kinds(
    transport: str, headers: dict[str, str] | None, env: dict[str, str] | None
) -> None:
    """Headers go to a url, env to a command."""
    if transport == "stdio" and headers:
        raise InvalidArgumentError("headers apply to a url, not to a command", {"field": "headers"})
    if transport == "http" and env:
        raise InvalidArgumentError("env applies to a command, not to a url", {"field": "env"})


def source_of(url: str | None, command: list[str] | None) -> tuple[str, str]:
    """``(transport, source id)`` of a server: the id its imported skills carry in
    ``metadata.mcp.id`` (the URL without credentials, query or fragment; the command line)."""
    if (url is None) == (command is None):
        raise InvalidArgumentError(
            "Give exactly one MCP server: a command (stdio) or a url (streamable HTTP)",
            {"field": "command" if command is not None else "url"},
        )
    if command is not None:
        if not command or not all(isinstance(a, str) and a for a in command):
            raise InvalidArgumentError(
                "The MCP server command must be a non-empty list of strings", {"field": "command"}
            )
        return "stdio", shlex.join(command)
    assert url is not None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgumentError(
            "The MCP server URL must be an http:// or https:// URL with a host", {"field": "url"}
        )
    if parts.username is not None or parts.password is not None:
        raise InvalidArgumentError(
            "Put credentials in headers, not in the URL (a registered URL is shown)",
            {"field": "url"},
        )
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return "http", f"{parts.scheme.lower()}://{netloc}{parts.path}"


def owner_of(record: McpServerRecord) -> RequestContext:
    """Who a server's refreshes run as: the user who registered it (ROOT for ROOT's)."""
    if record.created_role == Role.ROOT.value:
        return RequestContext.root(record.account_id)
    return RequestContext(record.account_id, record.created_by, Role(record.created_role))


def may_manage(ctx: RequestContext, record: McpServerRecord) -> bool:
    """Whether ``ctx`` may see and manage a server: ROOT any of its account's; an ADMIN the
    account's shared ones (``viking://agent/skills``); anyone the ones they registered."""
    if record.account_id != ctx.account_id:
        return False
    if ctx.is_root:
        return True
    if record.skills_root.startswith(_AGENT_ROOT):
        return ctx.is_admin
    return record.created_role != Role.ROOT.value and record.created_by == ctx.user_id


def tool_count(report: ImportReport) -> int:
    return len(report.added) + len(report.updated) + len(report.unchanged) + len(report.errors)


def changes_of(report: ImportReport) -> dict[str, list[str]]:
    return {"added": report.added, "updated": report.updated, "removed": report.removed}


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` without any secret value (or word of one), each replaced by ``***``."""
    words = {w for s in secrets for w in (s, *s.split()) if len(w) >= 4}
    for word in sorted(words, key=len, reverse=True):
        text = text.replace(word, "***")
    return text


def info(record: McpServerRecord) -> RegisteredMcpServer:
    """A server as answered: names of its secrets, never their values."""
    changes = record.last_changes
    health = McpServerHealthInfo(
        status=record.last_status,
        last_refresh_at=iso_time(record.last_refresh_at) if record.last_refresh_at else None,
        next_refresh_at=(
            iso_time(record.next_refresh_at)
            if record.enabled and record.next_refresh_at is not None
            else None
        ),
        error=record.last_error,
        tool_count=record.tool_count,
        duration_ms=record.duration_ms,
        added=changes.get("added", []),
        updated=changes.get("updated", []),
        removed=changes.get("removed", []),
    )
    return RegisteredMcpServer(
        server_id=record.server_id,
        name=record.name,
        account_id=record.account_id,
        transport=record.transport,
        url=record.url,
        command=record.command,
        header_names=record.secret_names.get("headers", []),
        env_names=record.secret_names.get("env", []),
        skills_root=record.skills_root,
        source_id=record.source_id,
        refresh_interval_seconds=record.refresh_seconds,
        enabled=record.enabled,
        created_by=record.created_by,
        created_at=iso_time(record.created_at),
        updated_at=iso_time(record.updated_at),
        health=health,
    )
