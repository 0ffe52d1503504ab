"""``Idempotency-Key`` against a live server: the CLI's ``--idempotency-key`` and parallel
retries of one import from several threads."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.servers import clean_env, exe, free_port, start_server

pytestmark = pytest.mark.slow


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [exe("openviking"), *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_key_and_parallel_retries_on_a_live_server(tmp_path: Path) -> None:
    port = free_port()
    proc = start_server(tmp_path, ["openviking-mcp", "serve"], port)
    url = f"http://127.0.0.1:{port}"
    env = clean_env(tmp_path)
    try:
        added = _cli(env, "--url", url, "session", "add-message", "s1", "user", "Ship on Friday")
        assert added.returncode == 0, added.stderr
        commit = ("--url", url, "-o", "json", "session", "commit", "s1")
        first = _cli(env, *commit, "--idempotency-key", "commit-s1")
        assert first.returncode == 0, first.stderr
        again = _cli(env, *commit, "--idempotency-key", "commit-s1")
        assert again.returncode == 0, again.stderr
        assert again.stdout == first.stdout
        other = ("--url", url, "-o", "json", "session", "commit", "s2")
        reused = _cli(env, *other, "--idempotency-key", "commit-s1")
        assert reused.returncode == 1
        assert json.loads(reused.stdout)["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
        _parallel_imports(url)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _parallel_imports(url: str) -> None:
    """Six threads send one import with one key at once: one task, six equal answers."""
    with httpx.Client(base_url=url, timeout=60) as http:
        files = {"file": ("guide.md", b"# Guide\n\nRoll out with a canary.\n", "text/markdown")}
        upload = http.post("/api/v1/resources/temp_upload", files=files).json()["result"]
        body = {"temp_file_id": upload["temp_file_id"]}

        def send(_: int) -> httpx.Response:
            return http.post("/api/v1/resources", json=body, headers={"Idempotency-Key": "imp"})

        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(send, range(6)))
        assert {a.status_code for a in answers} == {200}
        assert len({a.content for a in answers}) == 1
        tasks = http.get("/api/v1/tasks", params={"limit": 200}).json()["result"]
        imports = [t for t in tasks if "resource" in str(t.get("task_type"))]
        assert [t["task_id"] for t in imports] == [answers[0].json()["result"]["task_id"]]
