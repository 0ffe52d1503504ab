"""The bot over HTTP: the chat calls of :class:`~._http_calls.CallBuilder` and the streaming
methods of both HTTP clients, with the embedded client's signatures.

The bot's routes answer raw JSON (no envelope) and stream server-sent events: an ``id: N``
line (the event's index in its turn) and a ``data: {event, data, timestamp}`` line per event,
``: keep-alive`` comments while the turn is quiet. A turn runs on the server whatever happens
to the connection, so when the connection drops before the ``response`` event the clients
reconnect to ``GET /chat/stream/resume/{session_id}?last_index=N`` with the last index they
got (up to :data:`RESUME_ATTEMPTS` times in a row, after a short pause): the caller sees every
event once, in order. (A ``need_reply=False`` turn only stores the message: no events.)
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx

from openviking_mcp.client._chat_wire import FeedbackType, chat_body, feedback_body
from openviking_mcp.client._http_base import Call, call, segment, unwrap
from openviking_mcp.client._ovcli import ClientSettings
from openviking_mcp.contract.errors import ConflictError, ConnectionFailedError, InternalError

__all__ = [
    "RESUME_ATTEMPTS",
    "RESUME_BACKOFF",
    "AsyncChatStreams",
    "ChatCalls",
    "SSEParser",
    "SyncChatStreams",
]

_CHAT = "/chat"
_STREAM = "/chat/stream"
_RESUME = "/chat/stream/resume"
_FEEDBACK = "/bot/v1/feedback"
_HEALTH = "/bot/v1/health"
_SESSION_HEADER = "X-VikingBot-Session-ID"
_RESPONSE_HEADER = "X-VikingBot-Response-ID"

#: Reconnects in a row (without a new event in between) before the stream gives up.
RESUME_ATTEMPTS = 3
#: Pause before each of those reconnects, in seconds.
RESUME_BACKOFF = (0.2, 0.5, 1.0)
# The server sends a keep-alive every 15 s: a stream may be read for longer than a normal call.
_MIN_STREAM_READ = 45.0


class ChatCalls:
    """``POST /chat``, ``POST /bot/v1/feedback`` and ``GET /bot/v1/health`` (raw JSON)."""

    def chat(
        self,
        message: str = "",
        *,
        session_id: str | None = None,
        images: list[str] | None = None,
        user_id: str | None = None,
        need_reply: bool = True,
        disabled_tools: list[str] | None = None,
    ) -> Call[dict[str, Any]]:
        """``POST /chat``: the whole turn. It waits for the model without a read limit (the
        server ends a turn that makes no progress for ``bot.timeout`` seconds)."""
        payload = chat_body(
            message,
            session_id=session_id,
            images=images,
            user_id=user_id,
            need_reply=need_reply,
            disabled_tools=disabled_tools,
        )
        return call("POST", _CHAT, json=payload, waits=True)

    def chat_feedback(
        self,
        session_id: str,
        response_id: str,
        feedback_type: FeedbackType,
        *,
        score: float | None = None,
        reason: str | None = None,
        text: str | None = None,
    ) -> Call[dict[str, Any]]:
        payload = feedback_body(
            session_id, response_id, feedback_type, score=score, reason=reason, text=text
        )
        return call("POST", _FEEDBACK, json=payload)

    def bot_health(self) -> Call[dict[str, Any]]:
        """``GET /bot/v1/health`` (503 ``UNAVAILABLE`` when the server runs without the bot)."""
        return call("GET", _HEALTH)


# -- server-sent events ----------------------------------------------------------------------


class SSEParser:
    """Turns the lines of a chat stream into events ``{index, event, data, timestamp}``.

    An event is complete at its blank line; one cut short by a dropped connection never is,
    so it is not reported (the resume sends it again)."""

    def __init__(self) -> None:
        self._id: str | None = None
        self._data: list[str] = []

    def feed(self, line: str) -> dict[str, Any] | None:
        """The event a line completes, else ``None``."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: the keep-alive
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "id":
            self._id = value
        elif name == "data":
            self._data.append(value)
        return None

    def _dispatch(self) -> dict[str, Any] | None:
        ident, data = self._id, self._data
        self._id, self._data = None, []
        if not data:
            return None
        try:
            payload = json.loads("\n".join(data))
            index = int(ident) if ident is not None else None
        except ValueError:
            payload, index = None, None
        if not isinstance(payload, dict) or index is None:
            raise InternalError(
                "The chat stream sent an event that is not {event, data, timestamp} with an id",
                {"id": ident, "data": "\n".join(data)[:500]},
            )
        return {
            "index": index,
            "event": payload.get("event"),
            "data": payload.get("data"),
            "timestamp": payload.get("timestamp"),
        }


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Mapping[str, Any] | None = None


