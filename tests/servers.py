"""Starting the project's own server in a subprocess, for tests of real transports."""

from __future__ import annotations

import http.server
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.fakes.quiet_http import QuietHTTPServer

if TYPE_CHECKING:
    from openviking_mcp.service import ContextService

__all__ = [
    "CHROMIUM",
    "CHROMIUM_FLAGS",
    "clean_env",
    "exe",
    "free_port",
    "loopback_http",
    "server_log",
    "serving",
    "start_server",
]


CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium (the browser tests never download one)."""
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)
"""Headless Chromium on a closed machine: no background connections, and every host but
127.0.0.1 unresolvable, so a page that needs another site fails visibly."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def loopback_http(
    handler: type[http.server.BaseHTTPRequestHandler], *, tls: ssl.SSLContext | None = None
) -> Iterator[int]:
    """A threaded HTTP (or, with ``tls``, HTTPS) server of ``handler`` on a free loopback
    port, for as long as the block runs; yields the port."""
    httpd = QuietHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()


def exe(name: str) -> str:
    """A console script of this virtualenv."""
    return str(Path(sys.executable).with_name(name))


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment without OPENVIKING_* variables and with a private HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENVIKING")}
    env["HOME"] = str(tmp_path / "home")
    return env


def server_log(tmp_path: Path) -> Path:
    """Where :func:`start_server` writes the server's output."""
    return tmp_path / "server.log"


def start_server(
    tmp_path: Path, command: list[str], port: int, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Run ``command --path tmp/data --port port`` and wait until ``/health`` answers and
    reports nothing still loading (the server starts in the background). ``env``: variables
    added to :func:`clean_env`'s.

    Output goes to :func:`server_log` (a file, not a pipe: an unread pipe fills up and blocks
    a chatty server)."""
    log = server_log(tmp_path).open("wb")
    proc = subprocess.Popen(
        [exe(command[0]), *command[1:], "--path", str(tmp_path / "data"), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**clean_env(tmp_path), **(env or {})},
        cwd=tmp_path,
    )
    log.close()
    deadline = time.monotonic() + 60
    while True:
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
            if "loading" not in health.json():
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out = server_log(tmp_path).read_text(errors="replace")
            pytest.fail(f"server did not start: {out[-4000:]}")
        time.sleep(0.1)


@contextmanager
def serving(service: ContextService) -> Iterator[str]:
    """The app of ``service`` on a real uvicorn in a thread (127.0.0.1, a free port); its base
    URL. The service is closed when the server stops."""
    import uvicorn
    from fastapi import FastAPI

    from http_api import create_app

    app: FastAPI = create_app(service=service)
    served = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[None]:
        async with served(a):
            yield
        await service.close()  # create_app leaves a given service open

    app.router.lifespan_context = lifespan
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
