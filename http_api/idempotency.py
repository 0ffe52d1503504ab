"""``Idempotency-Key`` on the mutating requests of the HTTP API (docs/idempotency.md).

A ``POST``, ``PUT``, ``PATCH`` or ``DELETE`` (and the WebDAV verbs that change something:
``MKCOL``, ``MOVE``, ``COPY``, ``PROPPATCH``) that carries the header is run once per caller
(account and user) and key. Its request is fingerprinted (sha256 of the method, path, query
string and body bytes), its key claimed in the metadata database, and then:

* a repeat with the same fingerprint gets the recorded response again (status, headers and
  body, plus ``Idempotent-Replayed: true``); one that arrives while the first still runs waits
  for it, at most ``idempotency.wait_seconds`` (409 ``IDEMPOTENCY_IN_PROGRESS`` after that);
* a request with the same key and another fingerprint is 409 ``IDEMPOTENCY_KEY_REUSED``.

2xx, 3xx and 4xx responses are recorded (4xx but 408 and 429, which depend on the moment),
5xx ones are not: the key is released and a retry runs again. So are event streams (released
as they start) and bodies over ``idempotency.max_response_bytes``. Requests without the header,
other methods, the console (it has CSRF tokens), ``/mcp`` and ``temp_upload`` (each upload
makes a new file id; an unused one expires) pass through, as does a request whose caller cannot
be authenticated: it then fails in the route as usual.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable

import anyio
from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from http_api.auth import authenticate_headers
from http_api.envelope import error_response
from http_api.routers.resources import TEMP_UPLOAD_PATH
from openviking_mcp.contract.errors import (
    IdempotencyInProgressError,
    IdempotencyKeyReusedError,
    InvalidArgumentError,
    OpenVikingError,
)
from openviking_mcp.service import ContextService
from openviking_mcp.storage.idempotency import IdempotencyRecords, StoredResponse

__all__ = ["IDEMPOTENCY_HEADER", "MUTATING_METHODS", "REPLAYED_HEADER", "IdempotencyMiddleware"]

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MUTATING_METHODS = frozenset(
    {"POST", "PUT", "PATCH", "DELETE", "MKCOL", "MOVE", "COPY", "PROPPATCH"}
)
_EXEMPT_PATHS = frozenset({TEMP_UPLOAD_PATH, "/mcp"})
_EXEMPT_PREFIXES = ("/console",)
_MAX_KEY_CHARS = 255
_UNRECORDED_4XX = frozenset({408, 429})
_POLL_S = (0.02, 0.05, 0.1, 0.2)

Scope3 = tuple[str, str, str]


def _applies(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] not in MUTATING_METHODS:
        return False
    path: str = scope["path"]
    return path not in _EXEMPT_PATHS and not path.startswith(_EXEMPT_PREFIXES)


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= _MAX_KEY_CHARS and all(0x21 <= ord(c) <= 0x7E for c in key)


def _fingerprint(scope: Scope, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope.get("raw_path") or scope["path"].encode()):
        digest.update(part + b"\0")
    digest.update(bytes(scope.get("query_string") or b"") + b"\0")
    digest.update(body)
    return digest.hexdigest()


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body (the envelope's size limit, around this, bounds it), or ``None``
    when the client went away."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        more = bool(message.get("more_body", False))
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the buffered body first, then defers to ``receive``."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _raising(exc: BaseException) -> Receive:
    async def fail() -> Message:
        raise exc

    return fail


async def _send_stored(stored: StoredResponse, send: Send) -> None:
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in stored.headers]
    headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body, "more_body": False})


async def _send_error(scope: Scope, receive: Receive, send: Send, exc: OpenVikingError) -> None:
    response = error_response(Request(scope), exc.http_status, exc.to_dict())
    await response(scope, receive, send)


class _Recorder:
    """Passes the response through while keeping a copy small enough to record; an event
    stream releases the key as soon as it starts."""

    def __init__(self, send: Send, limit: int, release: Callable[[], Awaitable[None]]) -> None:
        self.send = send
        self.limit = limit
        self.release = release
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.size = 0
        self.recordable = True

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            raw = message.get("headers") or []
            self.headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in raw]
            kind = Headers(raw=list(raw)).get("content-type", "")
            if kind.startswith("text/event-stream"):
                self.recordable = False
                await self.release()
        elif message["type"] == "http.response.body" and self.recordable:
            body = bytes(message.get("body", b""))
            self.size += len(body)
            if self.size > self.limit:
                self.recordable, self.chunks = False, []
            else:
                self.chunks.append(body)
        await self.send(message)

    def stored(self) -> StoredResponse | None:
        """The response to record, or ``None`` when it must not be."""
        status = self.status
        if not self.recordable or not status or status >= 500 or status in _UNRECORDED_4XX:
            return None
        return StoredResponse(status, self.headers, b"".join(self.chunks))


class IdempotencyMiddleware:
    """Pure ASGI middleware (see the module docs). It sits inside the envelope's size limit and
    the startup gate, so the body it buffers is bounded and the metadata database is open."""

    def __init__(self, app: ASGIApp, service: ContextService) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        config = self.service.config.idempotency
        key = Headers(scope=scope).get(IDEMPOTENCY_HEADER) if _applies(scope) else None
        if key is None or not config.enabled:
            await self.app(scope, receive, send)
            return
        if not _valid_key(key):
            error = InvalidArgumentError(
                f"{IDEMPOTENCY_HEADER} must be 1 to {_MAX_KEY_CHARS} visible ASCII characters",
                {"header": IDEMPOTENCY_HEADER},
            )
            await _send_error(scope, receive, send, error)
            return
        owner = await self._owner(scope)
        if owner is None:  # not authenticated: the route answers with the reason
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except Exception as exc:  # a body over the size limit: the route reports it
            await self.app(scope, _raising(exc), send)
            return
        if body is None:
            return
        await self._once(scope, (*owner, key), body, _replaying(body, receive), send)

    async def _owner(self, scope: Scope) -> tuple[str, str] | None:
        """The caller's ``(account, user)`` as the routes authenticate it, or ``None``; a named
        key is its own user here, so a key never replays what another key of the user did."""
        client = scope.get("client")
        params = dict(QueryParams(scope.get("query_string") or b""))
        try:
            caller = await authenticate_headers(
                self.service,
                Headers(scope=scope),
                client[0] if client else None,
                path=scope["path"],
                params=params,
            )
        except OpenVikingError:
            return None
        user = "#root" if caller.is_root else caller.user_id
        return caller.account_id, f"{user}#{caller.key_id}" if caller.key_id else user

    async def _once(
        self, scope: Scope, owner: Scope3, body: bytes, receive: Receive, send: Send
    ) -> None:
        """Claim the key, then run the request, replay its response or refuse."""
        config = self.service.config.idempotency
        records = IdempotencyRecords(self.service.store.db)
        fingerprint = _fingerprint(scope, body)
        deadline = time.monotonic() + config.wait_seconds
        for attempt in range(1_000_000):
            claim = await records.claim(
                owner, fingerprint, ttl=config.ttl_hours * 3600, lease=config.lease_seconds
            )
            if claim.outcome == "claimed":
                await self._run(scope, receive, send, records, owner)
                return
            if claim.outcome == "mismatch":
                error = IdempotencyKeyReusedError(details={"header": IDEMPOTENCY_HEADER})
                await _send_error(scope, receive, send, error)
                return
            if claim.response is not None:
                await _send_stored(claim.response, send)
                return
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(_POLL_S[min(attempt, len(_POLL_S) - 1)])
        waited = {"header": IDEMPOTENCY_HEADER, "waited": config.wait_seconds}
        await _send_error(scope, receive, send, IdempotencyInProgressError(details=waited))

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        records: IdempotencyRecords,
        owner: Scope3,
    ) -> None:
        """Run the claimed request; record its response, or release the key."""
        released = False

        async def release() -> None:
            nonlocal released
            if not released:
                released = True
                with anyio.CancelScope(shield=True):
                    await records.release(owner)

        limit = self.service.config.idempotency.max_response_bytes
        recorder = _Recorder(send, limit, release)
        try:
            await self.app(scope, receive, recorder)
        except OpenVikingError as exc:  # the route's typed error, enveloped outside otherwise
            if exc.http_status >= 500 or recorder.status:
                await release()
                raise
            await _send_error(scope, receive, recorder, exc)
        except BaseException:
            await release()
            raise
        stored = recorder.stored()
        if stored is None:
            await release()
            return
        with anyio.CancelScope(shield=True):
            await records.complete(owner, stored)
