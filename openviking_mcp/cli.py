"""The ``openviking-mcp`` command.

``serve`` starts the HTTP server (``openviking-server`` is an alias); the store commands (ls,
tree, read, write, ...) and ``admin`` work directly on a local workspace (``--path`` or
``storage.workspace`` from ``ov.conf``).

Output follows seed 000: ``-o table`` (default) renders lists as tables and other results as
JSON, strings are printed as they are, empty results print nothing; ``-o json`` prints JSON and
``--compact`` wraps it as ``{"ok": true, "result": ...}``. Exit codes: 0 success, 1 error,
2 configuration error, 3 connection error.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from .config import OpenVikingConfig, is_loopback_host, load_config
from .errors import ConfigError, OpenVikingError, error_to_envelope, exit_code_for
from .identity import RequestContext
from .service import ContextService

__all__ = ["app", "main", "server_main"]

T = TypeVar("T")

app = typer.Typer(
    name="openviking-mcp",
    help="Context database for AI agents: a viking:// filesystem over MCP, HTTP and this CLI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
admin_app = typer.Typer(
    help="Accounts, users and API keys (runs as ROOT on the local store).", no_args_is_help=True
)
app.add_typer(admin_app, name="admin")

_out = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)


@dataclass
class _Options:
    config: str | None = None
    path: str | None = None
    output: str = "table"
    compact: bool = False
    account: str | None = None
    user: str | None = None

    def load(self, extra: dict[str, Any] | None = None) -> OpenVikingConfig:
        overrides: dict[str, Any] = dict(extra or {})
        if self.path:
            overrides.setdefault("storage", {})["workspace"] = self.path
        return load_config(self.config, overrides=overrides)


_opts = _Options()


def _version(value: bool) -> None:
    if value:
        _out.print(f"openviking-mcp {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    config: Annotated[str | None, typer.Option("--config", "-c", help="Path to ov.conf.")] = None,
    path: Annotated[str | None, typer.Option("--path", help="Workspace folder (data dir).")] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="table or json.")] = "table",
    compact: Annotated[bool, typer.Option("--compact", help="Compact output.")] = False,
    account: Annotated[str | None, typer.Option("--account", help="Act as this account.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Act as this user.")] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    if output not in ("table", "json"):
        raise typer.BadParameter("must be 'table' or 'json'", param_hint="--output")
    _opts.config, _opts.path, _opts.output, _opts.compact = config, path, output, compact
    _opts.account, _opts.user = account, user


# -- output ------------------------------------------------------------------------------


def _print_table(rows: list[Any]) -> None:
    if not rows:
        return
    if not all(isinstance(r, dict) for r in rows):
        for row in rows:
            _out.print(
                row if isinstance(row, str) else json.dumps(row, ensure_ascii=False),
                markup=False,
                highlight=False,
            )
        return
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    if _opts.compact:
        columns = [c for c in columns if any(r.get(c) not in (None, "", [], {}) for r in rows)]
    table = Table(show_edge=False, box=None, pad_edge=False)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    _out.print(table)


def _emit(result: Any) -> None:
    if _opts.output == "json":
        payload = {"ok": True, "result": result} if _opts.compact else result
        text = json.dumps(payload, ensure_ascii=False, indent=None if _opts.compact else 2)
        _out.print(text, markup=False, highlight=False)
    elif result is None:
        return
    elif isinstance(result, str):
        sys.stdout.write(result if result.endswith("\n") or not result else result + "\n")
    elif isinstance(result, list):
        _print_table(result)
    else:
        _out.print(json.dumps(result, ensure_ascii=False, indent=2), markup=False, highlight=False)


def _fail(exc: BaseException) -> typer.Exit:
    _, error = error_to_envelope(exc)
    if _opts.output == "json":
        payload = {"ok": False, "error": error}
        _out.print(json.dumps(payload, ensure_ascii=False), markup=False, highlight=False)
    else:
        _err.print(f"Error [{error['code']}]: {error['message']}", markup=False, highlight=False)
    return typer.Exit(exit_code_for(exc))


def _run(
    fn: Callable[[ContextService, RequestContext], Awaitable[T]], *, as_root: bool = False
) -> T:
    """Open the local store, run one operation as the chosen identity, close the store."""

    async def go() -> T:
        service = ContextService(_opts.load())
        await service.initialize()
        try:
            ctx = (
                RequestContext.root(service.config.default_account)
                if as_root
                else await service.local_context(_opts.account, _opts.user)
            )
            return await fn(service, ctx)
        finally:
            await service.close()

    try:
        return asyncio.run(go())
    except OpenVikingError as exc:
        raise _fail(exc) from None
    except OSError as exc:
        raise _fail(exc) from None


# -- server ------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 1933).")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    config_file: Annotated[
        str | None, typer.Option("--config", "-c", help="Path to ov.conf.")
    ] = None,
    path: Annotated[str | None, typer.Option("--path", help="Workspace folder.")] = None,
) -> None:
    """Start the HTTP server (REST API; MCP at /mcp as it lands) on embedded defaults."""
    _opts.config = config_file or _opts.config
    _opts.path = path or _opts.path
    import uvicorn

    from http_api.app import create_app

    server: dict[str, Any] = {}
    if host is not None:
        server["host"] = host
    if port is not None:
        server["port"] = port
    try:
        config = _opts.load({"server": server} if server else None)
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
        raise _fail(exc) from None
    _err.print(
        f"openviking-mcp {__version__} serving http://{config.server.host}:{config.server.port} "
        f"(auth: {mode}, workspace: {config.workspace})",
        markup=False,
        highlight=False,
    )
    uvicorn.run(
        create_app(config), host=config.server.host, port=config.server.port, log_level=log_level
    )


@app.command("config")
def show_config() -> None:
    """Print the effective configuration (secrets masked) and where it came from."""
    try:
        config = _opts.load()
    except OpenVikingError as exc:
        raise _fail(exc) from None
    data = config.model_dump(mode="json")
    for section in ("embedding", "vlm", "rerank", "server"):
        _mask(data.get(section))
    _emit({"source": config.source_path, "config": data})


def _mask(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if "key" in key and isinstance(value, str) and value:
                node[key] = "***"
            else:
                _mask(value)


# -- store commands ----------------------------------------------------------------------

_Uri = Annotated[str, typer.Argument(help="A viking:// URI.")]


@app.command()
def ls(
    uri: Annotated[str, typer.Argument(help="Directory URI.")] = "viking://",
    simple: Annotated[bool, typer.Option("--simple", "-s", help="URIs only.")] = False,
    recursive: Annotated[bool, typer.Option("--recursive", "-r")] = False,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Show hidden files.")] = False,
    agent: Annotated[bool, typer.Option("--agent", help="Agent output with abstracts.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 1000,
) -> None:
    """List a directory."""
    _emit(
        _run(
            lambda s, c: s.ls(
                c,
                uri,
                simple=simple,
                recursive=recursive,
                show_all_hidden=all_,
                node_limit=limit,
                output="agent" if agent else "original",
            )
        )
    )


@app.command()
def tree(
    uri: Annotated[str, typer.Argument(help="Directory URI.")] = "viking://",
    level: Annotated[int, typer.Option("--level", "-L", help="Depth limit.")] = 3,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Show hidden files.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 1000,
) -> None:
    """Show a directory tree."""
    items = _run(
        lambda s, c: s.tree(c, uri, level_limit=level, show_all_hidden=all_, node_limit=limit)
    )
    if _opts.output == "json":
        _emit(items)
        return
    for item in items:
        depth = item["rel_path"].rstrip("/").count("/")
        _out.print(
            "  " * depth
            + item["rel_path"].rstrip("/").split("/")[-1]
            + ("/" if item["isDir"] else ""),
            markup=False,
            highlight=False,
        )


@app.command()
def stat(uri: _Uri) -> None:
    """Show a file's or directory's status."""
    _emit(_run(lambda s, c: s.stat(c, uri)))


@app.command()
def mkdir(
    uri: _Uri,
    description: Annotated[
        str | None, typer.Option("--description", "-d", help="Becomes the L0 abstract.")
    ] = None,
) -> None:
    """Create a directory and its parents."""
    _run(lambda s, c: s.mkdir(c, uri, description))
    _emit(None)


@app.command()
def rm(uri: _Uri, recursive: Annotated[bool, typer.Option("--recursive", "-r")] = False) -> None:
    """Remove a file or directory."""
    _run(lambda s, c: s.rm(c, uri, recursive=recursive))
    _emit(None)


@app.command()
def mv(from_uri: _Uri, to_uri: _Uri) -> None:
    """Move or rename a file or directory."""
    _run(lambda s, c: s.mv(c, from_uri, to_uri))
    _emit(None)


@app.command()
def read(
    uri: _Uri,
    offset: Annotated[int, typer.Option(help="First line (0-based).")] = 0,
    limit: Annotated[int, typer.Option(help="Number of lines (-1: all).")] = -1,
) -> None:
    """Print a file's content (L2)."""
    _emit(_run(lambda s, c: s.read(c, uri, offset=offset, limit=limit)))


