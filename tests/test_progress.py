"""``progress=`` on the clients' long waits, and the CLI's progress line on stderr."""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openviking_mcp import AsyncOpenViking, OpenViking, SyncHTTPClient
from openviking_mcp.cli import _search
from openviking_mcp.cli._core import app
from openviking_mcp.contract.progress import TaskProgress, task_progress
from openviking_mcp.service import ContextService
from tests.client.test_chat_clients import serving
from tests.conftest import hashing_config


def _docs(tmp_path: Path, count: int = 3) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(count):
        words = " ".join(f"topic{i} word{j}." for j in range(400))
        (folder / f"d{i}.md").write_text(f"# Doc {i}\n\n{words}\n", encoding="utf-8")
    return folder


def _check_import_readings(readings: list[TaskProgress]) -> None:
    assert readings, "the callback was never called"
    assert all(isinstance(r, TaskProgress) for r in readings)
    assert all(a != b for a, b in itertools.pairwise(readings))  # changes only
    last = readings[-1]
    assert last.task_type == "add_resource"
    assert last.status == "completed"
    assert last.finished
    assert last.total is not None
    assert last.total > 0
    assert last.done == last.total
    assert f"{last.total}/{last.total}" in last.message


def test_task_progress_reads_a_record() -> None:
    reading = task_progress(
        {
            "task_id": "t1",
            "task_type": "add_resource",
            "status": "running",
            "stage": "embedding",
            "progress": {"files_total": 4, "files_parsed": 4, "passages_embedded": 9},
        }
    )
    assert (reading.done, reading.total, reading.finished) == (4, 4, False)
    assert reading.message.startswith("embedding  4/4  files total 4")
    bare = task_progress({"task_type": "refresh", "status": "pending", "stage": "queued"})
    assert (bare.done, bare.total, bare.message) == (None, None, "queued")


def test_sync_embedded_add_resource_reports_progress(tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    readings: list[TaskProgress] = []
    with OpenViking(config=hashing_config(tmp_path / "ws")) as ov:
        result = ov.add_resource(str(docs), wait=True, progress=readings.append)
        assert result["status"] == "success"
        assert result["root_uri"] == "viking://resources/docs"
        assert ov.stat(result["root_uri"])["isDir"] is True
        plain = ov.add_resource(str(docs / "d0.md"), wait=True)  # no callback: one call
        assert plain["queue_status"] is not None
    _check_import_readings(readings)


@pytest.mark.anyio
async def test_async_embedded_wait_processing_reports_progress(tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    readings: list[TaskProgress] = []
    async with AsyncOpenViking(config=hashing_config(tmp_path / "ws")) as ov:
        accepted = await ov.add_resource(str(docs), wait=False, progress=readings.append)
        assert readings == []  # not waiting: no readings
        assert accepted["task_id"]
        result = await ov.wait_processing(timeout=60, progress=readings.append)
        assert result["tasks"].get("pending", 0) == 0
        assert (await ov.get_task(accepted["task_id"]))["status"] == "completed"
    assert readings[-1].stage == "idle"
    assert readings[-1].finished
    assert readings[-1].done == readings[-1].total
    assert readings[-1].counters == {"outstanding": 0}


@pytest.mark.slow
def test_http_add_resource_polls_the_task(tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    readings: list[TaskProgress] = []
    service = ContextService(hashing_config(tmp_path / "ws"))
    with (
        serving(service) as url,
        SyncHTTPClient(url, "unused", timeout=30.0, extra_headers={}) as ov,
    ):
        result = ov.add_resource(str(docs), wait=True, progress=readings.append)
        assert result["status"] == "success"
        assert result["meta"]["files"] == readings[-1].total
    _check_import_readings(readings)


def _cli_conf(tmp_path: Path) -> Path:
    conf = tmp_path / "ov.json"
    conf.write_text(
        json.dumps(
            {
                "storage": {"workspace": str(tmp_path / "data")},
                "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
            }
        )
    )
    return conf


def test_cli_progress_goes_to_stderr_only(tmp_path: Path) -> None:
    conf, docs = _cli_conf(tmp_path), _docs(tmp_path, 2)
    runner = CliRunner()
    base = ["--config", str(conf), "-o", "json", "add-resource", str(docs)]
    forced = runner.invoke(app, [*base, "--progress"])
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["status"] == "success"  # stdout: the answer only
    lines = [line for line in forced.stderr.splitlines() if "(completed)" in line]
    assert len(lines) == 1
    assert "\r" not in forced.stderr
    quiet = runner.invoke(app, [*base, "--to", "viking://resources/again", "--no-progress"])
    assert quiet.exit_code == 0, quiet.output
    assert "(completed)" not in quiet.stderr
    assert json.loads(quiet.stdout)["root_uri"] == "viking://resources/again"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_rewrites_one_line_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    line = _search._ProgressLine(None)  # on by default on a terminal
    assert line.enabled
    for stage in ("parsing", "embedding"):
        line.show(TaskProgress("t", "add_resource", "running", stage))
    line.end()
    text = terminal.getvalue()
    assert "\n" not in text
    assert text.startswith("\rparsing\rembedding")
    assert text.endswith("\r")
    off = _search._ProgressLine(False)
    off.show(TaskProgress("t", "add_resource", "running", "parsing"))
    assert terminal.getvalue() == text
