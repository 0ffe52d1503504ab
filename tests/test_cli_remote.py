"""`openviking` (the CLI's entry point) against a live server: --url, ovcli.conf, exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.servers import clean_env, exe, free_port, start_server

pytestmark = pytest.mark.slow


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [exe("openviking"), *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_talks_to_a_server(tmp_path: Path) -> None:
    port = free_port()
    proc = start_server(tmp_path, ["openviking-mcp", "serve"], port)
    url = f"http://127.0.0.1:{port}"
    env = clean_env(tmp_path)
    try:
        done = _cli(
            env, "--url", url, "write", "viking://resources/r.md", "remote", "--mode", "create"
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["written_bytes"] == 6
        done = _cli(env, "--url", url, "read", "viking://resources/r.md")
        assert done.stdout == "remote\n"

        # ovcli.conf (seed 000): url and the default output format
        conf = tmp_path / "ovcli.conf"
        conf.write_text(json.dumps({"url": url, "output": "json"}))
        env["OPENVIKING_CLI_CONFIG_FILE"] = str(conf)
        done = _cli(env, "ls", "viking://resources")
        assert done.returncode == 0, done.stderr
        assert [e["name"] for e in json.loads(done.stdout)] == ["r.md"]
        done = _cli(env, "-c", "stat", "viking://resources/missing.md")
        assert done.returncode == 1
        assert json.loads(done.stdout)["error"]["code"] == "NOT_FOUND"
        # the data really lives on the server, not in a local store
        assert not (tmp_path / "home" / ".openviking" / "data").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    env.pop("OPENVIKING_CLI_CONFIG_FILE")
    done = _cli(env, "--url", url, "ls")
    assert done.returncode == 3  # connection error
