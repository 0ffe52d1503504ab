"""Fault injection: ``kill -9`` at each stage of ingest and commit, then restart.

Each case runs :mod:`tests.adversarial._fault_worker` in a subprocess on its own data folder
with ``OPENVIKING_FAULT_STAGE`` naming one crash point (:mod:`openviking_mcp.faults`), so the
process dies with ``SIGKILL`` exactly there. A new service then opens the same folder, lets
the durable queue drain, and the work must be whole: the consistency check is clean (every
file has its index rows), the imported document and the extracted memories are found, and a
commit's messages are archived exactly once. The cases run a few at a time; the whole suite
stays well under a minute.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from openviking_mcp import ContextService
from openviking_mcp.faults import ENV
from tests.adversarial._fault_worker import (
    CONVERSATION,
    SESSION,
    WRITES,
    WRITTEN_TEXT,
    WRITTEN_URI,
    config,
)
from tests.servers import clean_env

pytestmark = pytest.mark.slow

INGEST_STAGES = (
    "add_resource:parsing",  # source staged, not parsed
    "add_resource:summarizing",  # stored and checkpointed, not indexed
    "add_resource:embedding",  # the first index rows written
)
COMMIT_STAGES = (
    "commit.planned",  # phase 2 recorded (held), nothing archived
    "commit.archived",  # archive written, live messages not yet trimmed
    "commit.settled",  # phase 1 written, phase 2 not yet released
    "phase2.summarized",  # archive summary written, nothing extracted
    "memory.file_written",  # the first memory file written, the rest not
    "memory.applied",  # every memory file written, no index rows
    "memory.indexed",  # index rows written, outputs not yet re-checked
    "session_commit:finish",  # .done written, the task not yet completed
)
PARALLEL = 3
MEM = "viking://user/default/memories"


@dataclass
class Case:
    stage: str
    scenario: str
    workspace: Path
    args: list[str] = field(default_factory=list)
    proc: subprocess.Popen[str] | None = None
    output: str = ""


def _env(tmp_path: Path, stage: str | None) -> dict[str, str]:
    env = clean_env(tmp_path)
    if stage:
        env[ENV] = stage
    return env


def _start(case: Case, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "tests.adversarial._fault_worker"]
    case.proc = subprocess.Popen(
        [*command, str(case.workspace), case.scenario, *case.args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_env(tmp_path, case.stage),
        cwd=Path(__file__).resolve().parents[2],
    )


def _killed(cases: list[Case], tmp_path: Path) -> Iterator[Case]:
    """Run the cases, ``PARALLEL`` at a time; each must die by ``SIGKILL``."""
    for start in range(0, len(cases), PARALLEL):
        batch = cases[start : start + PARALLEL]
        for case in batch:
            _start(case, tmp_path)
        for case in batch:
            assert case.proc is not None
            case.output, _ = case.proc.communicate(timeout=90)
            assert case.proc.returncode == -9, f"{case.stage}: not killed ({case.output!r})"
            yield case


async def _drained(workspace: Path) -> ContextService:
    svc = ContextService(config(str(workspace)))
    await svc.initialize()
    await svc.wait_processing(svc.dev_context(), timeout=30)
    return svc


async def _check_ingest(case: Case) -> None:
    svc = await _drained(case.workspace)
    try:
        ctx = svc.dev_context()
        report = await svc.consistency(ctx, "viking://resources")
        assert report["ok"], (case.stage, report)
        found = await svc.find(ctx, "aardvark burrows manual", target_uri="viking://resources")
        uris = [hit["uri"] for hit in found["resources"]]
        assert any(u.startswith("viking://resources/guide/") for u in uris), (case.stage, uris)
        files = await svc.glob(ctx, "**/*.md", uri="viking://resources/guide")
        assert len(files["matches"]) == 3, (case.stage, files)
    finally:
        await svc.close()


def _archived_counts(workspace: Path) -> list[tuple[int, bool]]:
    """``(message_count, done)`` of each archive of the commit's session."""
    history = workspace / "accounts/default/user/default/sessions" / SESSION / "history"
    out = []
    for archive in sorted(history.glob("archive_*")):
        meta = json.loads((archive / ".meta.json").read_text())
        out.append((int(meta["message_count"]), (archive / ".done").exists()))
    return out


