"""A write records its indexing task before the file changes, and releases it afterwards.

The ``refresh`` task of a content write is submitted *held* on the
:class:`~openviking_mcp.events.Writing` event (under the file's lock, before the bytes are
written) and released on ``Written``. A process that dies in between leaves the held task, which
runs anyway (its owner is gone): here the queue is stopped and started again, which puts this
process's held tasks back exactly as a takeover does; ``tests/adversarial/test_faults.py`` kills a
real process at ``content.written``. The task copes with the write never having happened, and a
write that fails never leaves its task held. Two users creating files in one new shared folder at
once leave the folder's creator record to the one who created it.
"""

from __future__ import annotations

import asyncio
import errno
from pathlib import Path

import pytest

from openviking_mcp import ContextService, OpenVikingConfig, RequestContext
from openviking_mcp.contract.errors import StorageFullError
from openviking_mcp.events import Writing
from tests.conftest import hashing_config
from tests.test_storage_errors import RefusingStore

pytestmark = pytest.mark.anyio

URI = "viking://resources/ledger/pangolin.md"
TEXT = "The pangolin ledger records every scale counted in the Kruger survey."


@pytest.fixture
def config(workspace: Path) -> OpenVikingConfig:
    return hashing_config(workspace)


async def _reserve(svc: ContextService, ctx: RequestContext, uri: str) -> str:
    """What a write does before writing: the ``Writing`` event, answered with the held task."""
    target = svc.store.resolve(ctx, uri, mutate=True)
    task_id = (await svc.store.events.report(Writing(ctx, target)))["task_id"]
    assert isinstance(task_id, str)
    return task_id


async def _taken_over(svc: ContextService, ctx: RequestContext, task_id: str) -> dict[str, object]:
    """The process "dies" holding ``task_id``: its held tasks go back to the queue and run."""
    assert (await svc.store.tasks.get(task_id)).status == "running"  # held: no worker ran it
    await svc.store.tasks.stop()
    await svc.store.tasks.start()
    record = await svc.store.tasks.wait(task_id, timeout=30)
    assert record.status == "completed", record
    assert isinstance(record.result, dict)
    return record.result


async def test_the_task_is_recorded_before_the_file_is_written(
    service: ContextService, ctx: RequestContext
) -> None:
    seen: list[tuple[bool, list[tuple[str, int]]]] = []

    async def look(event: Writing) -> None:  # runs after the indexing handler reserved
        exists = await service.store.content.exists(service.store.key(ctx, event.uri))
        tasks = await service.store.tasks.list(ctx, task_type="refresh", resource_id=URI)
        seen.append((exists, [(t.status, t.attempts) for t in tasks]))

    service.store.events.subscribe(Writing, look)
    result = await service.write(ctx, URI, TEXT, mode="create", wait=True, timeout=30)
    assert seen == [(False, [("running", 0)])]  # held before the file existed
    assert result["semantic_status"] == "complete"
    tasks = await service.store.tasks.list(ctx, task_type="refresh", resource_id=URI)
    assert [(t.task_id, t.status) for t in tasks] == [(result["task_id"], "completed")]
    await service.edit(ctx, URI, "Kruger", "Serengeti", wait=True, timeout=30)
    found = await service.find(ctx, "pangolin Serengeti", target_uri="viking://resources")
    assert URI in [hit["uri"] for hit in found["resources"]]
    assert (await service.consistency(ctx, "viking://resources"))["ok"]


async def test_a_reserved_write_that_never_happened_completes(
    service: ContextService, ctx: RequestContext
) -> None:
    task_id = await _reserve(service, ctx, URI)
    result = await _taken_over(service, ctx, task_id)
    assert result["files_indexed"] == 0
    assert not await service.store.content.exists(
        service.store.key(ctx, service.store.resolve(ctx, URI))
    )
    assert (await service.consistency(ctx, "viking://resources"))["ok"]


async def test_a_reserved_write_of_a_file_gone_drops_its_stale_rows(
    service: ContextService, ctx: RequestContext
) -> None:
    await service.write(ctx, URI, TEXT, mode="create", wait=True, timeout=30)
    await service.store.content.remove(service.store.key(ctx, service.store.resolve(ctx, URI)))
    task_id = await _reserve(service, ctx, URI)
    await _taken_over(service, ctx, task_id)
    found = await service.find(ctx, "pangolin ledger Kruger", target_uri="viking://resources")
    assert URI not in [hit["uri"] for hit in found["resources"]]
    assert (await service.consistency(ctx, "viking://resources"))["ok"]


async def test_a_reserved_write_that_happened_is_indexed(
    service: ContextService, ctx: RequestContext
) -> None:
    task_id = await _reserve(service, ctx, URI)
    key = service.store.key(ctx, service.store.resolve(ctx, URI))
    await service.store.content.write_bytes(key, TEXT.encode())  # then the process died
    result = await _taken_over(service, ctx, task_id)
    assert result["files_indexed"] == 1
    found = await service.find(ctx, "pangolin ledger Kruger", target_uri="viking://resources")
    assert URI in [hit["uri"] for hit in found["resources"]]
    assert (await service.consistency(ctx, "viking://resources"))["ok"]


async def test_a_failed_write_leaves_no_held_task(
    workspace: Path, config: OpenVikingConfig
) -> None:
    svc = ContextService(config, store=RefusingStore(workspace, errno.ENOSPC))
    await svc.initialize()
    try:
        ctx = svc.dev_context()
        with pytest.raises(StorageFullError):
            await svc.write(ctx, URI, TEXT, mode="create")
        await svc.wait_processing(ctx, timeout=30)  # would time out on a task left held
        tasks = await svc.store.tasks.list(ctx, task_type="refresh", resource_id=URI)
        assert [t.status for t in tasks] == ["completed"]
    finally:
        await svc.close()


async def test_concurrent_creations_of_one_folder_record_its_real_creator(
    service: ContextService,
) -> None:
    alice = await service.local_context("default", "alice")
    bob = await service.local_context("default", "bob")
    for round_ in range(5):
        folder = f"viking://resources/shared{round_}"
        await asyncio.gather(
            service.write(alice, f"{folder}/alice.md", "alice's note", mode="create"),
            service.write(bob, f"{folder}/bob.md", "bob's note", mode="create"),
        )
        owners = service.store.owners
        folder_owner = await owners.owner("default", service.store.resolve(alice, folder))
        for user, ctx in (("alice", alice), ("bob", bob)):
            mine = service.store.resolve(ctx, f"{folder}/{user}.md")
            assert await owners.owner("default", mine) == user, (round_, folder_owner)
        # each user may remove their own file under the owner rule
        await service.rm(alice, f"{folder}/alice.md")
        await service.rm(bob, f"{folder}/bob.md")