class _Dropped(Exception):
    """The stream ended without its ``response`` event."""


@dataclass
class _Turn:
    """One followed turn: which it is, the last event delivered and the reconnects made."""

    session_id: str | None
    user_id: str | None
    response_id: str | None = None
    last_index: int = -1
    finished: bool = False
    attempts: int = 0

    @property
    def resumable(self) -> bool:
        """Whether the server started the turn (its answer named it), so it can be resumed."""
        return self.session_id is not None and self.response_id is not None

    def opened(self, response: httpx.Response) -> None:
        """Check a (re)connected stream's headers: it must be the same turn."""
        session_id = response.headers.get(_SESSION_HEADER)
        response_id = response.headers.get(_RESPONSE_HEADER)
        if self.response_id is not None and response_id and response_id != self.response_id:
            raise ConflictError(
                f"Session {self.session_id} moved on to another turn ({response_id}) before "
                f"the answer {self.response_id} was received in full",
                self.where(),
            )
        self.session_id = session_id or self.session_id
        self.response_id = self.response_id or response_id

    def accept(self, event: dict[str, Any]) -> bool:
        """Whether an event is new (a resume never repeats one); the ``response`` event
        finishes the turn."""
        if event["index"] <= self.last_index:
            return False
        self.last_index = event["index"]
        self.attempts = 0
        self.finished = event["event"] == "response"
        return True

    def ended(self, request: _Request, delivered: bool) -> bool:
        """Whether a stream the server closed without a ``response`` event is over: a resume
        with nothing new (the turn is finished)."""
        return request.method == "GET" and not delivered

    def where(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "response_id": self.response_id,
            "last_index": self.last_index,
        }

    def retry(self, problem: BaseException, settings: ClientSettings) -> float:
        """The pause before the next reconnect; raises once the attempts are used up (or when
        the server never named the turn, so there is nothing to resume)."""
        self.attempts += 1
        if self.resumable and self.attempts <= RESUME_ATTEMPTS:
            return RESUME_BACKOFF[min(self.attempts, len(RESUME_BACKOFF)) - 1]
        reason = "EOF" if isinstance(problem, _Dropped) else type(problem).__name__
        tried = f"{RESUME_ATTEMPTS} attempts to resume it" if self.resumable else "no resume"
        raise ConnectionFailedError(
            f"The chat stream from {settings.url} broke off before the answer ({tried}; "
            f"last: {problem or reason}). A running turn can be resumed later with "
            "chat_resume(session_id, last_index=...)",
            {"url": settings.url, "reason": reason, **self.where()},
        ) from problem

    def resume(self) -> _Request:
        assert self.session_id is not None
        params: dict[str, Any] = {"last_index": self.last_index}
        if self.user_id is not None:
            params["user_id"] = self.user_id
        return _Request("GET", f"{_RESUME}/{segment(self.session_id)}", params=params)


def _stream_timeout(settings: ClientSettings) -> httpx.Timeout:
    return httpx.Timeout(max(settings.timeout, _MIN_STREAM_READ), connect=settings.timeout)


def _refused(response: httpx.Response) -> NoReturn:
    """Raise the typed error of a stream request the server refused (its error answer)."""
    unwrap(response)
    raise InternalError(f"HTTP {response.status_code}", {"http_status": response.status_code})


def _start(
    message: str,
    *,
    session_id: str | None,
    images: list[str] | None,
    user_id: str | None,
    need_reply: bool,
    disabled_tools: list[str] | None,
) -> tuple[_Request, _Turn]:
    payload = chat_body(
        message,
        session_id=session_id,
        images=images,
        user_id=user_id,
        need_reply=need_reply,
        disabled_tools=disabled_tools,
    )
    turn = _Turn(session_id, user_id)
    return _Request("POST", _STREAM, json=payload), turn


def _resume(session_id: str, last_index: int, user_id: str | None) -> tuple[_Request, _Turn]:
    turn = _Turn(session_id, user_id, last_index=last_index)
    return turn.resume(), turn


# -- the clients' streaming methods ----------------------------------------------------------


