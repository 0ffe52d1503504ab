"""`openviking-mcp session ...`: create, list, get, add-message, commit, archives, retry, rm."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from openviking_mcp.cli import app

runner = CliRunner()


def _run(workspace: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--path", str(workspace), "-o", "json", *args], input=input)
    return result.exit_code, result.stdout, result.stderr


def test_session_commands(workspace: Path) -> None:
    code, out, _ = _run(workspace, "session", "create", "cli-1")
    assert code == 0
    assert json.loads(out)["uri"] == "viking://user/default/sessions/cli-1"

    code, out, _ = _run(workspace, "session", "add-message", "cli-1", "user", "I like tea")
    assert code == 0
    assert json.loads(out)["message_count"] == 1
    code, out, _ = _run(workspace, "session", "add-message", "cli-1", "assistant", "-", input="ok")
    assert json.loads(out)["message_count"] == 2

    code, out, _ = _run(workspace, "session", "list")
    assert [s["session_id"] for s in json.loads(out)] == ["cli-1"]
    code, out, _ = _run(workspace, "session", "get", "cli-1")
    assert json.loads(out)["total_message_count"] == 2

    code, out, _ = _run(workspace, "session", "commit", "cli-1", "--keep", "1")
    assert code == 0
    commit = json.loads(out)
    assert commit["status"] == "accepted"
    assert commit["archive_uri"].endswith("/history/archive_001")
    code, out, _ = _run(workspace, "session", "commit", "cli-1", "--keep", "1")
    assert json.loads(out)["reason"] == "all_within_keep_window"

    code, out, _ = _run(workspace, "session", "archives", "cli-1")
    archives = json.loads(out)
    assert [a["archive_id"] for a in archives] == ["archive_001"]
    assert archives[0]["message_count"] == 1

    done = workspace / "accounts/default/user/default/sessions/cli-1/history/archive_001/.done"
    assert done.parent.is_dir()
    done.write_text("x")
    code, out, _ = _run(workspace, "session", "retry", "cli-1", "1")
    assert code == 1
    assert json.loads(out)["error"]["code"] == "FAILED_PRECONDITION"

    code, out, _ = _run(workspace, "session", "add-message", "cli-1", "robot", "x")
    assert code == 1
    assert json.loads(out)["error"]["code"] == "INVALID_ARGUMENT"
    code, out, _ = _run(workspace, "session", "get", "nope")
    assert code == 1
    assert json.loads(out)["error"]["code"] == "NOT_FOUND"

    code, out, _ = _run(workspace, "session", "rm", "cli-1")
    assert code == 0
    code, out, _ = _run(workspace, "session", "list")
    assert json.loads(out) == []


def test_session_config_command(workspace: Path) -> None:
    assert _run(workspace, "session", "create", "cfg")[0] == 0
    code, out, _ = _run(
        workspace, "session", "config", "cfg", "--auto-commit", '{"message_count_threshold": 7}'
    )
    assert code == 0
    assert json.loads(out)["auto_commit_policy"]["message_count_threshold"] == 7
    code, out, _ = _run(workspace, "session", "config", "cfg", "--event-tag", "Team=Core")
    shown = json.loads(out)
    assert shown["memory_extraction_config"] == {"events": {"tags": ["team=core"]}}
    assert shown["auto_commit_policy"]["message_count_threshold"] == 7  # untouched
    code, out, _ = _run(workspace, "session", "config", "cfg", "--no-auto-commit")
    assert json.loads(out)["auto_commit_policy"] is None
    code, out, _ = _run(workspace, "session", "get", "cfg")
    assert json.loads(out)["auto_commit_policy"] is None
    code, out, _ = _run(workspace, "session", "config", "cfg", "--event-tag", "")
    assert json.loads(out)["memory_extraction_config"] == {"events": {"tags": []}}
    assert _run(workspace, "session", "config", "cfg", "--auto-commit", "{nope")[0] != 0
    assert _run(workspace, "session", "config", "cfg", "--event-tag", "bad")[0] != 0
    assert _run(workspace, "session", "config", "missing", "--no-auto-commit")[0] != 0