async def _check_commit(case: Case) -> None:
    svc = await _drained(case.workspace)
    try:
        ctx = svc.dev_context()
        # a commit cut short before its archive was whole left the messages live: commit again
        again = await svc.commit_session(ctx, SESSION, keep_recent_count=0, wait=True, timeout=30)
        assert again["status"] in ("accepted", "skipped"), (case.stage, again)
        assert again.get("task_status", "completed") == "completed", (case.stage, again)
        archives = _archived_counts(case.workspace)
        assert sum(n for n, _ in archives) == len(CONVERSATION), (case.stage, archives)
        assert all(done for _, done in archives), (case.stage, archives)
        assert (await svc.get_session(ctx, SESSION))["message_count"] == 0
        report = await svc.consistency(ctx, MEM)
        assert report["ok"], (case.stage, report)
        found = await svc.find(ctx, "dark roast coffee", context_type="memory")
        uris = [hit["uri"] for hit in found["memories"]]
        assert any("/preferences/" in u for u in uris), (case.stage, uris)
    finally:
        await svc.close()


def test_kill_at_each_stage_of_ingest_and_commit_then_restart(tmp_path: Path) -> None:
    source = tmp_path / "guide"
    source.mkdir()
    for i in range(3):
        text = f"# Chapter {i}\n\nThe aardvark manual, chapter {i}, explains burrows and ants.\n"
        (source / f"ch{i}.md").write_text(text)
    cases = [
        Case(stage, "ingest", tmp_path / f"ingest{i}", [str(source)])
        for i, stage in enumerate(INGEST_STAGES)
    ] + [Case(stage, "commit", tmp_path / f"commit{i}") for i, stage in enumerate(COMMIT_STAGES)]
    checked: list[str] = []
    for case in _killed(cases, tmp_path):
        check = _check_ingest if case.scenario == "ingest" else _check_commit
        asyncio.run(check(case))
        checked.append(case.stage)
    assert checked == [c.stage for c in cases]


def test_writes_of_a_killed_process_are_indexed_by_the_next_one(tmp_path: Path) -> None:
    """A process killed right after its writes returned: the next process to open the
    folder indexes every one of them."""
    case = Case("", "writes", tmp_path / "data")
    for killed in _killed([case], tmp_path):
        assert killed.output.strip() == "written"  # every write returned before the kill
    asyncio.run(_check_writes(case.workspace, None))


def test_a_running_process_takes_over_the_writes_of_a_killed_one(tmp_path: Path) -> None:
    """A long-running process on the folder (started first) picks up the indexing work a
    killed process left queued or half done, without a restart."""

    async def run() -> None:
        survivor = await _drained(tmp_path / "data")
        survivor.store.tasks.reclaim_seconds = 0.5
        try:
            case = Case("", "writes", tmp_path / "data")
            _start(case, tmp_path)
            assert case.proc is not None
            assert await asyncio.to_thread(case.proc.wait, 90) == -9
            assert case.proc.stdout is not None
            assert case.proc.stdout.read().strip() == "written"
            await _check_writes(case.workspace, survivor)
        finally:
            await survivor.close()

    asyncio.run(run())


async def _check_writes(workspace: Path, svc: ContextService | None) -> None:
    own = svc is None
    svc = svc or await _drained(workspace)
    try:
        ctx = svc.dev_context()
        await svc.wait_processing(ctx, timeout=30)
        files = await svc.glob(ctx, "**/*.md", uri="viking://resources/notes")
        assert len(files["matches"]) == WRITES
        report = await svc.consistency(ctx, "viking://resources")
        assert report["ok"], report
        found = await svc.find(
            ctx, "quokka Rottnest island", target_uri="viking://resources", limit=50
        )
        hits = {h["uri"] for h in found["resources"] if "/notes/note" in h["uri"]}
        assert len(hits) == WRITES, sorted(hits)
    finally:
        if own:
            await svc.close()


def test_a_write_killed_before_its_task_is_released_is_indexed_after_restart(
    tmp_path: Path,
) -> None:
    """Killed between the file write and the release of its (held) indexing task: the task
    was recorded before the write, so the next process runs it and the file is found."""
    case = Case("content.written", "write", tmp_path / "data")
    for _ in _killed([case], tmp_path):
        pass

    async def check() -> None:
        svc = await _drained(case.workspace)
        try:
            ctx = svc.dev_context()
            assert await svc.read(ctx, WRITTEN_URI) == WRITTEN_TEXT  # the write happened
            report = await svc.consistency(ctx, "viking://resources")
            assert report["ok"], report
            found = await svc.find(ctx, "pangolin ledger Kruger", target_uri="viking://resources")
            assert WRITTEN_URI in [hit["uri"] for hit in found["resources"]], found
            tasks = await svc.store.tasks.list(ctx, task_type="refresh", resource_id=WRITTEN_URI)
            assert [t.status for t in tasks] == ["completed"]  # the held one, run once
        finally:
            await svc.close()

    asyncio.run(check())