class SyncChatStreams:
    """``chat_stream`` and ``chat_resume`` of :class:`~.http.SyncHTTPClient`."""

    settings: ClientSettings

    def _client(self) -> httpx.Client:
        raise NotImplementedError

    def _fail(self, exc: httpx.TransportError) -> Exception:
        raise NotImplementedError

    def chat_stream(
        self,
        message: str = "",
        *,
        session_id: str | None = None,
        images: list[str] | None = None,
        user_id: str | None = None,
        need_reply: bool = True,
        disabled_tools: list[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """``POST /chat/stream``: the turn's events ``{index, event, data, timestamp}`` as they
        come, ending with ``response``; a dropped connection is resumed (module docs)."""
        request, turn = _start(
            message,
            session_id=session_id,
            images=images,
            user_id=user_id,
            need_reply=need_reply,
            disabled_tools=disabled_tools,
        )
        return self._follow(request, turn)

    def chat_resume(
        self, session_id: str, *, last_index: int = -1, user_id: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """``GET /chat/stream/resume/{session_id}``: the events after ``last_index``, then the
        rest as they come (``NotFoundError`` when the session has no recent turn)."""
        request, turn = _resume(session_id, last_index, user_id)
        return self._follow(request, turn)

    def _follow(self, request: _Request, turn: _Turn) -> Iterator[dict[str, Any]]:
        while True:
            problem: BaseException
            delivered = False
            try:
                with self._client().stream(
                    request.method,
                    request.path,
                    params=request.params,
                    json=request.json,
                    timeout=_stream_timeout(self.settings),
                ) as response:
                    if not response.is_success:
                        response.read()
                        _refused(response)
                    turn.opened(response)
                    parser = SSEParser()
                    for line in response.iter_lines():
                        event = parser.feed(line)
                        if event is not None and turn.accept(event):
                            delivered = True
                            yield event
                            if turn.finished:
                                return
                if turn.ended(request, delivered):
                    return
                problem = _Dropped()
            except httpx.TransportError as exc:
                if not turn.resumable:
                    raise self._fail(exc) from exc
                problem = exc
            time.sleep(turn.retry(problem, self.settings))
            request = turn.resume()


class AsyncChatStreams:
    """``chat_stream`` and ``chat_resume`` of :class:`~.http.AsyncHTTPClient`."""

    settings: ClientSettings

    def _client(self) -> httpx.AsyncClient:
        raise NotImplementedError

    def _fail(self, exc: httpx.TransportError) -> Exception:
        raise NotImplementedError

    def chat_stream(
        self,
        message: str = "",
        *,
        session_id: str | None = None,
        images: list[str] | None = None,
        user_id: str | None = None,
        need_reply: bool = True,
        disabled_tools: list[str] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """``POST /chat/stream``: the turn's events ``{index, event, data, timestamp}`` as they
        come, ending with ``response``; a dropped connection is resumed (module docs)."""
        request, turn = _start(
            message,
            session_id=session_id,
            images=images,
            user_id=user_id,
            need_reply=need_reply,
            disabled_tools=disabled_tools,
        )
        return self._follow(request, turn)

    def chat_resume(
        self, session_id: str, *, last_index: int = -1, user_id: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """``GET /chat/stream/resume/{session_id}``: the events after ``last_index``, then the
        rest as they come (``NotFoundError`` when the session has no recent turn)."""
        request, turn = _resume(session_id, last_index, user_id)
        return self._follow(request, turn)

    async def _follow(self, request: _Request, turn: _Turn) -> AsyncIterator[dict[str, Any]]:
        while True:
            problem: BaseException
            delivered = False
            try:
                async with self._client().stream(
                    request.method,
                    request.path,
                    params=request.params,
                    json=request.json,
                    timeout=_stream_timeout(self.settings),
                ) as response:
                    if not response.is_success:
                        await response.aread()
                        _refused(response)
                    turn.opened(response)
                    parser = SSEParser()
                    async for line in response.aiter_lines():
                        event = parser.feed(line)
                        if event is not None and turn.accept(event):
                            delivered = True
                            yield event
                            if turn.finished:
                                return
                if turn.ended(request, delivered):
                    return
                problem = _Dropped()
            except httpx.TransportError as exc:
                if not turn.resumable:
                    raise self._fail(exc) from exc
                problem = exc
            await asyncio.sleep(turn.retry(problem, self.settings))
            request = turn.resume()
