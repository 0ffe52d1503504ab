"""Many writes, few index commits: the refresh tasks of concurrent writes run in batches.

A batch embeds the rows of all its files in one call and writes them in one upsert; each
folder's tiers are regenerated once per batch. Nothing is lost: every file ends up with its
rows, a rewritten file keeps only its new passages, rows left below a path that is now a file
are dropped, and ``wait=true`` still returns once the write is searchable.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openviking_mcp import ContextService, OpenVikingConfig, RequestContext
from openviking_mcp.storage.index import IndexFilter, IndexRecord
from tests.conftest import hashing_config

pytestmark = pytest.mark.anyio

FOLDER = "viking://resources/burst"


@pytest.fixture
def config(workspace: Path) -> OpenVikingConfig:
    return hashing_config(workspace)


async def _rows(svc: ContextService, ctx: RequestContext, prefix: str) -> set[tuple[str, int, str]]:
    flt = IndexFilter(account_id=ctx.account_id, uri_prefixes=(prefix,))
    return await svc.store.index.uris(flt)


async def test_a_burst_of_writes_is_indexed_in_few_upserts(
    service: ContextService, ctx: RequestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = service.store.index
    upserts: list[int] = []
    real_upsert = index.upsert

    async def counting(records: Any) -> int:
        upserts.append(len(records))
        return await real_upsert(records)

    monkeypatch.setattr(index, "upsert", counting)
    uris = [f"{FOLDER}/note-{i:02d}.md" for i in range(40)]
    results = await asyncio.gather(
        *(
            service.write(ctx, uri, f"The okapi note {i} says {i}.", mode="create")
            for i, uri in enumerate(uris)
        )
    )
    assert {r["vector_status"] for r in results} == {"queued"}
    assert all(r["task_id"] for r in results)
    await service.wait_processing(ctx, timeout=60)
    indexed = {uri for uri, level, _ in await _rows(service, ctx, FOLDER) if level == 2}
    assert indexed == set(uris)
    assert len(upserts) < len(uris) / 2  # batched: far fewer commits than writes
    statuses = {(await service.store.tasks.get(r["task_id"])).status for r in results}
    assert statuses == {"completed"}


async def test_a_shorter_rewrite_drops_the_old_passages(
    service: ContextService, ctx: RequestContext
) -> None:
    uri = f"{FOLDER}/long.md"
    long_text = "\n\n".join(f"Paragraph {i}: " + "pangolin scales " * 120 for i in range(6))
    await service.write(ctx, uri, long_text, mode="create", wait=True)
    assert len({a for u, lvl, a in await _rows(service, ctx, uri) if lvl == 2}) > 1
    await service.write(ctx, uri, "Now one short line.", wait=True)
    assert {a for u, lvl, a in await _rows(service, ctx, uri)} == {"p0"}


async def test_rows_left_below_a_path_that_is_now_a_file_are_dropped(
    service: ContextService, ctx: RequestContext
) -> None:
    uri = f"{FOLDER}/was-a-folder.md"
    index = service.store.index
    leftover = IndexRecord(
        uri=f"{uri}/child.md",
        level=2,
        account_id=ctx.account_id,
        context_type="resource",
        vector=np.ones(index.dimension, dtype=np.float32),
        parent_uri=uri,
        anchor="p0",
        name="child.md",
        text="a leftover row",
    )
    await index.upsert([leftover])
    await service.write(ctx, uri, "A file now.", mode="create", wait=True)
    assert await _rows(service, ctx, uri) == {(uri, 2, "p0")}


async def test_wait_true_returns_once_the_write_is_searchable(
    service: ContextService, ctx: RequestContext
) -> None:
    uris = [f"{FOLDER}/waited-{i}.md" for i in range(5)]
    results = await asyncio.gather(
        *(
            service.write(ctx, uri, f"The quokka{i} survey.", mode="create", wait=True)
            for i, uri in enumerate(uris)
        )
    )
    assert {r["vector_status"] for r in results} == {"complete"}
    for i, uri in enumerate(uris):
        found = await service.find(ctx, f"quokka{i}", target_uri=FOLDER, limit=5)
        assert uri in [item["uri"] for item in found["resources"]]
