"""A committed session records ``session.committed``, then ``memory.changed`` for each
memory its extraction added (a scripted model behind the fake OpenAI server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from openviking_mcp import AsyncOpenViking, OpenVikingConfig
from tests.console._console import extraction_chat
from tests.fakes import FakeOpenAIServer

pytestmark = pytest.mark.anyio


async def test_commit_records_session_committed_then_memory_changed(workspace: Path) -> None:
    with FakeOpenAIServer(extraction_chat) as server:
        config = OpenVikingConfig.from_dict(
            {
                "storage": {"workspace": str(workspace)},
                "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
                "vlm": {
                    "provider": "openai",
                    "model": "fake-chat",
                    "api_base": server.base_url,
                    "api_key": "sk-test",
                    "max_retries": 0,
                },
            }
        )
        async with AsyncOpenViking(config=config) as aov:
            svc, ctx = aov.service, aov.context
            await svc.add_message(ctx, "t", "user", content="I drink green tea every day.")
            await svc.add_message(ctx, "t", "assistant", content="Noted.")
            start = (await svc.list_events(ctx, after=0))["next_after"]
            commit = await svc.commit_session(ctx, "t", wait=True, timeout=120)
            assert commit["task_status"] == "completed", commit
            events = (await svc.list_events(ctx, after=start))["events"]
            memories = await svc.ls(ctx, f"viking://user/{ctx.user_id}/memories/preferences")
    kinds = [e["type"] for e in events]
    assert "session.committed" in kinds
    committed = events[kinds.index("session.committed")]
    assert committed["payload"]["session_id"] == "t"
    assert committed["payload"]["memories"].get("preferences") == 1
    assert committed["user_id"] == ctx.user_id
    assert committed["uris"] == [f"viking://user/{ctx.user_id}/sessions/t/history/archive_001"]
    extracted = [
        e
        for e in events[kinds.index("session.committed") + 1 :]
        if e["type"] == "memory.changed" and e["payload"].get("memory_type") == "preferences"
    ]
    assert len(extracted) == 1
    assert extracted[0]["payload"]["change"] == "added"
    written = [m["uri"] for m in memories if not m["uri"].rsplit("/", 1)[-1].startswith(".")]
    assert extracted[0]["uris"][0] in written
