"""Turn streams shared through PostgreSQL by two registries with pools of their own (two
servers): a turn run on A is resumed on B with its event ids, a session runs one turn across
both, and a turn whose server stopped heartbeating blocks nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from openviking_mcp.bot.events import ChatEvent
from openviking_mcp.bot.streams import StreamRegistry
from openviking_mcp.contract.errors import ConflictError
from tests.bot.conftest import pg_registries
from tests.pg import fresh_database

pytestmark = pytest.mark.anyio

KEY = ("default", "ana", "chat-1")


@pytest.fixture
async def dsn() -> AsyncIterator[str]:
    with fresh_database() as url:
        yield url


async def test_a_turn_on_a_is_resumed_on_b_without_gaps_or_duplicates(dsn: str) -> None:
    async with pg_registries(dsn, 2) as (a, b):
        shared: StreamRegistry = b  # the PostgreSQL registry is a StreamRegistry
        stream = await a.open(KEY, "resp_a")
        for n in range(4):
            await stream.emit("content_delta", f"t{n}")
        resumed = await shared.get(KEY)
        assert resumed is not None
        assert resumed.response_id == "resp_a"

        async def follow_from(last_event_id: str) -> list[ChatEvent]:
            return [
                e async for e in resumed.follow(int(last_event_id), heartbeat=5) if e is not None
            ]

        tail = asyncio.create_task(follow_from("1"))  # the client saw ids 0 and 1 from A
        for n in range(4, 40):
            await stream.emit("content_delta", f"t{n}")
            if n % 10 == 0:
                await asyncio.sleep(0.01)
        await stream.emit("response", {"content": "…", "response_id": "resp_a"})
        await stream.finish({"message": "…", "response_id": "resp_a"})
        events = await asyncio.wait_for(tail, 20)
        assert [e.index for e in events] == list(range(2, 41))
        assert [e.data for e in events[:-1]] == [f"t{n}" for n in range(2, 40)]
        assert [e.sse().split("\n")[0] for e in events[:2]] == ["id: 2", "id: 3"]
        assert events[-1].event == "response"
        assert await resumed.wait() == {"message": "…", "response_id": "resp_a"}


async def test_a_second_turn_is_refused_on_b_while_a_runs(dsn: str) -> None:
    async with pg_registries(dsn, 2) as (a, b):
        stream = await a.open(KEY, "resp_a")
        with pytest.raises(ConflictError) as refused:
            await b.open(KEY, "resp_b")
        assert refused.value.details == {"session_id": "chat-1", "response_id": "resp_a"}
        assert [s.response_id for s in await b.running()] == ["resp_a"]
        await stream.finish({"message": "done"})
        assert await b.running() == []
        second = await b.open(KEY, "resp_b")
        found = await a.get(KEY)
        assert found is not None
        assert found.response_id == "resp_b"
        await second.finish({"message": "done"})


async def test_opens_racing_on_both_servers_start_one_turn(dsn: str) -> None:
    async with pg_registries(dsn, 2) as (a, b):
        tries = [r.open(KEY, f"resp_{n}") for n, r in enumerate([a, b, a, b])]
        outcomes = await asyncio.gather(*tries, return_exceptions=True)
        opened = [o for o in outcomes if not isinstance(o, BaseException)]
        assert len(opened) == 1
        assert all(isinstance(o, ConflictError) for o in outcomes if o not in opened)


async def test_a_turn_whose_server_stopped_does_not_block_the_session(dsn: str) -> None:
    options = {"heartbeat": 0.1, "stale_after": 1.0}
    async with pg_registries(dsn, 2, **options) as (a, b):
        stream = await a.open(KEY, "resp_a")
        await stream.emit("content_delta", "partial")
        await asyncio.sleep(1.3)  # A keeps heartbeating: still running
        with pytest.raises(ConflictError):
            await b.open(KEY, "resp_b")
        watcher = await b.get(KEY)
        assert watcher is not None
        tail = asyncio.create_task(
            _events(watcher.follow(-1, heartbeat=0.2))  # a client of the turn on B
        )
        await a.close()  # A stops without finishing the turn (its heartbeats end)
        await asyncio.sleep(1.3)
        assert await b.running() == []
        events = await asyncio.wait_for(tail, 10)  # the follower is told, and ends
        assert [e.event for e in events] == ["content_delta", "response"]
        assert "stopped" in events[-1].data["error"]
        assert (await watcher.wait())["error"] == events[-1].data["error"]
        fresh = await b.open(KEY, "resp_b")
        assert fresh.response_id == "resp_b"
        await stream.emit("content_delta", "too late")  # the old owner's writes are dropped
        assert len(await watcher.history()) == 2
        await fresh.finish({"message": "ok"})


async def test_finished_turns_are_purged_after_the_retention(dsn: str) -> None:
    async with pg_registries(dsn, 2, retention=0.3) as (a, b):
        stream = await a.open(KEY, "resp_a")
        await stream.emit("content_delta", "x")
        await stream.finish({"message": "x"})
        assert await b.get(KEY) is not None
        await asyncio.sleep(0.5)
        assert await b.get(KEY) is None
        rows = await b.db.fetchall("SELECT count(*) AS n FROM ov_stream_events")
        assert rows[0]["n"] == 0


async def _events(source: AsyncIterator[ChatEvent | None]) -> list[ChatEvent]:
    return [e async for e in source if e is not None]
