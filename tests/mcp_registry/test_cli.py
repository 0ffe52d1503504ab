"""`openviking-mcp mcp-servers ...` on a local workspace: register (the first import), list,
show, update, refresh and remove, with the header never printed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.mcp_registry._fake import REPO, serving_on
from tests.servers import exe, free_port

TOKEN = "cli-s3cret-header-value"


@pytest.mark.slow
def test_cli_mcp_servers(tmp_path: Path) -> None:
    conf = tmp_path / "ov.conf"
    conf.write_text(
        json.dumps(
            {
                "storage": {"workspace": str(tmp_path / "data")},
                "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            }
        )
    )
    base = [exe("openviking-mcp"), "--config", str(conf), "-o", "json"]
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path / "home")}
    printed: list[str] = []

    def cli(*args: str) -> tuple[int, Any]:
        done = subprocess.run(
            [*base, "mcp-servers", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=120,
        )
        printed.extend((done.stdout, done.stderr))
        return done.returncode, json.loads(done.stdout) if done.stdout.strip() else done.stderr

    with serving_on(free_port(), "v1", require_header=f"X-Token: {TOKEN}") as url:
        code, registered = cli("register", "tools", "--url", url, "-H", f"X-Token: {TOKEN}")
        assert code == 0, registered
        server_id = registered["server"]["server_id"]
        assert registered["report"], registered
        assert registered["report"]["added"] == ["search-web", "get-weather"]
        code, listed = cli("list")
        assert code == 0, listed
        assert [s["name"] for s in listed] == ["tools"]
        code, shown = cli("show", server_id)
        assert (code, shown["header_names"]) == (0, ["X-Token"])
        code, updated = cli("update", server_id, "--interval", "0", "--name", "renamed")
        assert code == 0, updated
        assert (updated["name"], updated["refresh_interval_seconds"]) == ("renamed", 0)
        code, refreshed = cli("refresh", server_id)
        assert code == 0, refreshed
        assert refreshed["report"]["unchanged"] == ["search-web", "get-weather"]
    code, error = cli("refresh", server_id)
    assert code == 1
    assert error["error"]["code"] == "UNAVAILABLE"
    code, removed = cli("remove", server_id, "--remove-skills")
    assert code == 0, removed
    assert sorted(removed["removed_skills"]) == ["get-weather", "search-web"]
    code, listed = cli("list")
    assert (code, listed) == (0, [])
    assert all(TOKEN not in text for text in printed)
