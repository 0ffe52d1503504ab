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
    code, out, _ = _run(workspace, "skills", "add", str(folder))  # no target: the user's own
    assert code == 0
    added = json.loads(out)
    assert added["uri"] == added["root_uri"] == "viking://user/default/skills/greeter"
    assert added["auxiliary_files"] == 1

    md = "---\nname: piped\ndescription: From stdin\n---\n\nBody.\n"
    shared = ("--target", "viking://agent/skills")
    code, out, _ = _run(workspace, "skills", "add", "-", *shared, input=md)
    assert code == 0
    assert json.loads(out)["uri"] == "viking://agent/skills/piped"

    code, out, _ = _run(workspace, "skills", "list")
    names = {s["name"]: s["scope"] for s in json.loads(out)}
    assert names["greeter"] == "user"
    assert names["piped"] == "agent"
    assert "use-openviking" in names

    code, out, _ = _run(workspace, "skills", "get", "greeter")
    kinds = {f["path"]: f["kind"] for f in json.loads(out)["files"]}
    assert (kinds["SKILL.md"], kinds["names.txt"]) == ("definition", "auxiliary")
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


def test_find_validate_update_commands(workspace: Path, tmp_path: Path) -> None:
    md = "---\nname: kettle\ndescription: Boil water in a kettle\n---\n\nFill it.\n"
    code, _, _ = _run(workspace, "skills", "add", "-", "--wait", input=md)
    assert code == 0
    code, out, _ = _run(workspace, "skills", "find", "boil water", "--limit", "3")
    assert code == 0
    assert [h["name"] for h in json.loads(out)["skills"]] == ["kettle"]
    table = runner.invoke(app, ["--path", str(workspace), "skills", "find", "boil water"])
    assert "kettle" in table.stdout

    folder = tmp_path / "pot"
    folder.mkdir()
    (folder / "SKILL.md").write_text(md)
    code, out, _ = _run(workspace, "skills", "validate", str(folder / "SKILL.md"))
    assert code == 0
    assert json.loads(out)["warnings"][0]["rule"] == "name_matches_directory"
    code, out, _ = _run(workspace, "skills", "validate", str(folder / "SKILL.md"), "--strict")
    assert code == 1
    assert json.loads(out)["valid"] is False
    code, out, _ = _run(workspace, "skills", "validate", "-", input="no front matter")
    assert code == 1

    new = md.replace("Fill it.", "Pour it.")
    code, out, _ = _run(workspace, "skills", "update", "kettle", "-", input=new)
    assert code == 0
    assert json.loads(out)["action"] == "update"
    code, out, _ = _run(workspace, "skills", "update", "pot", "-", input=new)
    assert code == 1
    assert json.loads(out)["error"]["code"] == "NOT_FOUND"
    code, out, _ = _run(workspace, "skills", "get", "kettle")
    assert json.loads(out)["body"] == "Pour it."
