"""The CLI's help and tables: flags show no value type, each short option letter means one
thing everywhere, and tables fit an 80-column terminal without wrapping ids or URIs."""

from __future__ import annotations

import json
import re
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console
from typer.core import TyperOption
from typer.main import get_command
from typer.testing import CliRunner

from openviking_mcp.cli import _core, app
from openviking_mcp.cli._table import ELLIPSIS, fit_table, middle_ellipsis
from tests.servers import clean_env, exe

runner = CliRunner()

_LONG_DIR = "viking://resources/a-rather-long-project-name/with-a-deep-subfolder-structure"
_LONG_FILE = f"{_LONG_DIR}/notes-about-the-quarterly-planning-meeting.md"


def _commands(command: Any) -> Iterator[list[str]]:
    """The path of every command and group under ``command`` (the root is ``[]``)."""
    yield []
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        for path in _commands(sub):
            yield [name, *path]


# -- help ----------------------------------------------------------------------------------


def test_every_help_shows_flags_without_a_type() -> None:
    paths = list(_commands(get_command(app)))
    assert ["ls"] in paths
    assert ["admin", "create-user"] in paths
    assert ["serve"] in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, (path, result.output)
        assert "<bool>" not in result.output, path
        assert "--help" in result.output, path


def test_help_still_shows_the_types_of_options_with_values() -> None:
    top = runner.invoke(app, ["--help"], env={"COLUMNS": "120"}).output
    assert re.search(r"--compact\s+-c\s+JSON", top)  # the flag, then its help: no type between
    assert re.search(r"--output\s+-o\s+<str>", top)
    ls = runner.invoke(app, ["ls", "--help"], env={"COLUMNS": "120"}).output
    assert re.search(r"--limit\s+-n\s+<int>", ls)
    assert re.search(r"--recursive\s+-r\s*│", ls)


def test_help_of_the_real_command_shows_no_bool(tmp_path: Path) -> None:
    env = {**clean_env(tmp_path), "COLUMNS": "100"}
    for args in (["--help"], ["tree", "--help"]):
        done = subprocess.run(
            [exe("openviking-mcp"), *args], capture_output=True, text=True, env=env, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert "--all" in done.stdout or "--compact" in done.stdout
        assert "<bool>" not in done.stdout


# -- short options -------------------------------------------------------------------------


def test_each_short_option_means_one_long_option_everywhere() -> None:
    meanings: dict[str, set[str]] = defaultdict(set)
    where: dict[str, list[str]] = defaultdict(list)

    def walk(command: Any, path: str) -> None:
        for param in command.params:
            if not isinstance(param, TyperOption):
                continue
            names = [*param.opts, *param.secondary_opts]
            long = sorted(n for n in names if n.startswith("--"))
            for short in (n for n in names if not n.startswith("--")):
                assert long, f"{path}: {short} has no long name"
                meanings[short].add("/".join(long))
                where[short].append(f"{path or '<global>'} {'/'.join(long)}")
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}".strip())

    walk(get_command(app), "")
    assert meanings["-c"] == {"--compact"}  # the global one, as the original CLI has it
    assert meanings["-o"] == {"--output"}
    clashes = {short: where[short] for short, longs in meanings.items() if len(longs) > 1}
    assert clashes == {}


# -- tables --------------------------------------------------------------------------------


def test_middle_ellipsis_keeps_both_ends() -> None:
    short = middle_ellipsis(_LONG_FILE, 24)
    assert cell_len(short) == 24
    assert short.startswith("viking://r")
    assert short.endswith("meeting.md")
    assert ELLIPSIS in short
    assert middle_ellipsis("viking://x", 24) == "viking://x"
    wide = middle_ellipsis("viking://resources/" + "文档" * 10, 15)
    assert cell_len(wide) <= 15
    assert wide.endswith("档")


def test_a_table_that_fits_is_left_alone() -> None:
    rows = [["0123456789abcdef0123456789abcdef", "viking://resources/a"]]
    columns, shortened = fit_table(["task_id", "uri"], rows, 80)
    assert not shortened
    assert [c.cells for c in columns] == [[rows[0][0]], [rows[0][1]]]
    assert all(c.width is None for c in columns)


