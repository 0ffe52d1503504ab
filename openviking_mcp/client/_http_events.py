"""The event stream over HTTP: how :class:`~.http.AsyncHTTPClient` follows
``GET /api/v1/events`` (docs/events.md).

Each event arrives as ``id: N``, ``event: <type>`` and ``data: {...}`` lines; comments are
keep-alives. When the connection drops, the client reconnects with ``Last-Event-ID`` set to
the last id it delivered (or the id the stream started after, its first ``: after N``
comment), up to :data:`RESUME_ATTEMPTS` times in a row, so the caller sees every event once,
in order.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx

from openviking_mcp.client._http_base import unwrap
from openviking_mcp.client._ovcli import ClientSettings
from openviking_mcp.contract.errors import InternalError

__all__ = ["AsyncEventStream", "EventLines"]

_PATH = "/api/v1/events"
RESUME_ATTEMPTS = 3
_BACKOFF = (0.2, 0.5, 1.0)
_MIN_STREAM_READ = 45.0


class EventLines:
    """Turns stream lines into events ``{id, type, time, account_id, user_id, uris,
    payload}``; an event cut short by a dropped connection is never reported."""

    def __init__(self) -> None:
        self._data: list[str] = []
        #: The id the stream starts after (its ``: after N`` comment).
        self.start: int | None = None

    def feed(self, line: str) -> dict[str, Any] | None:
        if line.startswith(":"):
            text = line[1:].strip()
            if text.startswith("after ") and text[6:].isdigit():
                self.start = int(text[6:])
            return None
        if line:
            name, _, value = line.partition(":")
            if name == "data":
                self._data.append(value.removeprefix(" "))
            return None
        data, self._data = self._data, []
        if not data:
            return None
        try:
            event = json.loads("\n".join(data))
        except ValueError:
            event = None
        if not isinstance(event, dict) or not isinstance(event.get("id"), int):
            raise InternalError("The event stream sent an event without an id", {})
        return event


class AsyncEventStream:
    """``events(...)`` of the async HTTP client."""

    settings: ClientSettings

    def _client(self) -> httpx.AsyncClient:
        raise NotImplementedError

    def _fail(self, exc: httpx.TransportError) -> Exception:
        raise NotImplementedError

    async def events(
        self,
        *,
        after: int | None = None,
        types: Sequence[str] | None = None,
        account_id: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """The events the caller may see, live, oldest first: after the id ``after`` (``None``:
        only new ones), of ``types`` only when given. Runs until the caller stops iterating;
        reconnects after a dropped connection without losing or repeating an event."""
        params: dict[str, Any] = {}
        if types:
            params["types"] = ",".join(types)
        if account_id:
            params["account_id"] = account_id
        last, attempts = after, 0
        timeout = httpx.Timeout(
            max(self.settings.timeout, _MIN_STREAM_READ), connect=self.settings.timeout
        )
        while True:
            headers = {"Last-Event-ID": str(last)} if last is not None else {}
            try:
                async with self._client().stream(
                    "GET", _PATH, params=params, headers=headers, timeout=timeout
                ) as resp:
                    if not resp.is_success:
                        await resp.aread()
                        unwrap(resp)
                    parser = EventLines()
                    async for line in resp.aiter_lines():
                        event = parser.feed(line)
                        if last is None and parser.start is not None:
                            last = parser.start  # where "only new events" began
                        if event is not None:
                            last, attempts = int(event["id"]), 0
                            yield event
            except httpx.TransportError as exc:
                if attempts >= RESUME_ATTEMPTS:
                    raise self._fail(exc) from exc
            attempts += 1
            if attempts > RESUME_ATTEMPTS:
                raise InternalError("The event stream kept closing", {"path": _PATH})
            await asyncio.sleep(_BACKOFF[min(attempts, len(_BACKOFF)) - 1])
