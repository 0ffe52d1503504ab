"""`openviking-mcp serve` says where it listens at once, and prints a summary (URLs, auth, data
folder, models, the `claude mcp add` line) once it is ready; `server.port` from the config file
or the environment applies when no `--port` is given."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from http_api.banner import (
    API_KEY_PLACEHOLDER,
    ServeStatus,
    claude_mcp_add,
    render_banner,
    render_listening,
)
from openviking_mcp import OpenVikingConfig
from tests.servers import clean_env, exe, free_port

HASHING = {"embedding": {"dense": {"provider": "hashing", "dimension": 256}}}
READY = "is ready."


@contextmanager
def serving(tmp_path: Path, args: list[str], env: dict[str, str] | None = None) -> Iterator[Path]:
    """Run ``openviking-mcp serve`` with ``args`` until the banner is out; yields the file
    holding its stderr (stdout goes elsewhere, so the test sees what stderr alone shows)."""
    err_path, out_path = tmp_path / "serve.err", tmp_path / "serve.out"
    with err_path.open("wb") as err, out_path.open("wb") as out:
        proc = subprocess.Popen(
            [exe("openviking-mcp"), "serve", *args],
            stdout=out,
            stderr=err,
            env={**clean_env(tmp_path), **(env or {})},
            cwd=tmp_path,
        )
    try:
        deadline = time.monotonic() + 90
        while "claude mcp add" not in err_path.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no banner: {err_path.read_text(errors='replace')[-4000:]}")
            time.sleep(0.1)
        yield err_path
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _config_file(tmp_path: Path, extra: dict[str, object]) -> Path:
    path = tmp_path / "ov.conf"
    path.write_text(json.dumps({**HASHING, **extra}), encoding="utf-8")
    return path


def _lines(err: Path) -> list[str]:
    return [line.strip() for line in err.read_text(errors="replace").splitlines()]


@pytest.mark.slow
def test_serve_prints_the_address_at_once_and_a_banner_when_ready(tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "my data"
    conf = _config_file(tmp_path, {})
    args = ["--config", str(conf), "--path", str(data), "--port", str(port)]
    with serving(tmp_path, args) as err:
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/ready", timeout=5).json()["status"] == "ready"
        lines = _lines(err)
        listening = next(i for i, line in enumerate(lines) if "listening on" in line)
        ready = next(i for i, line in enumerate(lines) if line.endswith(READY))
        assert listening < ready
        assert f"listening on {url} " in lines[listening]
        assert f"data: {data}" in lines[listening]
        banner = lines[ready:]
        assert f"HTTP:       {url}" in banner
        assert f"MCP:        {url}/mcp" in banner
        assert f"API docs:   {url}/docs" in banner
        assert f"Console:    {url}/console" in banner
        assert f"Data:       {data}" in banner
        assert "Embedder:   hashing:v1-256" in banner
        assert any(line.startswith("Auth:       dev: no API keys") for line in banner)
        assert f"claude mcp add --transport http openviking {url}/mcp" in banner
        assert sum(line.endswith(READY) for line in lines) == 1  # printed once


@pytest.mark.slow
def test_serve_uses_the_config_files_port_without_a_port_flag(tmp_path: Path) -> None:
    port = free_port()
    conf = _config_file(tmp_path, {"server": {"port": port}})
    with serving(tmp_path, ["--config", str(conf), "--path", str(tmp_path / "data")]) as err:
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
        assert f"MCP:        http://127.0.0.1:{port}/mcp" in _lines(err)


@pytest.mark.slow
def test_serve_uses_the_environments_port_over_the_config_file(tmp_path: Path) -> None:
    file_port, env_port = free_port(), free_port()
    conf = _config_file(tmp_path, {"server": {"port": file_port}})
    env = {"OPENVIKING__SERVER__PORT": str(env_port)}
    with serving(tmp_path, ["--config", str(conf), "--path", str(tmp_path / "data")], env) as err:
        assert httpx.get(f"http://127.0.0.1:{env_port}/health", timeout=5).status_code == 200
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{file_port}/health", timeout=2)
        assert f"HTTP:       http://127.0.0.1:{env_port}" in _lines(err)


# -- rendering ---------------------------------------------------------------------------


def _config(server: dict[str, object], **extra: object) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {"server": server, "storage": {"workspace": "/srv/ov"}, **extra}
    )


def test_the_banner_of_an_api_key_server_has_a_placeholder_and_never_the_key() -> None:
    secret = "sk-root-very-secret-0123456789"
    config = _config({"root_api_key": secret, "host": "0.0.0.0", "port": 2000})
    text = render_banner(config, ServeStatus(embedder="local:all-MiniLM-L6-v2-int8"))
    assert secret not in text
    assert secret not in render_listening(config)
    assert (
        "claude mcp add --transport http openviking http://127.0.0.1:2000/mcp "
        f'--header "X-API-Key: {API_KEY_PLACEHOLDER}"'
    ) in text
    assert "Auth:       API keys" in text
    assert "Data:       /srv/ov" in text


def test_the_banner_names_the_models_and_what_is_not_ready() -> None:
    config = _config(
        {"host": "::1", "port": 1933},
        vlm={"provider": "openai", "model": "gpt-4o-mini"},
        bot={"enabled": True},
    )
    status = ServeStatus(embedder="hashing:v1-384", problems=["index: error: broken"])
    lines = render_banner(config, status).splitlines()
    assert lines[0].endswith("NOT ready: index: error: broken")
    assert "  HTTP:       http://[::1]:1933" in lines
    assert "  Chat bot:   http://[::1]:1933/chat" in lines
    assert "  Chat model: openai/gpt-4o-mini" in lines
    assert not any(line.startswith("  LLM:") for line in lines)  # the same model


def test_the_claude_line_uses_the_public_url_and_trusted_headers() -> None:
    config = _config(
        {
            "auth_mode": "trusted",
            "root_api_key": "root-key",
            "public_base_url": "https://ov.example/",
        }
    )
    line = claude_mcp_add(config)
    assert line.startswith("claude mcp add --transport http openviking https://ov.example/mcp ")
    assert '--header "X-OpenViking-Account: <account>"' in line
    assert "root-key" not in line
