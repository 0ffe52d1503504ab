"""`openviking-mcp serve` / `openviking-server`: a real uvicorn process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _exe(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENVIKING")}
    env["HOME"] = str(tmp_path / "home")
    return env


@pytest.mark.parametrize("command", [["openviking-mcp", "serve"], ["openviking-server"]])
def test_server_answers_health_and_ready(tmp_path: Path, command: list[str]) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [_exe(command[0]), *command[1:], "--path", str(tmp_path / "data"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=_env(tmp_path),
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    pytest.fail(f"server did not start: {out}")
                time.sleep(0.2)
        assert health.status_code == 200
        assert health.json()["healthy"] is True
        ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5)
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
        assert (tmp_path / "data" / "accounts" / "default" / "user" / "default").is_dir()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    log = proc.stdout.read().decode() if proc.stdout else ""
    # uvicorn shuts down gracefully, then re-raises SIGTERM (exit -15).
    assert "Application shutdown complete" in log
    assert proc.returncode in (0, -15)


def test_dev_mode_refuses_a_public_bind(tmp_path: Path) -> None:
    done = subprocess.run(
        [_exe("openviking-mcp"), "--path", str(tmp_path / "data"), "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "loopback" in done.stderr
