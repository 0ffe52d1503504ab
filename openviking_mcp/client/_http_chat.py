"""The bot's streams over HTTP: how both HTTP clients follow a turn's events.

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
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import httpx

from openviking_mcp.client._chat_wire import chat_payload
from openviking_mcp.client._http_base import segment, unwrap
from openviking_mcp.client._ovcli import ClientSettings
from openviking_mcp.client._sync import arguments
from openviking_mcp.contract.errors import ConflictError, ConnectionFailedError, InternalError

__all__ = [
    "RESUME_ATTEMPTS",
    "RESUME_BACKOFF",
    "AsyncChatStreams",
    "SSEParser",
]

_STREAM = "/chat/stream"
_RESUME = "/chat/stream/resume"
_SESSION_HEADER = "X-VikingBot-Session-ID"
_RESPONSE_HEADER = "X-VikingBot-Response-ID"

#: Reconnects in a row (without a new event in between) before the stream gives up.
RESUME_ATTEMPTS = 3
#: Pause before each of those reconnects, in seconds.
RESUME_BACKOFF = (0.2, 0.5, 1.0)
# The server sends a keep-alive every 15 s: a stream may be read for longer than a normal call.
_MIN_STREAM_READ = 45.0


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
    delivered: bool = False
    parser: SSEParser = field(default_factory=SSEParser)

    def connect(self, response: httpx.Response) -> None:
        """A (re)connected stream: check it is this turn, and read its events afresh."""
        self.opened(response)
        self.parser = SSEParser()
        self.delivered = False

    def take(self, line: str) -> dict[str, Any] | None:
        """The event a line completes, if it is new."""
        event = self.parser.feed(line)
        if event is None or not self.accept(event):
            return None
        self.delivered = True
        return event

    def closed(self, request: _Request) -> BaseException | None:
        """The server closed the stream before the ``response`` event: ``None`` when the turn
        is over anyway (a resume with nothing new), else the problem to retry on."""
        return None if self.ended(request, self.delivered) else _Dropped()

    def broken(
        self, exc: httpx.TransportError, fail: Callable[[httpx.TransportError], Exception]
    ) -> BaseException:
        """The connection failed: a turn the server never named cannot be resumed."""
        if not self.resumable:
            raise fail(exc) from exc
        return exc

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


def _stream_args(request: _Request, settings: ClientSettings) -> dict[str, Any]:
    """``httpx`` stream arguments of a request: a read timeout past the keep-alive period."""
    timeout = httpx.Timeout(max(settings.timeout, _MIN_STREAM_READ), connect=settings.timeout)
    fields = {"params": request.params, "json": request.json, "timeout": timeout}
    return {"method": request.method, "url": request.path, **fields}


def _refused(response: httpx.Response, body: bytes) -> NoReturn:
    """Raise the typed error of a stream request the server refused (its ``body``, read)."""
    unwrap(response)
    raise InternalError(f"HTTP {response.status_code}", {"http_status": response.status_code})


def _opening(name: str, args: dict[str, Any]) -> tuple[_Request, _Turn]:
    """The first request of the stream method ``name`` (``chat_stream`` starts a turn,
    ``chat_resume`` joins the session's turn after ``last_index``) and the turn to follow."""
    session_id, user_id = args.get("session_id"), args.get("user_id")
    if name == "chat_stream":
        return _Request("POST", _STREAM, json=chat_payload(name, args)), _Turn(session_id, user_id)
    turn = _Turn(session_id, user_id, last_index=args.get("last_index", -1))
    return turn.resume(), turn


# -- the clients' streaming methods ----------------------------------------------------------


class AsyncChatStreams:
    """The streams of :class:`~.http.AsyncHTTPClient` (``chat_stream``, ``chat_resume``)."""

    settings: ClientSettings

    def _client(self) -> httpx.AsyncClient:
        raise NotImplementedError

    def _fail(self, exc: httpx.TransportError) -> Exception:
        raise NotImplementedError

    def _stream(self, name: str, values: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        return self._follow(*_opening(name, arguments(values)))

    async def _follow(self, request: _Request, turn: _Turn) -> AsyncIterator[dict[str, Any]]:
        problem: BaseException | None
        while True:
            try:
                async with self._client().stream(**_stream_args(request, self.settings)) as resp:
                    if not resp.is_success:
                        _refused(resp, await resp.aread())
                    turn.connect(resp)
                    async for line in resp.aiter_lines():
                        if (event := turn.take(line)) is not None:
                            yield event
                            if turn.finished:
                                return
                problem = turn.closed(request)
            except httpx.TransportError as exc:
                problem = turn.broken(exc, self._fail)
            if problem is None:
                return
            await asyncio.sleep(turn.retry(problem, self.settings))
            request = turn.resume()
