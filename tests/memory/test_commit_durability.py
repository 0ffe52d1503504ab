"""Commit phase 2 interrupted while indexing: the task that runs again re-checks its outputs.

The first service stops while phase 2 is embedding the memory files it just wrote (its
embedder never answers), as a process killed at that point would: the files are on disk, the
index has no rows for them and the task goes back to ``pending``. A second service on the same
folder runs the task again; it must not report ``completed`` until every memory file it wrote
has its index rows (the consistency check is clean and ``find`` returns the memories).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.models.base import Vector, Vectors
from openviking_mcp.models.hashing import HashingEmbedder
from tests.fakes import FakeOpenAIServer

pytestmark = pytest.mark.anyio

MEM = "viking://user/default/memories"
DIM = 256


class StallingEmbedder(HashingEmbedder):
    """The hashing embedder (same model id) whose document embedding, once ``stall`` is set,
    never answers (queries still do)."""

    def __init__(self) -> None:
        super().__init__(DIM)
        self.stall = False
        self.stalled = asyncio.Event()

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if self.stall:
            self.stalled.set()
            await asyncio.Event().wait()
        return await super().embed_documents(texts)

    async def embed_query(self, text: str) -> Vector:
        vectors = await super().embed_documents([text])
        return np.asarray(vectors[0], dtype=np.float32)


def _config(workspace: Path, **sections: Any) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": DIM}},
            **sections,
        }
    )


async def _interrupted_commit(config: OpenVikingConfig, *lines: str) -> str:
    """Commit a conversation and stop the service while phase 2 embeds; the task id."""
    embedder = StallingEmbedder()
    svc = ContextService(config, embedder=embedder)
    await svc.initialize()
    try:
        ctx = svc.dev_context()
        await svc.wait_processing(ctx, timeout=60)
        for i, line in enumerate(lines):
            await svc.add_message(ctx, "s", "user" if i % 2 == 0 else "assistant", content=line)
        embedder.stall = True
        commit = await svc.commit_session(ctx, "s")
        await asyncio.wait_for(embedder.stalled.wait(), 30)
        written = await svc.glob(ctx, "**/*.md", uri=MEM, node_limit=100)
        assert written["matches"], "phase 2 stalled before writing any memory file"
        report = await svc.consistency(ctx, MEM)
        assert not report["ok"]  # the files are there, their rows are not
        return str(commit["task_id"])
    finally:
        await svc.close()


async def _resumed(config: OpenVikingConfig, task_id: str) -> tuple[ContextService, Any]:
    svc = ContextService(config)
    await svc.initialize()
    record = await svc.store.tasks.wait(task_id, 60)
    assert record.status == "completed", record.error
    assert record.attempts == 2
    return svc, svc.dev_context()


async def test_a_retried_commit_indexes_the_memories_an_interrupted_attempt_wrote(
    workspace: Path,
) -> None:
    config = _config(workspace)
    task_id = await _interrupted_commit(
        config,
        "I prefer dark roast coffee in the morning.",
        "Noted.",
        "Remember that the billing service runs on Kubernetes.",
        "Got it.",
    )
    svc, ctx = await _resumed(config, task_id)
    try:
        report = await svc.consistency(ctx, MEM)
        assert report["ok"], report
        found = await svc.find(ctx, "dark roast coffee", context_type="memory")
        assert any("/preferences/" in hit["uri"] for hit in found["memories"]), found
    finally:
        await svc.close()


async def test_a_retried_commit_applies_the_recorded_operations_without_asking_again(
    workspace: Path,
) -> None:
    calls = {"extraction": 0}

    def chat(body: dict[str, Any]) -> str:
        if "## Memory categories" not in str(body["messages"][-1]["content"]):
            return "# Session Summary\n\nTea."
        calls["extraction"] += 1
        op = {"op": "add", "memory_type": "preferences"}
        op["fields"] = {"topic": "tea", "content": f"User prefers oolong tea (call {calls})."}
        return json.dumps({"operations": [op]})

    with FakeOpenAIServer(chat) as server:
        vlm = {
            "provider": "openai",
            "model": "fake-chat",
            "api_base": server.base_url,
            "api_key": "sk-test",
            "max_retries": 0,
        }
        config = _config(workspace, vlm=vlm)
        task_id = await _interrupted_commit(config, "Oolong is my favourite tea.")
        svc, ctx = await _resumed(config, task_id)
        try:
            assert calls["extraction"] == 1
            record = await svc.store.tasks.get(task_id)
            assert record.result["memories_extracted"]["total"] == 1
            assert (await svc.consistency(ctx, MEM))["ok"]
            found = await svc.find(ctx, "oolong tea", context_type="memory")
            assert f"{MEM}/preferences/tea.md" in [h["uri"] for h in found["memories"]]
        finally:
            await svc.close()
