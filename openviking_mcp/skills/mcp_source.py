"""Listing the tools of a live MCP server, to import them as skills.

:func:`fetch_mcp_tools` connects with the official ``mcp`` client, either by launching a command
(stdio) or to a streamable-HTTP URL, follows ``tools/list`` pagination to the end and returns an
:class:`McpListing`: who the server is (``server``) and every tool as a plain
``{name, description, inputSchema}`` dict, ready for
:func:`~openviking_mcp.skills.mcp_convert.mcp_tool_to_skill`.

``server["id"]`` names the source so a later import can recognise the skills it made: for stdio
the command line (``shlex.join``), for HTTP the URL without credentials, query or fragment.
Header and environment values (tokens) are used for the connection only and never returned.
Every failure is an :class:`~openviking_mcp.contract.errors.OpenVikingError`: a bad request is
``InvalidArgumentError``, a server that cannot be started, reached or understood in time is
``UnavailableError``.
"""

from __future__ import annotations

import shlex
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import IO, Any, Literal, TextIO, cast
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx2
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CONNECTION_CLOSED, Implementation

from openviking_mcp.contract.errors import InvalidArgumentError, OpenVikingError, UnavailableError

__all__ = ["MAX_MCP_TOOLS", "McpListing", "fetch_mcp_tools", "server_id_for_url"]

MAX_MCP_TOOLS = 1000
"""Most tools read from one server; a listing that goes on longer is refused."""
_MAX_PAGES = 200
_STDERR_TAIL = 2000

Transport = Literal["stdio", "http"]


@dataclass(frozen=True)
class McpListing:
    """What a server offers: ``server`` is ``{id, transport, name, version}``, ``tools`` a list
    of ``{name, description, inputSchema}`` in the server's order."""

    server: dict[str, Any]
    tools: list[dict[str, Any]] = field(default_factory=list)


