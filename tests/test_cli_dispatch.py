"""The CLI builds only the invoked command: the same commands, options and answers as the
whole app, which still serves ``--help`` and unknown commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.main import get_command

from openviking_mcp.cli import app, main
from openviking_mcp.cli._dispatch import GLOBAL_VALUE_OPTIONS, app_for, invoked_name


def _group_params() -> list[tuple[list[str], bool]]:
    group = get_command(app)
    return [([*p.opts, *p.secondary_opts], getattr(p, "is_flag", False)) for p in group.params]


def test_global_value_options_are_the_callbacks_options_with_values() -> None:
    with_values = {name for names, flag in _group_params() if not flag for name in names}
    assert with_values == GLOBAL_VALUE_OPTIONS


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["ls", "viking://"], "ls"),
        (["--path", "/w", "-o", "json", "--compact", "read", "viking://x"], "read"),
        (["--url=http://h", "--api-key", "k", "admin", "list-accounts"], "admin"),
        (["--", "stat", "viking://"], "stat"),
        (["--path"], None),
        (["--help"], None),
        ([], None),
    ],
)
def test_invoked_name(args: list[str], expected: str | None) -> None:
    assert invoked_name(args) == expected


def test_each_command_is_built_alone_with_the_same_options() -> None:
    whole = get_command(app)
    names = list(whole.commands)  # type: ignore[attr-defined]
    assert len(names) > 25  # commands and sub-groups (admin...)
    for name in names:
        slim = get_command(app_for(app, ["--path", "/w", name]))
        assert list(slim.commands) == [name]  # type: ignore[attr-defined]
        built = slim.commands[name]  # type: ignore[attr-defined]
        original = whole.commands[name]  # type: ignore[attr-defined]
        assert [p.name for p in built.params] == [p.name for p in original.params]
        assert [p.name for p in slim.params] == [p.name for p in whole.params]


def test_no_command_or_an_unknown_one_gets_the_whole_app() -> None:
    assert app_for(app, ["--help"]) is app
    assert app_for(app, ["no-such-command"]) is app


def test_main_runs_the_invoked_command(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--path", str(workspace), "write", "viking://resources/d.md", "hi", "-o", "x"])
    assert done.value.code == 2  # an option of another command: click's usage error
    assert "No such option" in capsys.readouterr().err
    base = ["--path", str(workspace), "-o", "json"]
    for args in (["mkdir", "viking://resources/d"], ["ls", "viking://resources"]):
        with pytest.raises(SystemExit) as done:
            main([*base, *args])
        assert done.value.code == 0
    listing = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert [entry["name"] for entry in listing] == ["d"]


def test_unknown_command_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["no-such-command"])
    assert done.value.code == 2
    assert "No such command" in capsys.readouterr().err


def test_version_builds_no_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert get_command(app_for(app, ["--version"])).commands == {}  # type: ignore[attr-defined]
    assert app_for(app, ["--version", "--help"]) is app
    with pytest.raises(SystemExit) as done:
        main(["--path", "/nowhere", "--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("openviking-mcp ")
