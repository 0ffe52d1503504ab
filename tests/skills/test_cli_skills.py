"""`openviking-mcp skills ...`: add, list, get, rm, install-bundled."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from openviking_mcp.cli import app

runner = CliRunner()


def _run(workspace: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--path", str(workspace), "-o", "json", *args], input=input)
    return result.exit_code, result.stdout, result.stderr


def test_skills_commands(workspace: Path, tmp_path: Path) -> None:
    code, out, _ = _run(workspace, "skills", "install-bundled")
    assert code == 0
    assert "use-openviking" in json.loads(out)["installed"]

    folder = tmp_path / "greeter"
    folder.mkdir()
    (folder / "SKILL.md").write_text("---\nname: greeter\ndescription: Say hello\n---\n\nHi.\n")
    (folder / "names.txt").write_text("ann\n")
    code, out, _ = _run(workspace, "skills", "add", str(folder), "--target", "viking://~/skills")
    assert code == 0
    added = json.loads(out)
    assert added["uri"] == "viking://user/default/skills/greeter/"
    assert added["auxiliary_files"] == 1

    md = "---\nname: piped\ndescription: From stdin\n---\n\nBody.\n"
    code, out, _ = _run(workspace, "skills", "add", "-", input=md)
    assert code == 0
    assert json.loads(out)["name"] == "piped"

    code, out, _ = _run(workspace, "skills", "list")
    names = {s["name"]: s["scope"] for s in json.loads(out)}
    assert names["greeter"] == "user"
    assert names["piped"] == "agent"
    assert "use-openviking" in names

    code, out, _ = _run(workspace, "skills", "get", "greeter")
    assert json.loads(out)["files"][0]["path"] in ("SKILL.md", "names.txt")
    result = runner.invoke(app, ["--path", str(workspace), "skills", "get", "piped", "--content"])
    assert result.stdout == md

    code, out, _ = _run(workspace, "skills", "rm", "piped")
    assert code == 0
    code, out, _ = _run(workspace, "skills", "get", "piped")
    assert code == 1
    assert json.loads(out)["error"]["code"] == "NOT_FOUND"
    code, out, _ = _run(workspace, "skills", "add", str(tmp_path / "missing"))
    assert code == 1
    assert json.loads(out)["error"]["code"] == "INVALID_ARGUMENT"