@app.command()
def abstract(uri: _Uri) -> None:
    """Print a directory's L0 abstract."""
    _emit(_run(lambda s, c: s.abstract(c, uri)))


@app.command()
def overview(uri: _Uri) -> None:
    """Print a directory's L1 overview."""
    _emit(_run(lambda s, c: s.overview(c, uri)))


@app.command()
def write(
    uri: _Uri,
    content: Annotated[
        str | None, typer.Argument(help="Text; omit to read standard input.")
    ] = None,
    mode: Annotated[str, typer.Option(help="replace, append or create.")] = "replace",
    from_file: Annotated[
        str | None, typer.Option("--from-file", "-f", help="Read the text from this file.")
    ] = None,
) -> None:
    """Write a text file (replace, append or create)."""
    if from_file is not None:
        with open(from_file, encoding="utf-8") as handle:
            content = handle.read()
    elif content is None:
        content = sys.stdin.read()
    text = content
    _emit(_run(lambda s, c: s.write(c, uri, text, mode=mode)))  # type: ignore[arg-type]


# -- admin -------------------------------------------------------------------------------


@admin_app.command("create-account")
def create_account(
    account_id: str,
    admin_user: Annotated[
        str, typer.Option("--admin", help="User id of the account's first admin.")
    ],
) -> None:
    """Create an account and its first ADMIN; prints that user's key once."""
    _emit(_run(lambda s, c: s.create_account(c, account_id, admin_user), as_root=True))


