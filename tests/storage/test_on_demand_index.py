"""A service whose search index opens on first use (``index_on_demand``, the CLI's store
commands): listing and reading never open it, the first search or write does, and the answers
are the same as with an index opened at start."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from openviking_mcp import ContextService
from openviking_mcp.contract.errors import FailedPreconditionError
from openviking_mcp.storage.index import VectorIndex
from openviking_mcp.storage.on_demand import OnDemandIndex
from tests.conftest import hashing_config

pytestmark = pytest.mark.anyio


async def _seeded(workspace: Path) -> None:
    """A workspace with one indexed file, written by a service that opened its index."""
    svc = ContextService(hashing_config(workspace))
    await svc.initialize()
    try:
        ctx = svc.dev_context()
        await svc.write(ctx, "viking://resources/w/a.md", "wombat burrows", mode="create")
        await svc.write(ctx, "viking://resources/w/b.md", "kiwi feathers", mode="create", wait=True)
    finally:
        await svc.close()


async def test_listing_and_reading_leave_the_index_closed(workspace: Path) -> None:
    await _seeded(workspace)
    svc = ContextService(hashing_config(workspace), index_on_demand=True)
    await svc.initialize()
    try:
        ctx = svc.dev_context()
        listing = await svc.ls(ctx, "viking://resources/w", simple=True)
        text = await svc.read(ctx, "viking://resources/w/a.md")
        assert isinstance(svc.store.index, OnDemandIndex)
        assert svc.store.index.is_open  # usable: it opens on the first call
    finally:
        await svc.close()
    assert sorted(listing) == ["viking://resources/w/a.md", "viking://resources/w/b.md"]
    assert text == "wombat burrows"
    assert not svc.store.index.is_open  # closing never opened it


async def test_first_use_opens_the_index_with_the_same_answers(workspace: Path) -> None:
    await _seeded(workspace)
    answers = []
    for on_demand in (False, True):
        svc = ContextService(hashing_config(workspace), index_on_demand=on_demand)
        await svc.initialize()
        try:
            ctx = svc.dev_context()
            stat = await svc.stat(ctx, "viking://resources/w")
            found = await svc.find(ctx, "wombat burrows", target_uri="viking://resources")
            assert isinstance(svc.store.index, VectorIndex)
            assert svc.store.index.is_open
        finally:
            await svc.close()
        answers.append((stat["count"], [hit["uri"] for hit in found["resources"]]))
    assert answers[0] == answers[1]
    assert answers[1][1][0] == "viking://resources/w/a.md"


async def test_writes_index_through_the_index_opened_on_demand(workspace: Path) -> None:
    svc = ContextService(hashing_config(workspace), index_on_demand=True)
    await svc.initialize()
    try:
        ctx = svc.dev_context()
        await svc.write(ctx, "viking://resources/n.md", "narwhal tusks", mode="create", wait=True)
        found = await svc.find(ctx, "narwhal tusks", target_uri="viking://resources")
    finally:
        await svc.close()
    assert [hit["uri"] for hit in found["resources"]][:1] == ["viking://resources/n.md"]


async def test_an_index_of_another_model_fails_the_call_that_uses_it(workspace: Path) -> None:
    await _seeded(workspace)
    other = hashing_config(workspace)
    other.embedding.dense.dimension = 128
    svc = ContextService(other, index_on_demand=True)
    await svc.initialize()
    try:
        ctx = svc.dev_context()
        listing = await svc.ls(ctx, "viking://resources/w", simple=True)
        with pytest.raises(FailedPreconditionError, match="reindex --all"):
            await svc.find(ctx, "wombat", target_uri="viking://resources")
        assert not svc.store.indexing_enabled
        assert not svc.store.index.is_open
    finally:
        await svc.close()
    assert len(listing) == 2


async def test_a_reader_runs_no_queued_work(workspace: Path) -> None:
    """``background_tasks=False`` (the CLI's read commands): no workers, queued work stays
    queued for the next service that runs them."""
    svc = ContextService(hashing_config(workspace), background_tasks=False)
    await svc.initialize()
    try:
        ctx = svc.dev_context()
        await svc.write(ctx, "viking://resources/q.md", "queued", mode="create")
        assert svc.store.tasks.live_workers == 0
        assert not await svc.store.tasks.idle()
    finally:
        await svc.close()
    runner = ContextService(hashing_config(workspace))
    await runner.initialize()
    try:
        for _ in range(200):
            if await runner.store.tasks.idle():
                break
            await asyncio.sleep(0.05)
        found = await runner.find(runner.dev_context(), "queued", target_uri="viking://resources")
    finally:
        await runner.close()
    assert [hit["uri"] for hit in found["resources"]][:1] == ["viking://resources/q.md"]
