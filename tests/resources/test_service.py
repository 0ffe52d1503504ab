"""The resources and task services called directly, with their request and result models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.contract.base import to_wire
from openviking_mcp.contract.errors import InvalidArgumentError, PermissionDeniedError
from openviking_mcp.contract.resources import (
    AddResourceRequest,
    ConsistencyRequest,
    ImportAccepted,
    ImportResult,
    ReindexAccepted,
)
from openviking_mcp.contract.tasks import ListTasksRequest, TaskRequest, WaitProcessingRequest

pytestmark = pytest.mark.anyio


@pytest.fixture
async def svc(workspace: Path) -> AsyncIterator[ContextService]:
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
        }
    )
    service = ContextService(config)
    await service.initialize()
    try:
        yield service
    finally:
        await service.close()


async def test_import_then_tasks_and_consistency(svc: ContextService, tmp_path: Path) -> None:
    ctx = await svc.local_context()
    doc = tmp_path / "otters.md"
    doc.write_text("# Otters\n\nSea otters hold hands while sleeping.\n")
    planned = await svc.resources.add_resource(ctx, AddResourceRequest(path=str(doc)))
    assert isinstance(planned, ImportAccepted)
    assert planned.root_uri == "viking://resources/otters"
    await svc.tasks.wait_processing(ctx, WaitProcessingRequest(timeout=60))
    record = await svc.tasks.get_task(ctx, TaskRequest(task_id=planned.task_id))
    assert (record.status, record.task_type) == ("completed", "add_resource")
    result = ImportResult.model_validate(record.result)
    assert result.meta.files == 1
    assert result.meta.source_kind == "local"
    listed = await svc.tasks.list_tasks(ctx, ListTasksRequest(task_type="add_resource"))
    assert [t.task_id for t in listed] == [planned.task_id]
    report = await svc.resources.consistency(ctx, ConsistencyRequest(uri=planned.root_uri))
    assert to_wire(report)["ok"] is True


async def test_local_paths_need_trust(svc: ContextService, tmp_path: Path) -> None:
    ctx = await svc.local_context()
    doc = tmp_path / "x.md"
    doc.write_text("x")
    with pytest.raises(PermissionDeniedError):
        await svc.resources.add_resource(
            ctx, AddResourceRequest(path=str(doc)), allow_local_paths=False
        )
    with pytest.raises(InvalidArgumentError, match="Give path"):
        await svc.resources.add_resource(ctx, AddResourceRequest())


async def test_bridge_keeps_the_wire_shapes(svc: ContextService) -> None:
    ctx = await svc.local_context()
    accepted = await svc.reindex(ctx, "viking://resources", wait=False)
    assert set(accepted) == {"status", "task_id", "uri", "object_type", "mode"}
    assert ReindexAccepted.model_validate(accepted).status == "accepted"
    waited = await svc.wait_processing(ctx, 60)
    assert {"tasks", "processed", "failed", "retried", "queues"} <= set(waited)
    assert waited["Semantic"] == waited["queues"]["Semantic"]  # the original's shape too
    with pytest.raises(InvalidArgumentError):
        await svc.list_tasks(ctx, limit=True)
