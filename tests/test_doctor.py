"""`openviking-mcp doctor`: each check's ok and failure, its fix, and the exit code.

The models are the hashing embedder (no model file, no ONNX runtime) except in the test of the
default configuration, whose point is that the bundled ONNX model loads.

A read-only data folder: these tests may run as root, and root writes into a ``0o500`` folder
all the same. As root the folder is made read-only by a read-only bind mount in a private
mount namespace (``unshare --mount``), with doctor running inside it; as another user
``chmod 0o500`` is enough. Both are real write refusals (``EROFS``, ``EACCES``) from the
kernel.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from openviking_mcp import OpenViking, OpenVikingConfig
from openviking_mcp.cli import app
from openviking_mcp.doctor import DoctorService
from tests.servers import clean_env, exe, free_port, start_server

runner = CliRunner()


def _write_conf(tmp_path: Path, data: dict[str, Any] | str, name: str = "ov.conf") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _hashing_conf(workspace: Path, dimension: int = 256, **extra: Any) -> dict[str, Any]:
    return {
        "storage": {"workspace": str(workspace)},
        "embedding": {"dense": {"provider": "hashing", "dimension": dimension}},
        "server": {"port": free_port()},
        **extra,
    }


def _doctor(*args: str) -> tuple[int, dict[str, Any]]:
    """Run doctor with JSON output: the exit code and the report."""
    result = runner.invoke(app, ["-o", "json", *args, "doctor"])
    return result.exit_code, json.loads(result.stdout)


def _check(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(check for check in report["checks"] if check["name"] == name)


def test_good_config_passes(tmp_path: Path, workspace: Path) -> None:
    conf = _write_conf(tmp_path, _hashing_conf(workspace))
    code, report = _doctor("--config", str(conf))
    assert code == 0
    assert report["ok"] is True
    assert report["config_source"] == str(conf)
    assert {c["name"]: c["status"] for c in report["checks"]} == {
        "config": "ok",
        "data folder": "ok",
        "disk space": "ok",
        "embedder": "ok",
        "search index": "ok",
        "llm": "ok",
        "chat model": "ok",
        "server auth": "ok",
        "port": "ok",
        "bundled skills": "ok",
    }
    assert "hashing:v1-256" in _check(report, "embedder")["detail"]
    assert "not configured" in _check(report, "llm")["detail"]
    assert not workspace.exists()  # probed, then removed again: doctor leaves nothing behind


def test_table_output_is_one_line_per_check(tmp_path: Path, workspace: Path) -> None:
    conf = _write_conf(tmp_path, _hashing_conf(workspace))
    result = runner.invoke(app, ["--config", str(conf), "doctor"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 11  # ten checks and the summary
    assert lines[0].startswith("ok")
    assert "config" in lines[0]
    assert lines[-1] == "10 ok, 0 warning(s), 0 failed"


def test_default_embedder_loads_the_local_model(tmp_path: Path, workspace: Path) -> None:
    conf = _write_conf(
        tmp_path, {"storage": {"workspace": str(workspace)}, "server": {"port": free_port()}}
    )
    code, report = _doctor("--config", str(conf))
    assert code == 0, report
    embedder = _check(report, "embedder")
    assert embedder["status"] == "ok"
    assert "local:all-MiniLM-L6-v2-int8 (384 dims) loads and embeds" in embedder["detail"]


def test_invalid_json_fails_with_the_position(tmp_path: Path) -> None:
    conf = _write_conf(tmp_path, '{"server": {"port": 1933,}}')
    code, report = _doctor("--config", str(conf))
    assert code == 1
    assert report["ok"] is False
    config = _check(report, "config")
    assert config["status"] == "fail"
    assert "not valid JSON: line 1 column 26" in config["detail"]
    assert f"line 1 column 26 of {conf}" in config["fix"]
    skipped = _check(report, "other checks")
    assert skipped["status"] == "warn"
    assert "data folder" in skipped["detail"]
    assert _check(report, "bundled skills")["status"] == "ok"  # needs no configuration


def test_unknown_key_is_named(tmp_path: Path) -> None:
    conf = _write_conf(tmp_path, {"server": {"prot": 2000}})
    code, report = _doctor("--config", str(conf))
    assert code == 1
    config = _check(report, "config")
    assert config["status"] == "fail"
    assert "unknown key 'server.prot'" in config["detail"]
    assert f"Remove or rename the unknown key 'server.prot' in {conf}" in config["fix"]


def test_invalid_value_names_the_key_and_pydantic_message(tmp_path: Path) -> None:
    conf = _write_conf(tmp_path, {"server": {"port": 70000}})
    code, report = _doctor("--config", str(conf))
    assert code == 1
    config = _check(report, "config")
    assert "'server.port': Input should be less than or equal to 65535" in config["detail"]
    assert "Set 'server.port'" in config["fix"]


def test_invalid_environment_override_names_the_variable(
    tmp_path: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = _write_conf(tmp_path, _hashing_conf(workspace))
    monkeypatch.setenv("OPENVIKING__SERVER__PORT", "-5")
    code, report = _doctor("--config", str(conf))
    assert code == 1
    assert "OPENVIKING__SERVER__PORT" in _check(report, "config")["fix"]


def test_missing_explicit_config_fails(tmp_path: Path) -> None:
    code, report = _doctor("--config", str(tmp_path / "nope.conf"))
    assert code == 1
    config = _check(report, "config")
    assert "not found" in config["detail"]
    assert "--config" in config["fix"]


def test_model_mismatch_fails_with_both_fixes(tmp_path: Path, workspace: Path) -> None:
    built = OpenVikingConfig.from_dict(_hashing_conf(workspace, dimension=128))
    with OpenViking(path=workspace, config=built) as ov:
        ov.write("viking://resources/a.md", "indexed with 128 dims", mode="create")
    conf = _write_conf(tmp_path, _hashing_conf(workspace, dimension=64))
    code, report = _doctor("--config", str(conf))
    assert code == 1
    index = _check(report, "search index")
    assert index["status"] == "fail"
    assert "'hashing:v1-128' (128 dims)" in index["detail"]
    assert "'hashing:v1-64' (64 dims)" in index["detail"]
    assert "`openviking-mcp reindex --all`" in index["fix"]
    previous = json.loads(index["fix"].split('"embedding": ', 1)[1])
    assert previous == {"dense": {"provider": "hashing", "dimension": 128}}
    # the suggested settings do fix it
    fixed = _hashing_conf(workspace, dimension=128)
    fixed["embedding"] = previous
    code, report = _doctor("--config", str(_write_conf(tmp_path, fixed, "fixed.conf")))
    assert code == 0
    assert "was built with hashing:v1-128" in _check(report, "search index")["detail"]


def test_data_folder_that_is_a_file_fails(tmp_path: Path) -> None:
    target = tmp_path / "data"
    target.write_text("not a folder")
    conf = _write_conf(tmp_path, _hashing_conf(target))
    code, report = _doctor("--config", str(conf))
    assert code == 1
    folder = _check(report, "data folder")
    assert folder["status"] == "fail"
    assert "is a file, not a folder" in folder["detail"]
    assert "storage.workspace" in folder["fix"]


def test_data_folder_under_a_file_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where a folder is expected")
    conf = _write_conf(tmp_path, _hashing_conf(tmp_path / "blocker" / "data"))
    code, report = _doctor("--config", str(conf))
    assert code == 1
    folder = _check(report, "data folder")
    assert folder["status"] == "fail"
    assert "cannot be created" in folder["detail"]


def _read_only_doctor(
    tmp_path: Path, workspace: Path, conf: Path
) -> subprocess.CompletedProcess[str]:
    """doctor on ``workspace`` made read-only (see the module docs); skips when no way works."""
    command = [exe("openviking-mcp"), "-o", "json", "--config", str(conf), "doctor"]
    if os.geteuid() != 0:
        workspace.chmod(0o500)
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=60)
        finally:
            workspace.chmod(0o700)
    if shutil.which("unshare") is None:
        pytest.skip("running as root without unshare: no way to make a folder read-only")
    mount = f"mount --bind {workspace} {workspace} && mount -o remount,ro,bind {workspace}"
    script = f'{mount} || exit 97; exec "$@"'
    done = subprocess.run(
        ["unshare", "--mount", "sh", "-c", script, "sh", *command],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(tmp_path),
    )
    if done.returncode == 97 or "unshare failed" in done.stderr:
        pytest.skip(f"cannot make a read-only bind mount here: {done.stderr.strip()}")
    return done


def test_read_only_data_folder_fails(tmp_path: Path, workspace: Path) -> None:
    workspace.mkdir()
    conf = _write_conf(tmp_path, _hashing_conf(workspace))
    done = _read_only_doctor(tmp_path, workspace, conf)
    assert done.returncode == 1, done.stderr
    folder = _check(json.loads(done.stdout), "data folder")
    assert folder["status"] == "fail"
    assert f"{workspace} is not writable" in folder["detail"]
    assert "write access" in folder["fix"]


def test_unreachable_llm_names_url_and_model(tmp_path: Path, workspace: Path) -> None:
    base = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    vlm = {"provider": "openai", "model": "tiny-chat", "api_base": base, "api_key": "sk-secret"}
    conf = _write_conf(tmp_path, _hashing_conf(workspace, vlm=vlm))
    code, report = _doctor("--config", str(conf))
    assert code == 1
    llm = _check(report, "llm")
    assert llm["status"] == "fail"
    assert f"openai/tiny-chat at {base} did not answer" in llm["detail"]
    assert "ConnectError" in llm["detail"]
    assert "sk-secret" not in json.dumps(report)


def test_port_held_by_another_program_fails(tmp_path: Path, workspace: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        data = _hashing_conf(workspace)
        data["server"]["port"] = port
        code, report = _doctor("--config", str(_write_conf(tmp_path, data)))
    assert code == 1
    check = _check(report, "port")
    assert check["status"] == "fail"
    assert f"127.0.0.1:{port} is in use by another program" in check["detail"]
    assert "server.port" in check["fix"]


def test_port_held_by_openviking_mcp_is_named(tmp_path: Path, workspace: Path) -> None:
    port = free_port()
    server = start_server(tmp_path, ["openviking-mcp", "serve"], port)
    try:
        data = _hashing_conf(tmp_path / "other")
        data["server"]["port"] = port
        code, report = _doctor("--config", str(_write_conf(tmp_path, data)))
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert code == 0  # a warning, not a failure
    check = _check(report, "port")
    assert check["status"] == "warn"
    assert "already serving openviking-mcp" in check["detail"]


def test_dev_mode_on_a_public_address_fails(tmp_path: Path, workspace: Path) -> None:
    data = _hashing_conf(workspace)
    data["server"]["host"] = "0.0.0.0"
    code, report = _doctor("--config", str(_write_conf(tmp_path, data)))
    assert code == 1
    auth = _check(report, "server auth")
    assert auth["status"] == "fail"
    assert "root_api_key" in auth["fix"]


@pytest.mark.anyio
async def test_broken_bundled_skill_fails(tmp_path: Path, workspace: Path) -> None:
    good = tmp_path / "skills" / "good"
    bad = tmp_path / "skills" / "bad"
    for folder in (good, bad):
        folder.mkdir(parents=True)
    (good / "SKILL.md").write_text("---\nname: good\ndescription: Fine.\n---\nBody.\n")
    (bad / "SKILL.md").write_text("---\nname: [unclosed\n---\nBody.\n")
    conf = _write_conf(tmp_path, _hashing_conf(workspace))
    service = DoctorService(
        config_file=str(conf),
        environ={},
        skill_folders=lambda: (tmp_path / "skills", [bad, good]),
    )
    report = await service.run()
    assert report.ok is False
    skills = next(c for c in report.checks if c.name == "bundled skills")
    assert skills.status == "fail"
    assert "1 of 2 bundled skills" in skills.detail
    assert "bad: Invalid YAML" in skills.detail
    assert skills.fix is not None


@pytest.mark.anyio
async def test_low_disk_space_warns(tmp_path: Path, workspace: Path) -> None:
    conf = _write_conf(tmp_path, _hashing_conf(workspace))
    free = shutil.disk_usage(tmp_path).free
    service = DoctorService(config_file=str(conf), environ={}, min_free_bytes=free * 2)
    report = await service.run()
    assert report.ok is True  # a warning only
    disk = next(c for c in report.checks if c.name == "disk space")
    assert disk.status == "warn"
    assert disk.fix is not None
    assert "RESOURCE_EXHAUSTED" in disk.fix
