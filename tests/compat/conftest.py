"""A live server in api_key mode and the cached upstream clients pointed at it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.compat._clients import Live
from tests.compat._tools import Tools, install_tools
from tests.servers import free_port, start_server

ROOT_KEY = "compat-root-key"


@pytest.fixture(scope="session")
def tools() -> Tools:
    got = install_tools()
    if isinstance(got, str):
        pytest.skip(f"cannot install openviking-sdk/ov from the package registry (offline?): {got}")
    return got


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["result"]


def _keys(url: str) -> tuple[str, str]:
    """Create account acme with admin ann and user ben; their keys."""
    with httpx.Client(base_url=url, timeout=30) as http:
        made = http.post(
            "/api/v1/admin/accounts",
            json={"account_id": "acme", "admin_user_id": "ann"},
            headers={"X-API-Key": ROOT_KEY},
        )
        ann = str(_ok(made)["user_key"])
        made = http.post(
            "/api/v1/admin/accounts/acme/users",
            json={"user_id": "ben", "role": "user"},
            headers={"X-API-Key": ann},
        )
        return ann, str(_ok(made)["user_key"])


def _serve(tmp_path: Path, tools: Tools) -> Iterator[Live]:
    conf = tmp_path / "ov.conf"
    conf.write_text(
        json.dumps(
            {
                "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
                "server": {"root_api_key": ROOT_KEY},
            }
        )
    )
    port = free_port()
    proc = start_server(tmp_path, ["openviking-mcp", "serve", "--config", str(conf)], port)
    try:
        url = f"http://127.0.0.1:{port}"
        ann, ben = _keys(url)
        home = tmp_path / "client-home"
        (home / ".openviking").mkdir(parents=True)
        (home / ".openviking" / "ovcli.conf").write_text(json.dumps({"url": url, "api_key": ben}))
        # ov asks for a display language once before any command
        (home / ".openviking" / "ovcli.settings.conf").write_text(json.dumps({"language": "en"}))
        yield Live(url, ROOT_KEY, ann, ben, home, tools)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, tools: Tools) -> Iterator[Live]:
    """One server per test module (each module leaves its own data behind)."""
    yield from _serve(tmp_path_factory.mktemp("compat"), tools)
