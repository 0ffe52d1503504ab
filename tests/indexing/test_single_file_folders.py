"""A folder holding one file describes only that file: its L0 and L1 rows take the file's
first-passage vector instead of embedding two more texts; folders with more entries embed
their own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openviking_mcp import ContextService, OpenVikingConfig, RequestContext
from openviking_mcp.storage.index import record_id
from tests.conftest import hashing_config

pytestmark = pytest.mark.anyio


@pytest.fixture
def config(workspace: Path) -> OpenVikingConfig:
    return hashing_config(workspace)


async def _vectors(
    svc: ContextService, ctx: RequestContext, keys: list[tuple[str, int, str]]
) -> list[np.ndarray]:
    ids = [record_id(ctx.account_id, uri, level, anchor) for uri, level, anchor in keys]
    rows = {r.id: r for r in await svc.store.index.get(ids)}
    return [rows[i].vector for i in ids]


async def test_a_one_file_folder_shares_the_file_vector(
    service: ContextService, ctx: RequestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedded: list[str] = []
    embedder = service.store.embedder
    real = embedder.embed_documents

    async def counting(texts: list[str]) -> list[np.ndarray]:
        embedded.extend(texts)
        return await real(texts)

    monkeypatch.setattr(embedder, "embed_documents", counting)
    solo, pair = "viking://resources/solo", "viking://resources/pair"
    await service.write(
        ctx, f"{solo}/only.md", "# Only\n\nKettles boil water quickly.\n", mode="create", wait=True
    )
    await service.write(
        ctx, f"{pair}/a.md", "# A\n\nOkapis live in forests.\n", mode="create", wait=True
    )
    await service.write(ctx, f"{pair}/b.md", "# B\n\nTapirs swim well.\n", mode="create", wait=True)

    file_vec, l0, l1 = await _vectors(
        service, ctx, [(f"{solo}/only.md", 2, "p0"), (solo, 0, ""), (solo, 1, "")]
    )
    assert np.array_equal(l0, file_vec)
    assert np.array_equal(l1, file_vec)
    assert not any(t.startswith("solo\n") for t in embedded)  # never embedded on its own

    a_vec, pair_l0 = await _vectors(service, ctx, [(f"{pair}/a.md", 2, "p0"), (pair, 0, "")])
    assert not np.array_equal(pair_l0, a_vec)
    assert any(t.startswith("pair\n") for t in embedded)

    hits = await service.find(ctx, "kettles boil")
    assert hits["resources"][0]["uri"] == f"{solo}/only.md"
