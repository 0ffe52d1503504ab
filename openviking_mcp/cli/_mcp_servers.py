"""`mcp-servers` commands: the registry of MCP servers whose tools are imported as skills
(docs/mcp-servers.md). ``register`` imports the tools at once; ``refresh`` does it again and
prints what was added, updated and removed; header and env values are never printed."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from openviking_mcp.cli._core import app, emit, run
from openviking_mcp.cli._skills import _pairs

__all__ = ["mcp_servers_app"]

mcp_servers_app = typer.Typer(
    help="MCP servers whose tools are imported as skills and refreshed on a schedule.",
    no_args_is_help=True,
)
app.add_typer(mcp_servers_app, name="mcp-servers")

_Headers = Annotated[
    list[str] | None,
    typer.Option("--header", "-H", help="'Name: value' sent to the URL (repeatable; secret)."),
]
_Env = Annotated[
    list[str] | None,
    typer.Option("--env", "-e", help="KEY=VALUE for the command (repeatable; secret)."),
]
_Interval = Annotated[
    float | None,
    typer.Option("--interval", help="Seconds between scheduled refreshes (0: on demand only)."),
]


def _given(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


@mcp_servers_app.command("register")
def register(
    name: Annotated[str, typer.Argument(help="A name for the server.")],
    command: Annotated[
        list[str] | None,
        typer.Argument(
            help="The server's command and arguments, after '--' (stdio).", show_default=False
        ),
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help="Streamable-HTTP endpoint.")] = None,
    header: _Headers = None,
    env: _Env = None,
    target: Annotated[
        str | None,
        typer.Option("--target", help="viking://~/skills (default) or viking://agent/skills."),
    ] = None,
    interval: _Interval = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="No scheduled refresh.")] = False,
) -> None:
    """Register an MCP server and import its tools as skills.

    \b
    openviking-mcp mcp-servers register docs --url https://example.com/mcp -H 'X-Token: T'
    openviking-mcp mcp-servers register demo -- npx -y @modelcontextprotocol/server-everything
    """
    fields = _given(
        url=url,
        command=command or None,
        headers=_pairs(header, ":", "--header") or None,
        env=_pairs(env, "=", "--env") or None,
        target_uri=target,
        refresh_interval_seconds=interval,
    )
    emit(run(lambda s, c: s.register_mcp_server(c, name, enabled=not disabled, **fields)))


@mcp_servers_app.command("list")
def list_servers() -> None:
    """The MCP servers you may manage, with their health."""
    emit(run(lambda s, c: s.list_mcp_servers(c), reader=True))


@mcp_servers_app.command("show")
def show(server_id: str) -> None:
    """One server: its config (never header or env values) and health."""
    emit(run(lambda s, c: s.get_mcp_server(c, server_id), reader=True))


@mcp_servers_app.command("update")
def update(
    server_id: str,
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    header: _Headers = None,
    clear_headers: Annotated[
        bool, typer.Option("--clear-headers", help="Remove every header.")
    ] = False,
    env: _Env = None,
    clear_env: Annotated[bool, typer.Option("--clear-env", help="Remove every variable.")] = False,
    interval: _Interval = None,
    enable: Annotated[
        bool | None, typer.Option("--enable/--disable", help="Refresh on the schedule or not.")
    ] = None,
) -> None:
    """Rename, re-schedule, enable or disable a server; -H/--env replace all its headers/env."""
    headers = {} if clear_headers else (_pairs(header, ":", "--header") or None)
    variables = {} if clear_env else (_pairs(env, "=", "--env") or None)
    fields = _given(
        name=name,
        headers=headers,
        env=variables,
        refresh_interval_seconds=interval,
        enabled=enable,
    )
    emit(run(lambda s, c: s.update_mcp_server(c, server_id, **fields)))


@mcp_servers_app.command("refresh")
def refresh(server_id: str) -> None:
    """Refresh a server's skills now; prints the added, updated and removed ones."""
    emit(run(lambda s, c: s.refresh_mcp_server(c, server_id)))


@mcp_servers_app.command("remove")
def remove(
    server_id: str,
    remove_skills: Annotated[
        bool, typer.Option("--remove-skills", help="Also delete the skills it imported.")
    ] = False,
) -> None:
    """Unregister a server (its skills stay unless --remove-skills)."""
    emit(run(lambda s, c: s.delete_mcp_server(c, server_id, remove_skills=remove_skills)))