def server_id_for_url(url: str) -> str:
    """The stable id of an HTTP server: scheme, host, port and path; no userinfo, query or
    fragment (where tokens hide); scheme and host lowercased."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, "", ""))


def _check_url(url: str) -> str:
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError as exc:
        raise InvalidArgumentError(f"Invalid MCP server URL: {exc}", {"field": "url"}) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgumentError(
            "The MCP server URL must be an http:// or https:// URL with a host",
            {"field": "url", "value": server_id_for_url(url)},
        )
    return url


def _check_command(command: list[str]) -> list[str]:
    if not command or not all(isinstance(arg, str) for arg in command) or not command[0].strip():
        raise InvalidArgumentError(
            "The MCP server command must be a non-empty list of strings (program, args...)",
            {"field": "command"},
        )
    if any("\0" in arg for arg in command):
        raise InvalidArgumentError(
            "The MCP server command contains a NUL byte", {"field": "command"}
        )
    return command


def _check_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    checked: dict[str, str] = {}
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not name.strip() or not isinstance(value, str):
            raise InvalidArgumentError(
                "Headers must map names to string values", {"field": "headers"}
            )
        if any(c in name + value for c in "\r\n\0") or any(c in name for c in " :"):
            raise InvalidArgumentError(
                f"Invalid header {name.strip()!r}", {"field": "headers", "header": name.strip()}
            )
        checked[name.strip()] = value
    return checked


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, or ``[exc]``."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _tail(log: IO[str]) -> str:
    try:
        log.flush()
        log.seek(0)
        text = log.read()
    except (OSError, ValueError):
        return ""
    return text[-_STDERR_TAIL:].strip()


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _translate(
    exc: BaseException, *, where: str, transport: Transport, stderr: str, http_status: int | None
) -> OpenVikingError:
    """A clear typed error for anything the connection raised."""
    leaves = _leaves(exc)
    typed = next((e for e in leaves if isinstance(e, OpenVikingError)), None)
    if typed is not None:
        return typed
    first = next((e for e in leaves if not isinstance(e, anyio.get_cancelled_exc_class())), exc)
    details: dict[str, Any] = {"server": where, "transport": transport}
    if stderr:
        details["stderr"] = stderr
    if isinstance(first, FileNotFoundError | PermissionError) and transport == "stdio":
        reason = "not found" if isinstance(first, FileNotFoundError) else "not executable"
        return UnavailableError(
            f"Cannot start the MCP server {where!r}: program {reason}",
            {**details, "reason": "spawn_failed"},
        )
    if http_status is not None and http_status >= 400:
        phrase = httpx2.codes.get_reason_phrase(http_status)
        hint = {
            401: " (check the headers)",
            403: " (check the headers)",
            404: " (is this the MCP endpoint?)",
        }
        return UnavailableError(
            f"The MCP server at {where} answered HTTP {http_status} {phrase}".rstrip()
            + hint.get(http_status, ""),
            {**details, "reason": "http_status", "status": http_status},
        )
    if isinstance(first, httpx2.TransportError | OSError):
        return UnavailableError(
            f"Cannot connect to the MCP server {where}: {first or type(first).__name__}",
            {**details, "reason": "connection_failed"},
        )
    if isinstance(first, MCPError):
        said = f"; it said: {_last_line(stderr)}" if stderr else ""
        if first.code == CONNECTION_CLOSED:
            return UnavailableError(
                f"The MCP server {where} closed the connection before listing its tools{said}",
                {**details, "reason": "connection_closed"},
            )
        return UnavailableError(
            f"The MCP server {where} refused to list its tools: {first.message} "
            f"(code {first.code})",
            {**details, "reason": "protocol_error", "code": first.code},
        )
    return UnavailableError(
        f"{where} did not behave like an MCP server: {type(first).__name__}: {first}",
        {**details, "reason": "not_mcp"},
    )


def _tool_dict(tool: Any) -> dict[str, Any]:
    schema = tool.input_schema
    return {
        "name": tool.name,
        "description": tool.description or "",
        "inputSchema": dict(schema) if isinstance(schema, Mapping) else {},
    }


async def _list_all(client: Client, where: str) -> list[dict[str, Any]]:
    tools: list[dict[str, Any]] = []
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(_MAX_PAGES):
        page = await client.list_tools(cursor=cursor, cache_mode="bypass")
        tools.extend(_tool_dict(tool) for tool in page.tools)
        if len(tools) > MAX_MCP_TOOLS:
            raise UnavailableError(
                f"The MCP server {where} offers more than {MAX_MCP_TOOLS} tools",
                {"server": where, "reason": "too_many_tools", "max_tools": MAX_MCP_TOOLS},
            )
        cursor = page.next_cursor
        if not cursor:
            return tools
        if cursor in seen:
            break
        seen.add(cursor)
    raise UnavailableError(
        f"The MCP server {where} keeps paginating tools/list without an end",
        {"server": where, "reason": "endless_pagination"},
    )


class _Connection:
    """Opens the SDK client for one server; keeps what an error message needs (the server's
    stderr for stdio, the last HTTP error status for HTTP)."""

    def __init__(
        self,
        *,
        argv: list[str] | None,
        endpoint: str | None,
        headers: dict[str, str],
        env: dict[str, str] | None,
        timeout: float,
        stderr: TextIO,
    ) -> None:
        self.argv, self.endpoint, self.headers, self.env = argv, endpoint, headers, env
        self.timeout = timeout
        self.http_status: int | None = None
        self.stderr = stderr

    async def _record(self, response: httpx2.Response) -> None:
        if response.status_code >= 400:
            self.http_status = response.status_code

    @asynccontextmanager
    async def client(self) -> AsyncIterator[Client]:
        async with AsyncExitStack() as stack:
            transport: Any
            if self.argv is not None:
                params = StdioServerParameters(
                    command=self.argv[0], args=self.argv[1:], env=self.env or None
                )
                transport = stdio_client(params, errlog=self.stderr)
            else:
                assert self.endpoint is not None
                http = await stack.enter_async_context(
                    httpx2.AsyncClient(
                        headers=self.headers,
                        timeout=httpx2.Timeout(self.timeout),
                        event_hooks={"response": [self._record]},
                    )
                )
                transport = streamable_http_client(self.endpoint, http_client=http)
            yield await stack.enter_async_context(Client(transport, cache=None))


@dataclass(frozen=True)
class _Target:
    """A checked request for one server: exactly one of ``argv`` (stdio) or ``endpoint``
    (HTTP), the server's id (``where``) and transport, and the headers to send."""

    where: str
    transport: Transport
    argv: list[str] | None = None
    endpoint: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _check_target(
    *,
    command: list[str] | None,
    url: str | None,
    headers: dict[str, str] | None,
    env: dict[str, str] | None,
    timeout: float,
) -> _Target:
    """Validate the arguments of :func:`fetch_mcp_tools` and name the server they point at."""
    if (command is None) == (url is None):
        raise InvalidArgumentError(
            "Give exactly one MCP server: a command (stdio) or a url (streamable HTTP)",
            {"field": "command" if command is not None else "url"},
        )
    if not timeout or timeout <= 0:
        raise InvalidArgumentError("timeout must be positive", {"field": "timeout"})
    checked_headers = _check_headers(headers)
    if command is not None:
        if checked_headers:
            raise InvalidArgumentError(
                "headers apply to a url, not to a command", {"field": "headers"}
            )
        argv = _check_command(command)
        return _Target(where=shlex.join(argv), transport="stdio", argv=argv)
    if env:
        raise InvalidArgumentError("env applies to a command, not to a url", {"field": "env"})
    endpoint = _check_url(url or "")
    return _Target(
        where=server_id_for_url(endpoint),
        transport="http",
        endpoint=endpoint,
        headers=checked_headers,
    )