@admin_app.command("list-accounts")
def list_accounts() -> None:
    """List accounts."""
    _emit(_run(lambda s, c: s.list_accounts(c), as_root=True))


@admin_app.command("delete-account")
def delete_account(account_id: str) -> None:
    """Delete an account with all its users and data."""
    _emit(_run(lambda s, c: s.delete_account(c, account_id), as_root=True))


@admin_app.command("create-user")
def create_user(
    account_id: str,
    user_id: str,
    role: Annotated[str, typer.Option(help="user or admin.")] = "user",
) -> None:
    """Register a user; prints the user's key once."""
    _emit(_run(lambda s, c: s.create_user(c, account_id, user_id, role), as_root=True))


@admin_app.command("list-users")
def list_users(account_id: str) -> None:
    """List the users of an account."""
    _emit(_run(lambda s, c: s.list_users(c, account_id), as_root=True))


@admin_app.command("delete-user")
def delete_user(account_id: str, user_id: str) -> None:
    """Remove a user and their private space."""
    _emit(_run(lambda s, c: s.delete_user(c, account_id, user_id), as_root=True))


@admin_app.command("set-role")
def set_role(account_id: str, user_id: str, role: str) -> None:
    """Change a user's role (user or admin)."""
    _emit(_run(lambda s, c: s.set_user_role(c, account_id, user_id, role), as_root=True))


@admin_app.command("regenerate-key")
def regenerate_key(account_id: str, user_id: str) -> None:
    """Issue a new key for a user; the old key stops working."""
    _emit(_run(lambda s, c: s.regenerate_user_key(c, account_id, user_id), as_root=True))


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``openviking-mcp``."""
    app(args=argv, prog_name="openviking-mcp")


def server_main() -> None:
    """Entry point of ``openviking-server``: the same as ``openviking-mcp serve``."""
    app(args=["serve", *sys.argv[1:]], prog_name="openviking-server")
