"""Shared pieces of the ``openviking-mcp`` command: the app, global options, output (seed 000's
rules, see the package docstring) and running an operation.

An operation runs on a **server** when ``--url`` is given, or when an ``ovcli.conf`` exists
(``$OPENVIKING_CLI_CONFIG_FILE`` or ``~/.openviking/ovcli.conf``, as seed 000 describes) and
neither ``--path`` nor ``--config`` points at a local store; otherwise it opens the **local
store** itself (embedded mode). The commands are written once against the service's method
names; on a server the same names are called on :class:`AsyncHTTPClient`, which mirrors them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from openviking_mcp._version import __version__
from openviking_mcp.contract.audit_scope import audit_scope
from openviking_mcp.contract.errors import (
    ConfigError,
    OpenVikingError,
    error_to_envelope,
    exit_code_for,
)
from openviking_mcp.contract.identity import RequestContext

if TYPE_CHECKING:
    # The local store (storage engine, models) and the config models load only when a command
    # runs locally: --version, --help and the remote mode never import them.
    from openviking_mcp.config import OpenVikingConfig
    from openviking_mcp.service import ContextService

__all__ = [
    "IdempotencyKeyOpt",
    "T",
    "UriArg",
    "admin_app",
    "app",
    "emit",
    "err",
    "fail",
    "opts",
    "out",
    "run",
    "run_async",
]

T = TypeVar("T")


def _flags_show_no_type_in_help() -> None:
    """typer's rich help prints a value type after every option, flags included
    (``--compact <bool>``, ``--help <bool>``), though a flag takes no value; its plain help
    prints none. Here a flag (or a counter) shows no type in the rich help either, for every
    command, ``--help`` included. Runs once per process; a typer without the hook is left as it is.
    """
    from typer.core import TyperOption

    shown = getattr(TyperOption, "display_type_rich", None)
    if shown is None or getattr(shown, "skips_flags", False):
        return

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        value: str | None = shown(self, ctx)
        return value

    display_type_rich.skips_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_show_no_type_in_help()

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

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@dataclass
class _Options:
    config: str | None = None
    path: str | None = None
    output: str = "table"
    compact: bool = False
    account: str | None = None
    user: str | None = None
    url: str | None = None
    api_key: str | None = None
    idempotency_key: str | None = None
    """Remote mode: the ``Idempotency-Key`` of the command's mutating requests."""

    def remote(self) -> bool:
        """Whether operations go to a server (see the module docs)."""
        if self.url:
            return True
        if self.path or self.config:
            return False
        from openviking_mcp.client._ovcli import find_ovcli_file

        return find_ovcli_file() is not None

    def load(self, extra: dict[str, Any] | None = None) -> OpenVikingConfig:
        from openviking_mcp.config import load_config

        overrides: dict[str, Any] = dict(extra or {})
        if self.path:
            overrides.setdefault("storage", {})["workspace"] = self.path
        return load_config(self.config, overrides=overrides)


opts = _Options()


def _version(value: bool) -> None:
    if value:
        out.print(f"openviking-mcp {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    config: Annotated[str | None, typer.Option("--config", help="Path to ov.conf.")] = None,
    path: Annotated[str | None, typer.Option("--path", help="Workspace folder (data dir).")] = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="table (default) or json.")
    ] = None,
    compact: Annotated[
        bool,
        typer.Option(
            "--compact",
            "-c",
            help="JSON: compact, wrapped as {ok, result}; table: no empty columns.",
        ),
    ] = False,
    account: Annotated[str | None, typer.Option("--account", help="Act as this account.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Act as this user.")] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Server URL (else ovcli.conf, else local).")
    ] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help="API key for --url.")] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    if output is None:
        output = _ovcli_output() if not (path or config) else "table"
    if output not in ("table", "json"):
        raise typer.BadParameter("must be 'table' or 'json'", param_hint="--output")
    opts.config, opts.path, opts.output, opts.compact = config, path, output, compact
    opts.account, opts.user, opts.url, opts.api_key = account, user, url, api_key


def _ovcli_output() -> str:
    """The default output format from ``ovcli.conf`` (``table`` without one)."""
    from openviking_mcp.client._ovcli import load_ovcli_config

    try:
        config = load_ovcli_config()
    except OpenVikingError:
        return "table"
    return str(getattr(config, "output", None) or "table") if config else "table"


# -- output ------------------------------------------------------------------------------


def _print_table(rows: list[Any]) -> None:
    if not rows:
        return
    from rich.table import Table

    if not all(isinstance(r, dict) for r in rows):
        for row in rows:
            out.print(
                row if isinstance(row, str) else json.dumps(row, ensure_ascii=False),
                markup=False,
                highlight=False,
            )
        return
    from openviking_mcp.cli._table import fit_table

    names: list[str] = []
    for row in rows:
        names.extend(k for k in row if k not in names)
    if opts.compact:
        names = [c for c in names if any(r.get(c) not in (None, "", [], {}) for r in rows)]
    cells = [["" if row.get(c) is None else str(row.get(c)) for c in names] for row in rows]
    columns, shortened = fit_table(names, cells, out.width)
    table = Table(show_edge=False, box=None, pad_edge=False)
    for col in columns:
        if col.width is None:
            table.add_column(col.name, overflow="fold")
        else:
            wraps = {"overflow": "fold"} if col.wrap else {"overflow": "ellipsis", "no_wrap": True}
            table.add_column(col.name, width=col.width, **wraps)
    for i in range(len(rows)):
        table.add_row(*(col.cells[i] for col in columns))
    out.print(table)
    if shortened:
        out.file.flush()  # the note follows the table on a terminal showing both streams
        err.print(
            "(values shortened to fit the terminal; -o json shows them in full)",
            markup=False,
            highlight=False,
            style="dim",
        )


