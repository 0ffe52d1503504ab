"""The fake MCP server of ``tests.fakes.mcp_tools_server`` over streamable HTTP on a port the
test chooses, so that a test can stop it (the server is down) and start another tool set at the
same URL (the server's tools changed)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["REPO", "serving_on"]

REPO = Path(__file__).resolve().parents[2]


def _wait_listening(proc: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                output = proc.stdout.read().decode() if proc.stdout else ""
                raise RuntimeError(f"fake MCP server did not start: {output}") from None
            time.sleep(0.1)


@contextmanager
def serving_on(port: int, tool_set: str, *, require_header: str | None = None) -> Iterator[str]:
    """Serve ``tool_set`` at ``http://127.0.0.1:{port}/mcp`` for the ``with`` block."""
    command = [sys.executable, "-m", "tests.fakes.mcp_tools_server", "--tools", tool_set]
    command += ["--port", str(port)]
    if require_header:
        command += ["--require-header", require_header]
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_listening(proc, port)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
