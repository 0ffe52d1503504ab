"""Several services on one PostgreSQL database, as several servers would run them: each has
its own pools and its own (scratch) workspace, and shares nothing else.

* ``front_a`` and ``front_b`` serve requests only (``processing.worker: false``);
* ``worker`` runs the task queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.storage.index import IndexFilter
from tests._uploads import save_upload
from tests._zips import zip_bytes

pytestmark = pytest.mark.anyio


def _config(workspace: Path, dsn: str, *, worker: bool) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {
                "workspace": str(workspace),
                "backend": "postgres",
                "postgres": {"dsn": dsn},
            },
            "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
            "processing": {"worker": worker},
        }
    )


@pytest.fixture
async def cluster(tmp_path: Path, pg_dsn: str) -> AsyncIterator[dict[str, ContextService]]:
    services = {
        name: ContextService(_config(tmp_path / name, pg_dsn, worker=name == "worker"))
        for name in ("front_a", "front_b", "worker")
    }
    for service in services.values():  # one after the other, as servers start
        await service.initialize()
    try:
        yield services
    finally:
        for service in services.values():
            await service.close()


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _task(service: ContextService, task_id: str, timeout: float = 60) -> dict[str, Any]:
    ctx = service.dev_context()
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        task: dict[str, Any] = await service.get_task(ctx, task_id)
        if task["status"] in ("completed", "failed", "cancelled"):
            return task
        assert asyncio.get_running_loop().time() < deadline, task
        await asyncio.sleep(0.1)


async def test_a_write_through_one_server_is_found_through_another(
    cluster: dict[str, ContextService],
) -> None:
    a, b = cluster["front_a"], cluster["front_b"]
    uri = "viking://resources/notes/lease.md"
    written = await a.write(a.dev_context(), uri, content="quorum lease renewal", wait=True)
    assert written["vector_status"] == "complete"
    found = await b.find(b.dev_context(), "quorum lease renewal")
    assert found["resources"][0]["uri"] == uri
    await b.rm(b.dev_context(), "viking://resources/notes", recursive=True)
    found = await a.find(a.dev_context(), "quorum lease renewal")
    assert all("notes" not in hit["uri"] for hit in found["resources"])


async def test_an_upload_on_one_server_is_imported_through_another_by_the_worker(
    cluster: dict[str, ContextService],
) -> None:
    a, b, worker = cluster["front_a"], cluster["front_b"], cluster["worker"]
    files = {
        f"guide/part{i}.md": f"# Part {i}\n\nchapter {i} of the zebra manual" for i in range(5)
    }
    saved = await save_upload(a, a.dev_context(), "guide.zip", _chunks(zip_bytes(files)))
    accepted = await b.add_resource(b.dev_context(), temp_file_id=saved["temp_file_id"])
    task = await _task(a, accepted["task_id"])  # progress visible through the other server
    assert task["status"] == "completed", task
    listing = await a.ls(a.dev_context(), accepted["root_uri"], recursive=True)
    assert sorted(e["name"] for e in listing if not e["isDir"]) == [f"part{i}.md" for i in range(5)]
    found = await b.find(b.dev_context(), "zebra manual chapter 3")
    assert any(hit["uri"].endswith("part3.md") for hit in found["resources"])
    # the staged copy is gone once the tree moved in
    assert not await worker.store.content.exists("_system/staging/" + task["task_id"])
    rows = await worker.store.index.count(IndexFilter(account_id="default"))
    assert rows == await a.store.index.count(IndexFilter(account_id="default"))


async def test_front_ends_run_no_queue_workers_and_stay_healthy(
    cluster: dict[str, ContextService],
) -> None:
    assert cluster["front_a"].store.tasks.live_workers == 0
    assert cluster["worker"].store.tasks.live_workers > 0
    assert cluster["front_a"].health()["healthy"] is True


async def test_a_staged_tree_published_by_one_server_is_fetched_whole_by_another(
    cluster: dict[str, ContextService], tmp_path: Path
) -> None:
    from openviking_mcp.resources.staging import drop_published, fetch_published, publish

    source = tmp_path / "staged"
    (source / "docs" / "deep").mkdir(parents=True)
    (source / "empty" / "inner").mkdir(parents=True)
    (source / "docs" / "a.md").write_text("alpha")
    (source / "docs" / "deep" / "b.md").write_text("beta")
    await publish(cluster["front_a"].store, "s1", source)
    fetched = tmp_path / "fetched"
    assert await fetch_published(cluster["worker"].store, "s1", fetched)

    def tree(root: Path) -> dict[str, str | None]:
        return {
            p.relative_to(root).as_posix(): None if p.is_dir() else p.read_text()
            for p in root.rglob("*")
        }

    assert tree(fetched) == tree(source)
    await drop_published(cluster["front_b"].store, "s1")
    assert not await fetch_published(cluster["worker"].store, "s1", tmp_path / "again")
