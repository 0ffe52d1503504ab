"""`openviking-mcp serve` / `openviking-server`: a real uvicorn process."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from tests.servers import clean_env, exe, free_port, server_log, start_server

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("command", [["openviking-mcp", "serve"], ["openviking-server"]])
def test_server_answers_health_and_ready(tmp_path: Path, command: list[str]) -> None:
    port = free_port()
    proc = start_server(tmp_path, command, port)
    try:
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
        assert health.status_code == 200
        assert health.json()["healthy"] is True
        ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5)
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
        assert (tmp_path / "data" / "accounts" / "default" / "user" / "default").is_dir()
        # a fresh workspace gets the bundled skills once
        skills = tmp_path / "data" / "accounts" / "default" / "agent" / "skills"
        assert (skills / "use-openviking" / "SKILL.md").is_file()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    log = server_log(tmp_path).read_text(errors="replace")
    # uvicorn shuts down gracefully, then re-raises SIGTERM (exit -15).
    assert "Application shutdown complete" in log
    assert proc.returncode in (0, -15)


def test_dev_mode_refuses_a_public_bind(tmp_path: Path) -> None:
    done = subprocess.run(
        [exe("openviking-mcp"), "--path", str(tmp_path / "data"), "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        env=clean_env(tmp_path),
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "loopback" in done.stderr
