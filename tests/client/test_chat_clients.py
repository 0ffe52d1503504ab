"""Chat through the clients: the embedded ones (sync and async) on a service with a scripted
model, the HTTP ones against the real app on an in-thread uvicorn, including the automatic
resume of a stream whose connection drops mid-turn."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import GeneratorType
from typing import Any

import httpx
import pytest

from openviking_mcp import (
    AsyncHTTPClient,
    AsyncOpenViking,
    ContextService,
    OpenViking,
    SyncHTTPClient,
)
from openviking_mcp.client import _http_chat
from openviking_mcp.client._chat_wire import image_data_url
from openviking_mcp.contract.errors import (
    ConnectionFailedError,
    InvalidArgumentError,
    NotFoundError,
    UnavailableError,
)
from tests.bot.conftest import Script, bot_config
from tests.servers import serving

DEPLOY = "viking://resources/ops/deploy.md"
DEPLOY_TEXT = "# Deploying\n\nTo deploy the shop run `make ship` from the release branch."
SLOW_DELTAS = ["Alpha ", "beta ", "gamma ", "delta ", "epsilon."]


def _answer() -> list[Any]:
    """find, then the answer in three deltas (events: iteration, tool_call, tool_result,
    iteration, 3 x content_delta, response)."""
    return [("find", {"query": "deploy"}), ["Run `make ship` ", "from the release branch ", "."]]


def _check_turn(events: list[dict[str, Any]], first: int = 0) -> dict[str, Any]:
    """Indices consecutive from ``first``, each event once, ending with ``response``."""
    assert [e["index"] for e in events] == list(range(first, first + len(events)))
    assert all(set(e) == {"index", "event", "data", "timestamp"} for e in events)
    assert [e["event"] for e in events].count("response") == 1
    assert events[-1]["event"] == "response"
    final: dict[str, Any] = events[-1]["data"]
    return final


# -- embedded clients ----------------------------------------------------------------------


def test_embedded_sync_client_chats_streams_resumes_and_takes_feedback(workspace: Path) -> None:
    script = Script([*_answer(), *_answer()])
    with OpenViking(config=bot_config(workspace), chat_model=script.model()) as ov:
        ov.write(DEPLOY, DEPLOY_TEXT, mode="create", wait=True)
        reply = ov.chat("How do I deploy?")
        assert reply["mode"] == "llm"
        assert reply["error"] is None
        assert reply["message"] == "Run `make ship` from the release branch ."
        assert [e["type"] for e in reply["events"]][:3] == ["iteration", "tool_call", "tool_result"]
        session = reply["session_id"]

        events = list(ov.chat_stream("And again?", session_id=session))
        final = _check_turn(events)
        deltas = [e["data"] for e in events if e["event"] == "content_delta"]
        assert "".join(deltas) == final["content"] == reply["message"]
        assert final["session_id"] == session
        assert final["response_id"] != reply["response_id"]

        # the finished turn stays resumable: the events after index 3, once each
        rest = list(ov.chat_resume(session, last_index=3))
        assert rest == events[4:]

        receipt = ov.chat_feedback(session, final["response_id"], "rating", score=4, text="ok")
        assert receipt["accepted"] is True
        assert receipt["feedback_type"] == "rating"
        assert ov.bot_health()["mode"] == "llm"
        stored = list(ov.chat_stream("store only", session_id=session, need_reply=False))
        assert [(e["event"], e["data"]["mode"]) for e in stored] == [("response", "store")]

        with pytest.raises(InvalidArgumentError):
            ov.chat("")
        with pytest.raises(InvalidArgumentError, match="unknown tools"):
            next(ov.chat_stream("x", disabled_tools=["shell"]))
        with pytest.raises(NotFoundError):
            list(ov.chat_resume("no-such-chat"))
        with pytest.raises(InvalidArgumentError, match="feedback_score"):
            ov.chat_feedback(session, final["response_id"], "rating")


def test_embedded_sync_stream_can_be_left_early(workspace: Path) -> None:
    with OpenViking(config=bot_config(workspace), chat_model=Script(_answer()).model()) as ov:
        stream = ov.chat_stream("deploy?", session_id="early")
        assert isinstance(stream, GeneratorType)
        assert next(stream)["event"] == "iteration"
        stream.close()  # the turn goes on without a reader
        assert _check_turn(list(ov.chat_resume("early")))["content"]


@pytest.mark.anyio
async def test_embedded_async_client(workspace: Path) -> None:
    script = Script([*_answer(), ["Stored."]])
    async with AsyncOpenViking(config=bot_config(workspace), chat_model=script.model()) as ov:
        events = [e async for e in ov.chat_stream("How do I deploy?", session_id="a1")]
        final = _check_turn(events)
        assert final["content"] == "Run `make ship` from the release branch ."
        assert [e["event"] for e in events][:4] == [
            "iteration",
            "tool_call",
            "tool_result",
            "iteration",
        ]
        assert [e async for e in ov.chat_resume("a1", last_index=5)] == events[6:]
        stored = await ov.chat("just keep this", session_id="a1", need_reply=False)
        assert stored["mode"] == "store"
        assert stored["message"] is None
        receipt = await ov.chat_feedback("a1", final["response_id"], "thumb_up")
        assert receipt["accepted"] is True
        assert (await ov.bot_health())["status"] == "healthy"


# -- HTTP clients against the real app ---------------------------------------------------------


@pytest.fixture
def server(workspace: Path) -> Iterator[tuple[str, Script]]:
    script = Script([*_answer(), *_answer()])
    service = ContextService(bot_config(workspace), chat_model=script.model())
    with serving(service) as url:
        yield url, script


@pytest.fixture
def slow_server(workspace: Path) -> Iterator[str]:
    """A model that answers in five deltas, 0.2 s apart: a turn takes about a second."""
    service = ContextService(
        bot_config(workspace), chat_model=Script([SLOW_DELTAS], delay=0.2).model()
    )
    with serving(service) as url:
        yield url


def _sync(url: str, transport: httpx.AsyncBaseTransport | None = None) -> SyncHTTPClient:
    return SyncHTTPClient(url, "unused", timeout=30.0, extra_headers={}, transport=transport)


def _async(url: str, transport: httpx.AsyncBaseTransport | None = None) -> AsyncHTTPClient:
    return AsyncHTTPClient(url, "unused", timeout=30.0, extra_headers={}, transport=transport)


def test_sync_http_client_chat_stream_resume_feedback_and_errors(
    server: tuple[str, Script],
) -> None:
    url, script = server
    with _sync(url) as ov:
        ov.write(DEPLOY, DEPLOY_TEXT, mode="create", wait=True)
        reply = ov.chat("How do I deploy?", session_id="web-1")
        assert reply["session_id"] == "web-1"
        assert reply["message"] == "Run `make ship` from the release branch ."
        assert reply["events"][1]["data"]["name"] == "find"

        events = list(ov.chat_stream("And again?", session_id="web-1"))
        final = _check_turn(events)
        assert final["content"] == reply["message"]
        assert final["model"] == "scripted"
        assert list(ov.chat_resume("web-1", last_index=4)) == events[5:]

        # a turn that only stores the message streams just its response event
        stored = list(ov.chat_stream("just store this", session_id="web-2", need_reply=False))
        assert [e["event"] for e in stored] == ["response"]
        assert stored[0]["data"]["content"] is None
        assert list(ov.chat_resume("web-2")) == stored

        receipt = ov.chat_feedback("web-1", final["response_id"], "thumb_down", reason="vague")
        assert receipt["accepted"] is True
        assert receipt["response_id"] == final["response_id"]
        health = ov.bot_health()
        assert (health["status"], health["model"]) == ("healthy", "scripted")

        calls = len(script.calls)
        with pytest.raises(InvalidArgumentError) as caught:
            ov.chat("", session_id="web-1")
        assert "message or at least one image" in caught.value.message
        with pytest.raises(InvalidArgumentError, match="GIF"):
            next(ov.chat_stream("look", images=["data:image/gif;base64,AAAA"]))
        with pytest.raises(InvalidArgumentError, match="feedback_score"):
            ov.chat_feedback("web-1", final["response_id"], "rating")
        with pytest.raises(NotFoundError):
            ov.chat_feedback("web-1", "resp_nope", "thumb_up")
        with pytest.raises(NotFoundError):
            list(ov.chat_resume("nothing-here"))
        assert len(script.calls) == calls  # refused requests never reached the model


@pytest.mark.anyio
async def test_async_http_client(server: tuple[str, Script], tmp_path: Path) -> None:
    url, _ = server
    png = tmp_path / "pixel.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    async with _async(url) as ov:
        image = image_data_url(png)
        events = [e async for e in ov.chat_stream("deploy?", session_id="a-1", images=[image])]
        final = _check_turn(events)
        assert final["content"] == "Run `make ship` from the release branch ."
        assert [e async for e in ov.chat_resume("a-1", last_index=len(events) - 2)] == events[-1:]
        reply = await ov.chat("note this", session_id="a-1", need_reply=False)
        assert reply["mode"] == "store"
        receipt = await ov.chat_feedback("a-1", final["response_id"], "rating", score=5)
        assert receipt["feedback_type"] == "rating"
        with pytest.raises(InvalidArgumentError):
            await ov.chat("x", disabled_tools=["shell"])
        with pytest.raises(NotFoundError):
            [e async for e in ov.chat_resume("nothing-here")]


def test_bot_routes_off_is_unavailable(workspace: Path) -> None:
    with serving(ContextService(bot_config(workspace, enabled=False))) as url, _sync(url) as ov:
        with pytest.raises(UnavailableError, match="--with-bot"):
            ov.chat("hello")
        with pytest.raises(UnavailableError):
            ov.bot_health()
        with pytest.raises(UnavailableError):
            list(ov.chat_stream("hello"))


# -- a dropped connection is resumed ---------------------------------------------------------


def _cut_at(buffer: bytes, keep: int) -> int | None:
    """Where to cut the stream: halfway into the event after the first ``keep`` events
    (``None`` until that event has arrived in full)."""
    position, seen = 0, 0
    frames = buffer.split(b"\n\n")
    for frame in frames[:-1]:
        if frame.startswith(b"id:"):
            if seen == keep:
                return position + len(frame) // 2
            seen += 1
        position += len(frame) + 2
    return None


class _AsyncCutStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, keep: int, error: type[Exception]) -> None:
        self.inner, self.keep, self.error = inner, keep, error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        buffer = b""
        async for chunk in self.inner:
            buffer += chunk
            cut = _cut_at(buffer, self.keep)
            if cut is not None:
                yield buffer[:cut]
                await self.inner.aclose()
                raise self.error("connection reset by peer")
        raise AssertionError("the turn ended before the cut")

    async def aclose(self) -> None:
        await self.inner.aclose()


class _AsyncCutter(httpx.AsyncBaseTransport):
    """The network, but the first ``POST /chat/stream`` breaks off after ``keep`` events (both
    HTTP clients run on ``httpx.AsyncClient``)."""

    def __init__(self, keep: int, error: type[Exception]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.keep, self.error = keep, error
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = await self.inner.handle_async_request(request)
        if request.url.path != "/chat/stream" or len(self.requests) > 1:
            return response
        assert isinstance(response.stream, httpx.AsyncByteStream)
        stream = _AsyncCutStream(response.stream, self.keep, self.error)
        return httpx.Response(response.status_code, headers=response.headers, stream=stream)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _check_resumed(events: list[dict[str, Any]], requests: list[httpx.Request]) -> None:
    final = _check_turn(events)  # 0..6, each once
    assert [e["event"] for e in events] == ["iteration", *["content_delta"] * 5, "response"]
    assert [e["data"] for e in events[1:6]] == SLOW_DELTAS
    assert final["content"] == "".join(SLOW_DELTAS)
    # one reconnect, after the two events that arrived whole (event 2 was cut in half)
    assert [(r.method, r.url.path) for r in requests] == [
        ("POST", "/chat/stream"),
        ("GET", "/chat/stream/resume/drop-1"),
    ]
    assert requests[1].url.params["last_index"] == "1"


@pytest.mark.parametrize("error", [httpx.RemoteProtocolError, httpx.ReadTimeout])
def test_sync_stream_resumes_after_a_dropped_connection(
    slow_server: str, error: type[Exception]
) -> None:
    cutter = _AsyncCutter(keep=2, error=error)
    with _sync(slow_server, cutter) as ov:
        events = list(ov.chat_stream("tell me", session_id="drop-1"))
    _check_resumed(events, cutter.requests)


@pytest.mark.anyio
async def test_async_stream_resumes_after_a_dropped_connection(slow_server: str) -> None:
    cutter = _AsyncCutter(keep=2, error=httpx.ReadError)
    async with _async(slow_server, cutter) as ov:
        events = [e async for e in ov.chat_stream("tell me", session_id="drop-1")]
    _check_resumed(events, cutter.requests)


# -- when resuming is impossible -------------------------------------------------------------


class _Broken(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'id: 0\ndata: {"event":"iteration","data":{},"timestamp":"t"}\n\n'
        yield b'id: 1\ndata: {"event":"content_delta","data":"Hel'
        raise httpx.RemoteProtocolError("peer closed connection")


def test_gives_up_after_three_failed_resumes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http_chat, "RESUME_BACKOFF", (0.0, 0.0, 0.0))
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.method == "POST":
            headers = {"X-VikingBot-Session-ID": "s1", "X-VikingBot-Response-ID": "resp_1"}
            return httpx.Response(200, headers=headers, stream=_Broken())
        raise httpx.ConnectError("Connection refused", request=request)

    with _sync("http://ov.test", httpx.MockTransport(handle)) as ov:
        received: list[dict[str, Any]] = []
        with pytest.raises(ConnectionFailedError) as caught:
            received.extend(ov.chat_stream("hi"))
    assert [e["index"] for e in received] == [0]
    assert seen == ["POST /chat/stream"] + ["GET /chat/stream/resume/s1"] * 3
    assert caught.value.details["last_index"] == 0
    assert caught.value.details["response_id"] == "resp_1"
    assert caught.value.details["reason"] == "ConnectError"


def test_a_turn_that_never_started_is_not_resumed() -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        raise httpx.ConnectError("Connection refused", request=request)

    with (
        _sync("http://ov.test", httpx.MockTransport(handle)) as ov,
        pytest.raises(ConnectionFailedError),
    ):
        list(ov.chat_stream("hi", session_id="s1"))
    assert seen == ["/chat/stream"]


def test_a_turn_gone_from_the_server_is_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http_chat, "RESUME_BACKOFF", (0.0, 0.0, 0.0))

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            headers = {"X-VikingBot-Session-ID": "s1", "X-VikingBot-Response-ID": "resp_1"}
            return httpx.Response(200, headers=headers, stream=_Broken())
        error = {"code": "NOT_FOUND", "message": "No running or recent chat turn", "details": {}}
        return httpx.Response(404, json={"status": "error", "error": error})

    with (
        _sync("http://ov.test", httpx.MockTransport(handle)) as ov,
        pytest.raises(NotFoundError, match="No running or recent chat turn"),
    ):
        list(ov.chat_stream("hi"))


def test_a_stream_closed_early_but_cleanly_is_resumed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http_chat, "RESUME_BACKOFF", (0.0, 0.0, 0.0))
    headers = {"X-VikingBot-Session-ID": "s1", "X-VikingBot-Response-ID": "resp_1"}
    first = b'id: 0\ndata: {"event":"iteration","data":{},"timestamp":"t"}\n\n: keep-alive\n\n'
    rest = b'id: 1\ndata: {"event":"response","data":{"content":"ok"},"timestamp":"t"}\n\n'
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path} {request.url.query.decode()}")
        if request.method == "POST":
            return httpx.Response(200, headers=headers, content=first)
        return httpx.Response(200, headers=headers, content=rest)

    with _sync("http://ov.test", httpx.MockTransport(handle)) as ov:
        events = list(ov.chat_stream("hi"))
        assert [e["event"] for e in events] == ["iteration", "response"]
        assert seen == ["POST /chat/stream ", "GET /chat/stream/resume/s1 last_index=0"]
