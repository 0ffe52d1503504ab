"""``GET /api/v1/events`` against a live server: resuming after a dropped connection (with
``Last-Event-ID`` or ``?after=``) gives every later event exactly once, keep-alives arrive
while quiet, a USER's stream never carries another user's memory events, and the HTTP
clients' ``events(...)`` iterators yield the same events and reconnect on their own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import GeneratorType
from typing import Any

import anyio
import httpx
import pytest

from openviking_mcp import AsyncHTTPClient, SyncHTTPClient
from tests.events._live import Frames

pytestmark = pytest.mark.anyio

SKILL = "---\nname: brew\ndescription: Brew tea.\n---\n# Brew\n\nBoil water, steep tea.\n"
EVENTS = "/api/v1/events"


def _client(url: str, key: str, **options: Any) -> AsyncHTTPClient:
    return AsyncHTTPClient(url, key, timeout=30.0, **options)


async def _memories(client: AsyncHTTPClient, user: str, names: list[str]) -> None:
    for name in names:
        await client.write(f"viking://user/{user}/memories/{name}.md", f"Note {name}.")


def _ids(events: list[dict[str, Any]]) -> list[int]:
    return [int(e["id"]) for e in events]


def _consecutive(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> None:
    """``after`` follows ``before`` with no event lost or repeated, ids increasing."""
    ids = _ids(before) + _ids(after)
    assert ids == sorted(set(ids))


async def test_resume_after_a_drop_gives_every_later_event_once(
    live: tuple[str, str, str],
) -> None:
    url, ann, _ = live
    headers = {"X-API-Key": ann}
    with anyio.fail_after(60):
        async with (
            httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http,
            _client(url, ann) as writer,
        ):
            async with http.stream("GET", EVENTS) as resp:
                assert resp.status_code == 200
                assert resp.headers["content-type"].startswith("text/event-stream")
                frames = Frames.of(resp)
                await _memories(writer, "ann", ["a1", "a2", "a3"])
                first = await frames.events(2)  # then the connection drops
            assert frames.comments[0].startswith("after ")
            assert [e["type"] for e in first] == ["memory.changed"] * 2
            assert first[0]["uris"] == ["viking://user/ann/memories/a1.md"]
            assert first[0]["payload"] == {"change": "added"}

            # while nobody listens: one more memory, an update, a skill
            await _memories(writer, "ann", ["a4", "a1"])
            await writer.add_skill(SKILL, wait=True)
            logged = (await writer.list_events(after=first[-1]["id"]))["events"]
            assert [e["type"] for e in logged] == [
                *["memory.changed"] * 3,
                "skill.changed",
            ]
            assert logged[2]["payload"] == {"change": "updated"}

            resume = {"Last-Event-ID": str(first[-1]["id"])}
            async with http.stream("GET", EVENTS, headers=resume) as resp:
                frames = Frames.of(resp)
                rest = await frames.until_quiet()  # the backlog, then a keep-alive
                assert rest == logged
                _consecutive(first, rest)
                await _memories(writer, "ann", ["a5"])  # live after the backlog
                live_one = await frames.events(1)
                assert live_one[0]["uris"] == ["viking://user/ann/memories/a5.md"]
                assert await frames.until_quiet() == []  # nothing repeated
            _consecutive(first + rest, live_one)

            # ?after= resumes the same way
            after = {"after": first[-1]["id"]}
            async with http.stream("GET", EVENTS, params=after) as resp:
                assert await Frames.of(resp).until_quiet() == [*logged, *live_one]


async def test_keep_alives_arrive_while_quiet(live: tuple[str, str, str]) -> None:
    url, ann, _ = live
    with anyio.fail_after(30):
        async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": ann}) as http:
            async with http.stream("GET", EVENTS) as resp:
                frames = Frames.of(resp)
                started = anyio.current_time()
                for _ in range(3):
                    assert await frames.next() is None
                assert anyio.current_time() - started < 10
            assert frames.comments[0].startswith("after ")
            assert frames.comments[1:] == ["keep-alive"] * 3
            bad = await http.get(EVENTS, params={"types": "nope"})
            assert bad.status_code == 400
            assert bad.json()["error"]["code"] == "INVALID_ARGUMENT"
            anonymous = await http.get(EVENTS, headers={"X-API-Key": "wrong"})
            assert anonymous.status_code == 401


async def test_a_user_stream_carries_no_other_users_memories(live: tuple[str, str, str]) -> None:
    url, ann, ben = live
    with anyio.fail_after(60):
        async with (
            httpx.AsyncClient(base_url=url, headers={"X-API-Key": ben}) as http,
            _client(url, ann) as ann_client,
            _client(url, ben) as ben_client,
        ):
            async with http.stream("GET", EVENTS, params={"after": 0}) as resp:
                frames = Frames.of(resp)
                await _memories(ann_client, "ann", ["secret"])
                await ann_client.add_skill(SKILL, wait=True)  # ann's own skill
                await _memories(ben_client, "ben", ["mine"])
                seen = await frames.events(1)
                seen += await frames.until_quiet()
            admin_sees = (await ann_client.list_events(after=0))["events"]
    assert [e["uris"] for e in seen] == [["viking://user/ben/memories/mine.md"]]
    assert all(e["user_id"] == "ben" for e in seen)
    assert len(admin_sees) == 3  # ADMIN: the whole account


async def test_async_client_iterator_yields_the_same_events_and_resumes(
    live: tuple[str, str, str],
) -> None:
    url, ann, _ = live
    with anyio.fail_after(60):
        async with _client(url, ann) as client:
            await _memories(client, "ann", ["c1", "c2", "c3", "c4"])
            logged = (await client.list_events(after=0))["events"]
            assert len(logged) == 4
            got: list[dict[str, Any]] = []
            async for event in client.events(after=0):
                got.append(event)
                if len(got) == 2:
                    break
            assert got == logged[:2]
            rest: list[dict[str, Any]] = []
            stream = client.events(after=got[-1]["id"], types=["memory.changed"])
            async for event in stream:
                rest.append(event)
                if len(rest) == 2:
                    await _memories(client, "ann", ["c5"])
                if len(rest) == 3:
                    break
            assert rest[:2] == logged[2:]
            assert rest[2]["uris"] == ["viking://user/ann/memories/c5.md"]
            _consecutive(got, rest)


# -- a dropped connection is resumed by the client ----------------------------------------------


class _CutStream(httpx.AsyncByteStream):
    """The body until halfway into the event after the first ``keep`` events, then a reset."""

    def __init__(self, inner: httpx.AsyncByteStream, keep: int) -> None:
        self.inner, self.keep = inner, keep

    async def __aiter__(self) -> AsyncIterator[bytes]:
        buffer = b""
        async for chunk in self.inner:
            buffer += chunk
            position, seen = 0, 0
            for frame in buffer.split(b"\n\n")[:-1]:
                if frame.startswith(b"id:"):
                    if seen == self.keep:
                        yield buffer[: position + len(frame) // 2]
                        await self.inner.aclose()
                        raise httpx.RemoteProtocolError("connection reset by peer")
                    seen += 1
                position += len(frame) + 2
        raise AssertionError("the stream ended before the cut")

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Cutter(httpx.AsyncBaseTransport):
    """The network, but the first ``GET /api/v1/events`` breaks off after ``keep`` events."""

    def __init__(self, keep: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.keep = keep
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path != EVENTS:
            return response
        self.requests.append(request)
        if len(self.requests) > 1:
            return response
        assert isinstance(response.stream, httpx.AsyncByteStream)
        stream = _CutStream(response.stream, self.keep)
        return httpx.Response(response.status_code, headers=response.headers, stream=stream)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_async_client_reconnects_after_a_dropped_connection(
    live: tuple[str, str, str],
) -> None:
    url, ann, _ = live
    cutter = _Cutter(keep=2)
    with anyio.fail_after(60):
        async with _client(url, ann, transport=cutter) as client:
            await _memories(client, "ann", ["d1", "d2", "d3", "d4"])
            logged = (await client.list_events(after=0))["events"]
            got: list[dict[str, Any]] = []
            async for event in client.events(after=0):
                got.append(event)
                if len(got) == 4:
                    break
    assert got == logged
    assert [r.headers.get("Last-Event-ID") for r in cutter.requests] == [
        "0",
        str(logged[1]["id"]),
    ]


def test_sync_client_iterator(live: tuple[str, str, str]) -> None:
    url, ann, _ = live
    with SyncHTTPClient(url, ann, timeout=30.0) as client:
        for name in ("s1", "s2", "s3"):
            client.write(f"viking://user/ann/memories/{name}.md", "x")
        logged = client.list_events(after=0)["events"]
        stream = client.events(after=logged[0]["id"], types=["memory.changed"])
        got = [next(stream), next(stream)]
        assert isinstance(stream, GeneratorType)
        stream.close()  # stops following
        assert got == logged[1:]


def test_bad_stream_requests_get_the_envelope_at_once(live: tuple[str, str, str]) -> None:
    url, ann, ben = live
    with httpx.Client(base_url=url, timeout=10) as http:
        for params, key, status, code in (
            ({"types": "memory.changed,nope"}, ann, 400, "INVALID_ARGUMENT"),
            ({"after": "-1"}, ann, 400, "INVALID_ARGUMENT"),
            ({"after": "x"}, ann, 400, "INVALID_ARGUMENT"),
            ({"account_id": "globex"}, ben, 403, "PERMISSION_DENIED"),
            ({}, "not-a-key", 401, "UNAUTHENTICATED"),
        ):
            answer = http.get(EVENTS, params=params, headers={"X-API-Key": key})
            assert answer.status_code == status, answer.text
            assert answer.json()["error"]["code"] == code
