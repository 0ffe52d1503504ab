"""What ``serve`` tells the person who started it, on stderr.

At once, :func:`render_listening`: the address and the data folder, and that the rest follows.
Once the start is over (storage and index open, embedding model loaded, bundled skills
installed), :func:`announce_when_ready` prints :func:`render_banner` once: the HTTP, MCP,
API docs and console URLs, the auth mode, the data folder, the models, and the
``claude mcp add`` line filled in (with a placeholder where an API key goes, never the key).
Rendering is pure; only :func:`announce_when_ready` looks at the running service. This module
imports nothing heavy.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openviking_mcp._version import __version__

if TYPE_CHECKING:
    from openviking_mcp.config import OpenVikingConfig, ServerConfig, VLMConfig
    from openviking_mcp.service import ContextService

__all__ = [
    "API_KEY_PLACEHOLDER",
    "POLL_SECONDS",
    "ServeStatus",
    "announce_when_ready",
    "base_url",
    "claude_mcp_add",
    "render_banner",
    "render_listening",
]

API_KEY_PLACEHOLDER = "<your-user-key>"
"""Stands for a user's key in the printed ``claude mcp add`` line (the root key has no
tenant data, so a client needs a user's key)."""
POLL_SECONDS = 0.1
"""How often :func:`announce_when_ready` looks whether the start is over."""

_ANY_HOST = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # bind-all -> this machine


@dataclass(frozen=True)
class ServeStatus:
    """What the running server reports once its start is over."""

    embedder: str
    """The embedder in use (its model id, e.g. ``local:all-MiniLM-L6-v2-int8``)."""
    problems: list[str] = field(default_factory=list)
    """Why it cannot serve (empty: ready)."""


def base_url(server: ServerConfig) -> str:
    """``http://host:port`` of the bound address, as a client on this machine reaches it."""
    host = _ANY_HOST.get(server.host, server.host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{server.port}"


def claude_mcp_add(config: OpenVikingConfig) -> str:
    """The ``claude mcp add`` command for this server's ``/mcp`` (streamable HTTP)."""
    server = config.server
    url = (server.public_base_url or base_url(server)).rstrip("/") + "/mcp"
    command = f"claude mcp add --transport http openviking {url}"
    mode = server.effective_auth_mode
    if mode == "api_key":
        command += f' --header "X-API-Key: {API_KEY_PLACEHOLDER}"'
    elif mode == "trusted":
        if server.root_api_key:
            command += ' --header "X-API-Key: <root-api-key>"'
        command += ' --header "X-OpenViking-Account: <account>"'
        command += ' --header "X-OpenViking-User: <user>"'
    return command


def render_listening(config: OpenVikingConfig) -> str:
    """The line printed as ``serve`` starts, before anything is loaded."""
    bot = "; chat bot at /chat" if config.bot.enabled else ""
    return (
        f"openviking-mcp {__version__} listening on {base_url(config.server)} "
        f"(MCP at /mcp{bot}; auth: {config.server.effective_auth_mode}; "
        f"data: {config.workspace}). Loading the index and models; a summary follows when "
        "ready."
    )


def _auth(server: ServerConfig) -> str:
    mode = server.effective_auth_mode
    if mode == "dev":
        return "dev: no API keys, loopback only (set server.root_api_key to require keys)"
    if mode == "api_key":
        return (
            "API keys (X-API-Key or Authorization: Bearer); a user's key comes from "
            "`openviking-mcp admin create-account` / `create-user`"
        )
    keyed = ", with the root key" if server.root_api_key else ", loopback only"
    return f"trusted: a gateway asserts X-OpenViking-Account / X-OpenViking-User{keyed}"


def _model(model: VLMConfig | None) -> str | None:
    if model is None:
        return None
    name = model.model or ""
    return f"{model.provider}/{name}" if model.provider and "/" not in name else name


def _models(config: OpenVikingConfig, status: ServeStatus) -> list[tuple[str, str]]:
    chat = _model(config.bot.chat_model(config.vlm))
    llm = _model(config.vlm if config.vlm.configured else None)
    rows = [
        ("Embedder", status.embedder),
        ("Chat model", chat or "none: retrieval-only chat, extractive summaries (set vlm.model)"),
    ]
    if llm != chat:
        rows.append(("LLM", llm or "none: extractive summaries, no memory extraction by LLM"))
    return rows


def render_banner(config: OpenVikingConfig, status: ServeStatus) -> str:
    """The block printed once the start is over (see the module docs)."""
    url = base_url(config.server)
    if status.problems:
        head = f"openviking-mcp {__version__} started but is NOT ready: " + "; ".join(
            status.problems
        )
    else:
        head = f"openviking-mcp {__version__} is ready."
    rows = [("HTTP", url), ("MCP", f"{url}/mcp"), ("API docs", f"{url}/docs")]
    rows.append(("Console", f"{url}/console"))
    if config.server.public_base_url:
        rows.append(("Public URL", config.server.public_base_url))
    if config.bot.enabled:
        rows.append(("Chat bot", f"{url}/chat"))
    rows += [("Auth", _auth(config.server)), ("Data", str(config.workspace))]
    rows += _models(config, status)
    width = max(len(label) for label, _ in rows) + 2
    lines = [head, *(f"  {label + ':':<{width}}{value}" for label, value in rows)]
    lines += ["  Connect Claude Code:", f"    {claude_mcp_add(config)}"]
    return "\n".join(lines) + "\n"


def _stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


async def announce_when_ready(
    app: Any, config: OpenVikingConfig, *, write: Callable[[str], None] = _stderr
) -> None:
    """Wait until the start of ``app``'s service is over, then ``write`` the banner once.

    ``app`` is the built HTTP app (its service at ``app.state.service``, started in the
    background by the app's lifespan)."""
    service: ContextService = app.state.service
    # Startup has an event for "serving" but none for the end of its last step (the bundled
    # skills), which readiness waits for too: its list of steps still loading is polled.
    while service.startup is None or service.startup.loading:  # noqa: ASYNC110
        await asyncio.sleep(POLL_SECONDS)
    problems = list(service.problems())
    report = await service.ready()
    if report.get("error"):  # the start failed: the reason is more telling than "not open"
        problems = [str(report["error"])]
    elif not problems:
        checks: dict[str, Any] = report.get("checks", {})
        problems = [f"{name}: {value}" for name, value in checks.items() if value != "ok"]
    status = ServeStatus(embedder=service.store.embedder.model_id, problems=problems)
    write(render_banner(config, status))