def emit(result: Any) -> None:
    if opts.output == "json":
        payload = {"ok": True, "result": result} if opts.compact else result
        text = json.dumps(payload, ensure_ascii=False, indent=None if opts.compact else 2)
        out.print(text, markup=False, highlight=False)
    elif result is None:
        return
    elif isinstance(result, str):
        sys.stdout.write(result if result.endswith("\n") or not result else result + "\n")
    elif isinstance(result, list):
        _print_table(result)
    else:
        out.print(json.dumps(result, ensure_ascii=False, indent=2), markup=False, highlight=False)


def fail(exc: BaseException) -> typer.Exit:
    _, error = error_to_envelope(exc)
    if opts.output == "json":
        payload = {"ok": False, "error": error}
        out.print(json.dumps(payload, ensure_ascii=False), markup=False, highlight=False)
    else:
        err.print(f"Error [{error['code']}]: {error['message']}", markup=False, highlight=False)
    return typer.Exit(exit_code_for(exc))


def run(
    fn: Callable[[ContextService, RequestContext], Awaitable[T]],
    *,
    as_root: bool = False,
    index_on_demand: bool = False,
    reader: bool = False,
) -> T:
    """Run one operation as the chosen identity, on the local store or on a server.

    ``index_on_demand``: a local store opens its search index only if the operation uses it
    (listing or reading files never does), instead of before it runs. ``reader``: the
    operation only reads, so the local store runs no queued background work meanwhile."""
    if opts.remote():
        return _run_remote(fn)

    from openviking_mcp.service import ContextService

    async def go() -> T:
        service = ContextService(
            opts.load(), index_on_demand=index_on_demand, background_tasks=not reader
        )
        await service.initialize()
        try:
            ctx = (
                RequestContext.root(service.config.default_account)
                if as_root
                else await service.local_context(opts.account, opts.user)
            )
            with audit_scope("cli"):
                return await fn(service, ctx)
        finally:
            await service.close()

    return run_async(go)


def run_async(go: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a command's coroutine; a typed error or an OS error exits as :func:`fail` says."""
    import asyncio  # not at import time: --version and --help never start a loop

    try:
        return asyncio.run(go())
    except (OpenVikingError, OSError) as exc:
        raise fail(exc) from None


class _RemoteService:
    """The service's method names, answered by a server: ``svc.find(ctx, ...)`` becomes
    ``client.find(...)`` (the identity is the client's key or ovcli.conf's account/user)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        from openviking_mcp.client._operations import ROUTES

        method = getattr(self._client, name, None)
        local_only = name in ROUTES and ROUTES[name] is None
        if name.startswith("_") or method is None or not callable(method) or local_only:
            raise ConfigError(
                f"'{name}' runs on a local store only; pass --path or --config",
                {"operation": name},
            )

        async def call(_ctx: RequestContext, *args: Any, **kwargs: Any) -> Any:
            return await method(*args, **kwargs)

        return call


_UNUSED_OPTIONAL_MODULES = ("httpx._main", "h2")
"""Optional parts of the HTTP libraries that a CLI process never uses: httpx's own command
line (click, rich's progress bars, pygments) and httpcore's HTTP/2 support (the client speaks
HTTP/1.1). Each library imports its part in a ``try`` and puts a stub in its place when the
import fails."""


@contextmanager
def _without_unused_http_modules() -> Iterator[None]:
    """While the HTTP client loads, the imports of :data:`_UNUSED_OPTIONAL_MODULES` fail (a
    ``None`` in ``sys.modules`` stops an import), so the libraries load their stubs instead.
    Nothing changes when httpx or httpcore is loaded already: the process may use them."""
    if any(name in sys.modules for name in ("httpx", "httpcore", *_UNUSED_OPTIONAL_MODULES)):
        yield
        return
    for name in _UNUSED_OPTIONAL_MODULES:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in _UNUSED_OPTIONAL_MODULES:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def _run_remote(fn: Callable[[Any, RequestContext], Awaitable[T]]) -> T:
    with _without_unused_http_modules():
        import httpcore  # noqa: F401  (loaded here, not by the first request, to skip HTTP/2)

        from openviking_mcp.client.http import AsyncHTTPClient

    async def go() -> T:
        async with AsyncHTTPClient(
            opts.url, opts.api_key, account=opts.account, user=opts.user
        ) as client:
            client.idempotency_key = opts.idempotency_key
            placeholder = RequestContext(opts.account or "default", opts.user or "default")
            return await fn(_RemoteService(client), placeholder)

    return run_async(go)


UriArg = Annotated[str, typer.Argument(help="A viking:// URI.")]
IdempotencyKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key",
        help="With --url: run this change at most once per key (docs/idempotency.md).",
    ),
]
