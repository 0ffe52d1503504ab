"""The `openviking-mcp` command: store commands, output modes and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openviking_mcp.cli import app

runner = CliRunner()


def run(workspace: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--path", str(workspace), *args], input=input)
    return result.exit_code, result.stdout, result.stderr


def test_write_read_ls_round_trip(workspace: Path) -> None:
    code, out, _ = run(workspace, "write", "viking://resources/a.md", "hello", "--mode", "create")
    assert code == 0
    assert json.loads(out)["written_bytes"] == 5
    assert json.loads(out)["vector_status"] == "complete"  # indexed before the command exits
    code, out, _ = run(workspace, "read", "viking://resources/a.md")
    assert (code, out) == (0, "hello\n")
    code, out, _ = run(workspace, "ls", "viking://resources")
    assert code == 0
    assert "viking://resources/a.md" in out
    assert "isDir" in out


def test_write_from_stdin_and_append(workspace: Path) -> None:
    assert (
        run(
            workspace, "write", "viking://resources/s.md", "--mode", "create", input="from stdin\n"
        )[0]
        == 0
    )
    assert run(workspace, "write", "viking://resources/s.md", "more\n", "--mode", "append")[0] == 0
    assert run(workspace, "read", "viking://resources/s.md")[1] == "from stdin\nmore\n"


def test_json_and_compact_output(workspace: Path) -> None:
    run(workspace, "mkdir", "viking://resources/p", "--description", "Project P")
    code, out, _ = run(workspace, "-o", "json", "ls", "viking://resources")
    assert code == 0
    assert json.loads(out)[0]["uri"] == "viking://resources/p"
    code, out, _ = run(workspace, "-o", "json", "--compact", "abstract", "viking://resources/p")
    assert json.loads(out) == {"ok": True, "result": "Project P"}


def test_none_results_print_nothing(workspace: Path) -> None:
    assert run(workspace, "mkdir", "viking://resources/q") == (0, "", "")
    assert run(workspace, "mv", "viking://resources/q", "viking://resources/r") == (0, "", "")
    assert run(workspace, "rm", "-r", "viking://resources/r") == (0, "", "")


def test_errors_have_exit_code_1_and_json_error(workspace: Path) -> None:
    code, _, err = run(workspace, "read", "viking://resources/missing.md")
    assert code == 1
    assert "NOT_FOUND" in err
    code, out, _ = run(workspace, "-o", "json", "--compact", "read", "viking://nope/x")
    assert code == 1
    payload = json.loads(out)
    assert payload["ok"] is False
    assert payload["error"]["code"] == "INVALID_URI"


def test_config_errors_exit_2(workspace: Path, tmp_path: Path) -> None:
    bad = tmp_path / "ov.conf"
    bad.write_text('{"storage": {"wrokspace": "x"}}')
    result = runner.invoke(app, ["--config", str(bad), "ls"])
    assert result.exit_code == 2
    assert "storage.wrokspace" in result.stderr


def test_tree_renders_indented(workspace: Path) -> None:
    run(workspace, "write", "viking://resources/t/a/b.md", "x", "--mode", "create")
    code, out, _ = run(workspace, "tree", "viking://resources/t")
    assert code == 0
    assert out.splitlines() == ["a/", "  b.md"]


def test_admin_commands(workspace: Path) -> None:
    code, out, _ = run(workspace, "-o", "json", "admin", "create-account", "acme", "--admin", "ann")
    assert code == 0
    key = json.loads(out)["user_key"]
    assert key.count(".") == 2
    code, out, _ = run(workspace, "-o", "json", "admin", "list-users", "acme")
    assert [u["user_id"] for u in json.loads(out)] == ["ann"]
    assert key not in out
    code, out, _ = run(workspace, "admin", "list-accounts")
    assert "acme" in out
    assert "default" in out
    assert run(workspace, "admin", "create-account", "acme", "--admin", "x")[0] == 1


def test_wait_runs_the_queued_work(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from openviking_mcp import ContextService
    from tests.conftest import hashing_config

    monkeypatch.setenv("OPENVIKING__EMBEDDING__DENSE__PROVIDER", "hashing")
    monkeypatch.setenv("OPENVIKING__EMBEDDING__DENSE__DIMENSION", "256")

    async def statuses(write: bool) -> list[str]:
        service = ContextService(hashing_config(workspace), background_tasks=False)
        await service.initialize()
        try:
            ctx = service.dev_context()
            if write:
                await service.write(ctx, "viking://resources/a.md", "queued", mode="create")
            return [t["status"] for t in await service.list_tasks(ctx)]
        finally:
            await service.close()

    assert "pending" in asyncio.run(statuses(write=True))  # queued, not run
    code, out, _ = run(workspace, "-o", "json", "wait", "--timeout", "60")
    assert code == 0, out
    assert json.loads(out)["tasks"].get("pending", 0) == 0
    after = asyncio.run(statuses(write=False))
    assert after
    assert set(after) == {"completed"}


def test_named_key_commands(workspace: Path) -> None:
    assert run(workspace, "admin", "create-account", "acme", "--admin", "ann")[0] == 0
    args = ("--scope", "read", "--prefix", "viking://resources/project-x/")
    code, out, _ = run(workspace, "-o", "json", "admin", "create-key", "acme", "ann", "ci", *args)
    assert code == 0, out
    created = json.loads(out)
    secret = created["api_key"]
    code, out, _ = run(workspace, "-o", "json", "admin", "list-keys", "acme", "ann")
    listed = json.loads(out)
    assert [(k["name"], k["scopes"], k["uri_prefix"]) for k in listed] == [
        ("ci", ["read"], "viking://resources/project-x")
    ]
    assert secret not in out
    key_id = listed[0]["key_id"]
    assert run(workspace, "admin", "revoke-key", "acme", "ann", key_id)[0] == 0
    code, out, _ = run(workspace, "-o", "json", "admin", "list-keys", "acme", "ann")
    assert key_id not in out  # a revoked key is no longer listed


def test_config_command_masks_secrets(tmp_path: Path) -> None:
    conf = tmp_path / "ov.conf"
    conf.write_text(json.dumps({"server": {"root_api_key": "topsecret"}}))
    result = runner.invoke(app, ["--config", str(conf), "-o", "json", "config"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["source"] == str(conf)
    assert data["config"]["server"]["root_api_key"] == "***"
    assert "topsecret" not in result.stdout


def test_version_flag() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("openviking-mcp ")


@pytest.mark.slow
def test_real_entry_point(workspace: Path) -> None:
    exe = Path(sys.executable).with_name("openviking-mcp")
    env = {**os.environ, "HOME": str(workspace.parent / "home")}
    done = subprocess.run(
        [str(exe), "--path", str(workspace), "-o", "json", "ls", "viking://"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [e["uri"] for e in json.loads(done.stdout)] == [
        "viking://agent",
        "viking://resources",
        "viking://user",
    ]
    missing = subprocess.run(
        [str(exe), "--config", str(workspace / "nope.conf"), "ls"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert missing.returncode == 2


def test_reindex_all_repairs_a_model_change(workspace: Path, tmp_path: Path) -> None:
    def conf(dim: int) -> str:
        path = tmp_path / f"ov{dim}.conf"
        path.write_text(
            json.dumps(
                {
                    "storage": {"workspace": str(workspace)},
                    "embedding": {"dense": {"provider": "hashing", "dimension": dim}},
                }
            )
        )
        return str(path)

    old, new = conf(256), conf(128)
    assert (
        runner.invoke(
            app,
            [
                "--config",
                old,
                "write",
                "viking://resources/w.md",
                "wombat burrows",
                "--mode",
                "create",
            ],
        ).exit_code
        == 0
    )
    broken = runner.invoke(app, ["--config", new, "find", "wombat"])
    assert broken.exit_code == 1
    assert "FAILED_PRECONDITION" in broken.stderr
    assert "reindex --all" in broken.stderr
    fixed = runner.invoke(app, ["--config", new, "-o", "json", "reindex", "--all"])
    assert fixed.exit_code == 0, fixed.stderr
    assert json.loads(fixed.stdout)["model_id"] == "hashing:v1-128"
    found = runner.invoke(app, ["--config", new, "-o", "json", "find", "wombat burrows"])
    assert found.exit_code == 0
    assert json.loads(found.stdout)["resources"][0]["uri"] == "viking://resources/w.md"


def test_cp_and_paged_ls(workspace: Path) -> None:
    for name in ("a", "b", "c"):
        uri = f"viking://resources/cl/{name}.md"
        assert run(workspace, "write", uri, name, "--mode", "create")[0] == 0
    code, out, _ = run(workspace, "cp", "viking://resources/cl/a.md", "viking://resources/cl/z.md")
    assert code == 0
    assert "viking://resources/cl/z.md" in out
    code, out, _ = run(workspace, "ls", "viking://resources/cl", "-s", "--offset", "1", "-n", "2")
    assert code == 0
    assert "b.md" in out
    assert "c.md" in out
    assert "a.md" not in out
    assert "z.md" not in out
