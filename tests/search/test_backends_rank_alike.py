"""The same store gives the same find results on either storage backend: the same rows,
ranked by the same fusion over the same in-memory mirror (and the same BM25)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp import ContextService
from tests.conftest import hashing_config

pytestmark = pytest.mark.anyio

_TOPICS = [
    "harbour pilots guide container ships through the narrow channel at high tide",
    "the lighthouse keeper logs fog signals and passing vessels every night",
    "sourdough starter needs flour water and a warm kitchen to rise",
    "a kestrel hovers above the meadow before it drops onto a vole",
    "quarterly revenue grew as the retailer opened stores in three new regions",
    "the compiler inlines small functions and removes dead branches",
    "glaciers carve valleys and leave moraines when they retreat",
    "the orchestra tuned to the oboe before the symphony began",
]
_QUERIES = [
    "ships in the channel",
    "fog at night",
    "bread baking",
    "bird of prey",
    "store openings revenue",
    "compiler optimisation",
    "ice shaping valleys",
    "symphony oboe",
]


async def _service(workspace: Path, storage: dict[str, Any]) -> ContextService:
    service = ContextService(hashing_config(workspace, storage))
    await service.initialize()
    ctx = service.dev_context()
    for i, text in enumerate(_TOPICS):
        for j in range(3):  # a few near-duplicates, so the order of close scores matters
            uri = f"viking://resources/topic{i}/note{j}.md"
            await service.write(ctx, uri, content=f"{text} (note {j})", wait=True)
    return service


@pytest.fixture
async def both(tmp_path: Path, pg_dsn: str) -> AsyncIterator[tuple[ContextService, ...]]:
    local = await _service(tmp_path / "local", {"workspace": str(tmp_path / "local")})
    postgres = await _service(
        tmp_path / "pg",
        {"workspace": str(tmp_path / "pg"), "backend": "postgres", "postgres": {"dsn": pg_dsn}},
    )
    try:
        yield local, postgres
    finally:
        await local.close()
        await postgres.close()


async def test_find_ranks_alike_on_both_backends(both: tuple[ContextService, ...]) -> None:
    local, postgres = both
    for query in _QUERIES:
        mine = await local.find(local.dev_context(), query, limit=6)
        theirs = await postgres.find(postgres.dev_context(), query, limit=6)
        got = [(h["uri"], h["score"]) for h in mine["resources"]]
        want = [(h["uri"], h["score"]) for h in theirs["resources"]]
        assert [u for u, _ in got] == [u for u, _ in want], query
        assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=1e-4), query
        assert got, query