def _timeout_error(target: _Target, timeout: float, stderr: str) -> UnavailableError:
    """The error for a server that did not finish the exchange within ``timeout`` seconds."""
    details: dict[str, Any] = {"server": target.where, "transport": target.transport}
    if stderr:
        details["stderr"] = stderr
    return UnavailableError(
        f"The MCP server {target.where} did not answer within {timeout:g}s",
        {**details, "reason": "timeout"},
    )


async def _list_server(
    target: _Target, *, env: dict[str, str] | None, timeout: float, stderr: TextIO
) -> tuple[Implementation | None, list[dict[str, Any]]]:
    """Connect to the server, read its identity and all its tools within ``timeout``; any
    failure becomes a typed error (see :func:`_translate`)."""
    connection = _Connection(
        argv=target.argv,
        endpoint=target.endpoint,
        headers=target.headers,
        env=env,
        timeout=timeout,
        stderr=stderr,
    )
    try:
        with anyio.fail_after(timeout):
            async with connection.client() as client:
                info = client.server_info
                tools = await _list_all(client, target.where)
    except TimeoutError:
        raise _timeout_error(target, timeout, _tail(stderr)) from None
    except Exception as exc:
        raise _translate(
            exc,
            where=target.where,
            transport=target.transport,
            stderr=_tail(stderr),
            http_status=connection.http_status,
        ) from None
    return info, tools


async def fetch_mcp_tools(
    *,
    command: list[str] | None = None,
    url: str | None = None,
    headers: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> McpListing:
    """Connect to one MCP server and list all its tools.

    Give exactly one of ``command`` (program and arguments, launched with the SDK's safe
    default environment plus ``env``) or ``url`` (streamable HTTP, sent ``headers``).
    ``timeout`` bounds the whole exchange, start-up included.
    """
    target = _check_target(command=command, url=url, headers=headers, env=env, timeout=timeout)
    with cast(TextIO, tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")) as stderr:
        info, tools = await _list_server(target, env=env, timeout=timeout, stderr=stderr)
    server = {
        "id": target.where,
        "transport": target.transport,
        "name": info.name if info is not None else "",
        "version": info.version if info is not None else "",
    }
    return McpListing(server=server, tools=tools)
