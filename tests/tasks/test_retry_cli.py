"""``openviking-mcp tasks ID --retry`` on a local store."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.cli import app
from openviking_mcp.contract.resources import AddResourceRequest, ImportAccepted
from openviking_mcp.contract.tasks import TaskRequest

runner = CliRunner()
_EMBEDDING = {"embedding": {"dense": {"provider": "hashing", "dimension": 64}}}


def _cli(workspace: Path, *args: str) -> tuple[int, str]:
    """Run the CLI on ``workspace`` with the hashing embedder the test's service used."""
    conf = workspace.parent / "ov.conf"
    conf.write_text(json.dumps({"storage": {"workspace": str(workspace)}, **_EMBEDDING}))
    result = runner.invoke(app, ["--config", str(conf), "-o", "json", *args])
    return result.exit_code, result.stdout + result.stderr


async def _cancelled_import(workspace: Path, source: Path) -> str:
    """An import queued with no worker running, then cancelled: its task id."""
    config = OpenVikingConfig.from_dict({"storage": {"workspace": str(workspace)}, **_EMBEDDING})
    svc = ContextService(config, background_tasks=False)
    await svc.initialize()
    try:
        ctx = await svc.local_context()
        planned = await svc.resources.add_resource(ctx, AddResourceRequest(path=str(source)))
        assert isinstance(planned, ImportAccepted)
        await svc.tasks.cancel_task(ctx, TaskRequest(task_id=planned.task_id))
        return planned.task_id
    finally:
        await svc.close()


def test_tasks_retry(workspace: Path, tmp_path: Path) -> None:
    doc = tmp_path / "gulls.md"
    doc.write_text("# Gulls\n\nGulls steal chips on the pier.\n")
    cancelled = asyncio.run(_cancelled_import(workspace, doc))
    code, out = _cli(workspace, "tasks", cancelled, "--retry")
    assert code == 0, out
    retried = json.loads(out)
    assert retried["task_id"] != cancelled
    assert (retried["task_type"], retried["resource_id"]) == (
        "add_resource",
        "viking://resources/gulls",
    )
    code, out = _cli(workspace, "tasks", cancelled)
    assert json.loads(out)["status"] == "cancelled"  # the old record stays as it was

    broken = tmp_path / "bundle.zip"
    broken.write_bytes(b"PK\x03\x04 no zip")
    code, out = _cli(workspace, "add-resource", str(broken))
    assert code == 1
    assert "Not a valid zip file" in out
    code, out = _cli(workspace, "tasks", "--status", "failed")
    (failed,) = [t["task_id"] for t in json.loads(out) if t["task_type"] == "add_resource"]
    code, out = _cli(workspace, "tasks", failed, "--retry")
    assert code == 1
    assert "fix the input and import again" in out

    code, out = _cli(workspace, "tasks", "--retry")
    assert code == 2
    assert "--retry needs a task id" in out