def test_a_wide_table_shortens_ids_and_uris_not_the_rest() -> None:
    task_id = "cf753fd34ee04c6fa20bd1c48dde5246"
    rows = [[task_id, "add_resource", "2026-12-06T13:38:10.353845Z", _LONG_FILE, "a b c " * 20]]
    names = ["task_id", "task_type", "updated_at_iso", "uri", "abstract"]
    columns, shortened = fit_table(names, rows, 80)
    assert shortened
    by_name = {c.name: c for c in columns}
    assert by_name["task_id"].cells == [task_id[:8]]
    assert by_name["task_type"].cells == ["add_resource"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", by_name["updated_at_iso"].cells[0])
    uri = by_name["uri"].cells[0]
    assert ELLIPSIS in uri
    assert uri.endswith(".md")
    assert by_name["abstract"].wrap
    assert by_name["abstract"].cells == [rows[0][4]]
    assert sum(c.width or 0 for c in columns) + 2 * (len(columns) - 1) <= 80


def test_an_id_that_cannot_be_shortened_stays_whole() -> None:
    session = "20261206-134136-0ad8719360c8657d"
    rows = [[session, f"viking://user/default/sessions/{session}", "True"]]
    columns, _ = fit_table(["session_id", "uri", "is_dir"], rows, 60)
    assert columns[0].cells == [session]
    assert ELLIPSIS in columns[1].cells[0]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """ov.conf of a local store (hashing embedder) holding a file under a long path, a
    directory with a description and a pending import: tasks with long resource URIs."""
    conf = tmp_path / "ov.conf"
    conf.write_text(
        json.dumps(
            {
                "storage": {"workspace": str(tmp_path / "data")},
                "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
            }
        )
    )
    doc = tmp_path / "doc.md"
    doc.write_text("# Planning\n\nThe quarterly planning meeting notes.\n")
    for args in (
        ["mkdir", _LONG_DIR, "--description", "A project about quarterly planning"],
        ["write", _LONG_FILE, "quarterly planning meeting notes", "--mode", "create"],
        ["add-resource", str(doc), "--no-wait"],
    ):
        result = runner.invoke(app, ["--config", str(conf), *args])
        assert result.exit_code == 0, result.output
    return conf


def _at_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's consoles as a process started with COLUMNS=80 makes them."""
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(_core, "out", Console(soft_wrap=True))
    monkeypatch.setattr(_core, "err", Console(stderr=True, soft_wrap=True))


def _lines(text: str) -> list[str]:
    lines = text.rstrip("\n").split("\n")
    too_long = [line for line in lines if cell_len(line.rstrip()) > 80]
    assert too_long == []
    return lines


def test_tasks_ls_and_find_fit_80_columns(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tasks = json.loads(runner.invoke(app, ["--config", str(store), "-o", "json", "tasks"]).stdout)
    assert len(tasks) >= 3
    assert all(len(t["task_id"]) == 32 for t in tasks)
    _at_80_columns(monkeypatch)

    shown = runner.invoke(app, ["--config", str(store), "tasks"])
    lines = _lines(shown.stdout)
    assert len(lines) == len(tasks) + 1  # a header, then one line per task: nothing wraps
    assert [line.split()[0] for line in lines[1:]] == [t["task_id"][:8] for t in tasks]
    assert "-o json" in shown.stderr

    listed = runner.invoke(app, ["--config", str(store), "ls", _LONG_DIR])
    lines = _lines(listed.stdout)
    assert len(lines) == 2
    assert re.search(rf"viking://\S*{ELLIPSIS}\S*meeting\.md\s*$", lines[1])

    found = runner.invoke(app, ["--config", str(store), "find", "quarterly planning"])
    lines = _lines(found.stdout)
    hits = [line for line in lines if re.match(r"\d+%", line)]
    assert hits
    assert all("viking://" in line for line in hits)


def test_the_real_command_fits_80_columns(store: Path, tmp_path: Path) -> None:
    env = {**clean_env(tmp_path), "COLUMNS": "80"}
    done = subprocess.run(
        [exe("openviking-mcp"), "--config", str(store), "tasks"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = _lines(done.stdout)
    assert lines[0].split()[0] == "task_id"
    assert all(re.fullmatch(r"[0-9a-f]{8}", line.split()[0]) for line in lines[1:])
