"""The stream registry contract, run against the in-memory and the PostgreSQL registries: one
running turn per session, events numbered from 0, following after an index, results."""

from __future__ import annotations

import asyncio

import pytest

from openviking_mcp.bot.events import ChatEvent
from openviking_mcp.bot.streams import StreamRegistry, TurnStream
from openviking_mcp.contract.errors import ConflictError

pytestmark = pytest.mark.anyio

KEY = ("default", "ana", "s1")


async def _collect(stream: TurnStream, after: int) -> list[ChatEvent]:
    return [e async for e in stream.follow(after, heartbeat=0.2) if e is not None]


async def test_one_running_turn_per_session(registry: StreamRegistry) -> None:
    first = await registry.open(KEY, "resp_1")
    with pytest.raises(ConflictError) as refused:
        await registry.open(KEY, "resp_2")
    assert refused.value.details["response_id"] == "resp_1"
    other = await registry.open(("default", "bob", "s1"), "resp_3")  # another user's session
    assert {s.response_id for s in await registry.running()} == {"resp_1", "resp_3"}
    await first.finish({"message": "ok"})
    await other.finish({"message": "ok"})
    assert await registry.running() == []
    second = await registry.open(KEY, "resp_2")
    found = await registry.get(KEY)
    assert found is not None
    assert (found.response_id, found.session_id) == ("resp_2", "s1")
    assert await registry.get(("default", "eve", "s1")) is None
    await second.finish({"message": "ok"})


async def test_follow_after_an_index_until_the_end(registry: StreamRegistry) -> None:
    stream = await registry.open(KEY, "resp_1")
    for n in range(3):
        await stream.emit("content_delta", f"d{n}")
    follower = await registry.get(KEY)
    assert follower is not None
    tail = asyncio.create_task(_collect(follower, 0))
    await asyncio.sleep(0.05)
    await stream.emit("content_delta", "d3")
    await stream.emit("response", {"content": "d0d1d2d3", "order": [3, 1, 2]})
    await stream.finish({"message": "d0d1d2d3"})
    events = await asyncio.wait_for(tail, 10)
    assert [e.index for e in events] == [1, 2, 3, 4]
    assert [e.data for e in events[:3]] == ["d1", "d2", "d3"]
    assert events[-1].sse().startswith('id: 4\ndata: {"event":"response","data":{"content"')
    assert list(events[-1].data) == ["content", "order"]  # key order kept
    assert await follower.wait() == {"message": "d0d1d2d3"}
    assert [e.index for e in await follower.history()] == [0, 1, 2, 3, 4]
    # a finished turn ignores further events, and replays from the start
    await stream.emit("content_delta", "late")
    assert [e.data for e in await _collect(follower, -1)][:4] == ["d0", "d1", "d2", "d3"]
    assert len(await _collect(follower, -1)) == 5


async def test_follow_sends_heartbeats_while_quiet(registry: StreamRegistry) -> None:
    stream = await registry.open(KEY, "resp_1")
    seen: list[ChatEvent | None] = []
    async for item in stream.follow(-1, heartbeat=0.05):
        seen.append(item)
        if len(seen) == 2:
            break
    assert seen == [None, None]
    await stream.finish({"message": None})
