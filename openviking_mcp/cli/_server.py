"""`serve` and `config`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from openviking_mcp.cli._core import app, emit, fail, opts
from openviking_mcp.contract.errors import ConfigError, OpenVikingError

# -- server ------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Bind address (default: server.host, 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: server.port, 1933).")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    config_file: Annotated[str | None, typer.Option("--config", help="Path to ov.conf.")] = None,
    path: Annotated[str | None, typer.Option("--path", help="Workspace folder.")] = None,
    with_bot: Annotated[
        bool,
        typer.Option(
            "--with-bot",
            help="Serve the chat bot too: /chat, /chat/stream and /bot/v1/... (bot.enabled).",
        ),
    ] = False,
    no_worker: Annotated[
        bool,
        typer.Option(
            "--no-worker",
            help="Serve requests only; queued tasks are run by `openviking-mcp worker` "
            "processes sharing the database (processing.worker: false).",
        ),
    ] = False,
) -> None:
    """Start the HTTP server: REST API under /api/v1 and MCP (streamable HTTP) at /mcp.

    Without --host/--port the config's server.host/server.port apply (OPENVIKING__SERVER__HOST
    and OPENVIKING__SERVER__PORT override them). A summary with the URLs and the
    `claude mcp add` line is printed to stderr once the server is ready.
    """
    opts.config = config_file or opts.config
    opts.path = path or opts.path
    from http_api import banner, serving
    from http_api.starting import StartingApp
    from openviking_mcp.config import is_loopback_host
    from openviking_mcp.startup import BUNDLED_SKILLS, EMBEDDING_MODEL, STORAGE

    server: dict[str, Any] = {}
    if host is not None:
        server["host"] = host
    if port is not None:
        server["port"] = port
    overrides: dict[str, Any] = {"server": server} if server else {}
    if with_bot:
        overrides["bot"] = {"enabled": True}
    if no_worker:
        overrides["processing"] = {"worker": False}
    try:
        config = opts.load(overrides or None)
        check_storage(config)
        mode = config.server.effective_auth_mode
        if mode == "dev" and not is_loopback_host(config.server.host):
            raise ConfigError(
                f"Refusing to bind dev mode (no root_api_key) to {config.server.host}: dev mode "
                "has no authentication and may only listen on loopback. Set server.root_api_key "
                "or bind to 127.0.0.1."
            )
        if mode == "api_key" and not config.server.root_api_key:
            raise ConfigError("auth_mode 'api_key' needs server.root_api_key")
    except OpenVikingError as exc:
        raise fail(exc) from None
    typer.echo(banner.render_listening(config), err=True)

    def build() -> Any:
        """The real app, imported and built in a worker thread once the port is open."""
        from http_api.app import create_app

        return create_app(config, install_bundled_skills=True, background_start=True)

    app = StartingApp(
        build,
        auth_mode=mode,
        loading=[STORAGE, EMBEDDING_MODEL, BUNDLED_SKILLS],
        wait_seconds=config.server.startup_wait_seconds,
        on_started=lambda started: banner.announce_when_ready(started, config),
    )
    serving.run(
        app,
        host=config.server.host,
        port=config.server.port,
        log_level=log_level,
        max_header_bytes=config.server.max_header_bytes,
    )


@app.command()
def worker(
    config_file: Annotated[str | None, typer.Option("--config", help="Path to ov.conf.")] = None,
    path: Annotated[str | None, typer.Option("--path", help="Workspace folder.")] = None,
    log_level: Annotated[str, typer.Option(help="Log level (logs go to stderr).")] = "info",
) -> None:
    """Run only the task queue (imports, indexing, session commits), serving no requests.

    Start as many as the ingest load needs, on any hosts, beside `serve --no-worker`
    front ends on one PostgreSQL database (storage.backend: postgres). Stops on SIGINT or
    SIGTERM; the tasks it was running go back to the queue for the other workers.
    """
    import asyncio

    from openviking_mcp._logging import configure_logging
    from openviking_mcp.cli._worker import run_worker

    configure_logging(log_level)
    opts.config = config_file or opts.config
    opts.path = path or opts.path
    try:
        config = opts.load({"processing": {"worker": True}})
        check_storage(config)
        asyncio.run(run_worker(config, announce=lambda line: typer.echo(line, err=True)))
    except OpenVikingError as exc:
        raise fail(exc) from None
    except KeyboardInterrupt:
        pass


def check_storage(config: Any) -> None:
    """On the postgres backend, check the database before starting (exit 2 when unusable)."""
    if config.storage.uses_postgres:
        import asyncio

        from openviking_mcp.storage.postgres.check import check_database

        asyncio.run(check_database(config.storage.postgres))


@app.command("mcp")
def mcp_stdio(
    config_file: Annotated[str | None, typer.Option("--config", help="Path to ov.conf.")] = None,
    path: Annotated[str | None, typer.Option("--path", help="Workspace folder.")] = None,
    account: Annotated[str | None, typer.Option("--account", help="Act as this account.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Act as this user.")] = None,
    log_level: Annotated[str, typer.Option(help="Log level (logs go to stderr).")] = "warning",
    with_bot: Annotated[
        bool, typer.Option("--with-bot", help="Add the chat tool (ask VikingBot; bot.enabled).")
    ] = False,
) -> None:
    """Serve MCP over stdio, for clients that launch a command (Claude Desktop, Cursor...).

    Several such processes may share one data folder.
    """
    import asyncio

    from openviking_mcp._logging import configure_logging
    from openviking_mcp.mcp_server import run_stdio

    configure_logging(log_level)  # stderr, formatted on a thread
    opts.config = config_file or opts.config
    opts.path = path or opts.path
    try:
        config = opts.load({"bot": {"enabled": True}} if with_bot else None)
        asyncio.run(
            run_stdio(config, account_id=account or opts.account, user_id=user or opts.user)
        )
    except OpenVikingError as exc:
        raise fail(exc) from None
    except KeyboardInterrupt:
        pass


@app.command("config")
def show_config() -> None:
    """Print the effective configuration (secrets masked) and where it came from."""
    try:
        config = opts.load()
    except OpenVikingError as exc:
        raise fail(exc) from None
    from openviking_mcp.config import redact_dsn

    data = config.model_dump(mode="json")
    for section in ("embedding", "vlm", "rerank", "server"):
        _mask(data.get(section))
    postgres = data["storage"]["postgres"]
    postgres["dsn"] = redact_dsn(postgres["dsn"])
    emit({"source": config.source_path, "config": data})


def _mask(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if "key" in key and isinstance(value, str) and value:
                node[key] = "***"
            else:
                _mask(value)
