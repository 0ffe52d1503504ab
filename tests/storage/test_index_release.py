"""Freed native memory is handed back to the OS after every optimize."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from openviking_mcp.storage.index import IndexRecord, VectorIndex
from openviking_mcp.storage.index import _memory as memory_module
from openviking_mcp.storage.index import _table as table_module

pytestmark = pytest.mark.anyio

DIM = 4


def _record(i: int) -> IndexRecord:
    return IndexRecord(
        uri=f"viking://resources/r{i}.md",
        level=2,
        account_id="acme",
        context_type="resource",
        vector=np.full(DIM, i + 1, dtype=np.float32),
        text=f"document number {i}",
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
async def test_release_free_memory_trims_the_glibc_heap() -> None:
    assert memory_module.trim_function() is not None
    assert isinstance(await memory_module.release_free_memory(), bool)


async def test_release_without_malloc_trim_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory_module, "trim_function", lambda: None)
    assert await memory_module.release_free_memory() is False


async def test_optimize_releases_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    async def release() -> bool:
        calls.append(1)
        return True

    monkeypatch.setattr(table_module, "release_free_memory", release)
    index = VectorIndex(tmp_path / "index")
    await index.open("test-model", DIM)
    try:
        await index.upsert([_record(i) for i in range(10)])
        await index.optimize()
        assert calls == [1]
        assert await index.count() == 10
    finally:
        await index.close()
