"""HTTP clients: the embedded client's methods, served by an OpenViking server.

``AsyncHTTPClient`` runs on an ``httpx.AsyncClient``; ``SyncHTTPClient`` drives one on a private
loop thread (:mod:`._blocking`), so every call has one implementation. Both have the same
methods and signatures as ``AsyncOpenViking`` / ``OpenViking`` and return the envelope's
``result``; an error envelope raises the typed
:class:`~openviking_mcp.contract.errors.OpenVikingError` (``NOT_FOUND`` → ``NotFoundError``...), a
server that cannot be reached :class:`~openviking_mcp.contract.errors.ConnectionFailedError`. The
bot's methods (``chat``, ``chat_stream``...) return its raw JSON and resume a dropped stream on
their own (see :mod:`._http_chat`).

    with SyncHTTPClient("http://127.0.0.1:1933", api_key="...") as ov:
        ov.add_resource("./docs", wait=True)   # zipped, uploaded, imported
        print(ov.find("rollback steps"))

A missing ``url``/``api_key`` (and ``account``, ``user``, a default ``timeout``, absent
``extra_headers``) come from ``ovcli.conf`` under seed 000's rule: see :mod:`._ovcli`.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import uuid
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar, Unpack, cast

import httpx

from openviking_mcp.client._blocking import BlockingClient, Forward
from openviking_mcp.client._chat_ops import AsyncChatOperations
from openviking_mcp.client._chat_wire import CHAT_CALLS, chat_payload
from openviking_mcp.client._http_base import (
    TEMP_UPLOAD_PATH,
    Call,
    call,
    request_timeout,
    transport_error,
    unwrap,
)
from openviking_mcp.client._http_chat import AsyncChatStreams
from openviking_mcp.client._http_events import AsyncEventStream
from openviking_mcp.client._http_ops import operation_call
from openviking_mcp.client._lifecycle import AsyncLifecycle
from openviking_mcp.client._loop import blocking_iter
from openviking_mcp.client._ovcli import (
    ClientSettings,
    ConnectOptions,
    HTTPClientOptions,
    resolve_settings,
)
from openviking_mcp.client._progress import AsyncProgressOperations
from openviking_mcp.client._sync import arguments
from openviking_mcp.client._uploads import UploadSource, local_file, prepare_upload
from openviking_mcp.client._upstream import AsyncUpstreamNames, SyncUpstreamNames
from openviking_mcp.contract.errors import InternalError, NotInitializedError

__all__ = ["AsyncHTTPClient", "HTTPClientOptions", "SyncHTTPClient"]

T = TypeVar("T")

_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")

IDEMPOTENCY_HEADER = "Idempotency-Key"
_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DROPPED = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
"""Transport failures after which a mutating call is sent again with its key."""


def _plain_http(url: str) -> bool:
    """Whether no request of a client on ``url`` can use TLS: an ``http://`` server (every call
    is a path under it, redirects are not followed) reached without a proxy from the
    environment (which could be an ``https://`` one)."""
    if not url.lower().startswith("http://"):
        return False
    return not any(name.lower() in _PROXY_VARIABLES and value for name, value in os.environ.items())


def _no_tls_context() -> ssl.SSLContext:
    """A context that trusts no certificate, for clients that never speak TLS: httpx would
    otherwise load the whole CA bundle for each client (~0.1 s, most of a CLI command's run).
    It still verifies, so a TLS connection made through it anyway fails closed."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


_NO_TLS = _no_tls_context()


def _temp_file_id(result: Any) -> str:
    if isinstance(result, dict) and isinstance(result.get("temp_file_id"), str):
        return str(result["temp_file_id"])
    raise InternalError("temp_upload answered without a temp_file_id", {"result": result})


class AsyncHTTPClient(
    AsyncChatStreams,
    AsyncEventStream,
    AsyncUpstreamNames,
    AsyncProgressOperations,
    AsyncChatOperations,
    AsyncLifecycle,
):
    """Async client of an OpenViking server.

    The options are :class:`~._ovcli.HTTPClientOptions` (the module docs say when
    ``ovcli.conf`` fills them in).
    """

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        **options: Unpack[HTTPClientOptions],
    ) -> None:
        self._transport = options.get("transport")
        connect = cast(ConnectOptions, {k: v for k, v in options.items() if k != "transport"})
        self.settings: ClientSettings = resolve_settings(url, api_key, **connect)
        self.idempotency_key: str | None = None
        """Sent as the ``Idempotency-Key`` of every mutating call instead of a fresh key per
        call: for a client that makes one logical change (the CLI's ``--idempotency-key``)."""
        self._http: httpx.AsyncClient | None = self._new_client()

    @property
    def url(self) -> str:
        return self.settings.url

    def _new_client(self) -> httpx.AsyncClient:
        options: dict[str, Any] = {
            "base_url": self.settings.url,
            "headers": self.settings.headers(),
            "timeout": self.settings.timeout,
        }
        if _plain_http(self.settings.url):
            options["verify"] = _NO_TLS
        return httpx.AsyncClient(transport=self._transport, **options)

    async def initialize(self) -> None:
        """Open the connection pool (again, after :meth:`close`)."""
        if self._http is None:
            self._http = self._new_client()

    async def close(self) -> None:
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            raise NotInitializedError("The HTTP client is closed: call initialize() first")
        return self._http

    def _fail(self, exc: httpx.TransportError) -> Exception:
        return transport_error(exc, self.settings.url, self.settings.timeout)

    def _idempotency_headers(self, call: Call[Any]) -> dict[str, str] | None:
        """The ``Idempotency-Key`` of a mutating call: :attr:`idempotency_key`, a key given in
        ``extra_headers``, else a fresh one; ``None`` for reads and the temp upload."""
        if call.method not in _MUTATING or call.path == TEMP_UPLOAD_PATH:
            return None
        given = self.idempotency_key or self._client().headers.get(IDEMPOTENCY_HEADER)
        return {IDEMPOTENCY_HEADER: given or f"ovc-{uuid.uuid4().hex}"}

    async def _send(self, call: Call[Any], **extra: Any) -> httpx.Response:
        """Send ``call``. A mutating call carries an ``Idempotency-Key`` and is sent once more,
        with the same key, when the connection drops before its answer: the server then runs
        it at most once."""
        timeout = request_timeout(call, self.settings.timeout)
        headers = self._idempotency_headers(call)
        for attempt in range(2):
            try:
                return await self._client().request(
                    call.method,
                    call.path,
                    params=call.params,
                    timeout=timeout,
                    headers=headers,
                    **extra,
                )
            except _DROPPED as exc:
                if headers is None or attempt:
                    raise self._fail(exc) from exc
            except httpx.TransportError as exc:
                raise self._fail(exc) from exc
        raise InternalError("unreachable")  # pragma: no cover

    async def _upload(self, source: UploadSource) -> str:
        prepared = await asyncio.to_thread(prepare_upload, source)
        try:
            handle = await asyncio.to_thread(prepared.path.open, "rb")
            with handle:
                files = {"file": (prepared.filename, handle, "application/octet-stream")}
                upload = Call("POST", TEMP_UPLOAD_PATH, _temp_file_id)
                response = await self._send(upload, files=files)
        finally:
            await asyncio.to_thread(prepared.cleanup)
        return upload.convert(unwrap(response))

    async def _execute(self, call: Call[T]) -> T:
        payload = dict(call.json) if call.json is not None else None
        if call.upload is not None:
            payload = {**(payload or {}), "temp_file_id": await self._upload(call.upload)}
        extra = {"json": payload} if payload is not None else {}
        response = await self._send(call, **extra)
        return call.convert(unwrap(response, call.raw))

    async def _call(self, name: str, values: dict[str, Any]) -> Any:
        args = arguments(values)
        if name in CHAT_CALLS:
            return await self._execute(operation_call(CHAT_CALLS[name], chat_payload(name, args)))
        return await self._execute(operation_call(name, args))

    async def health(self) -> dict[str, Any]:
        """``GET /health`` (no auth, plain JSON)."""
        result: dict[str, Any] = await self._execute(call("GET", "/health"))
        return result

    async def upload_temp_file(self, path: str | os.PathLike[str]) -> str:
        """Upload a local file (``POST /api/v1/resources/temp_upload``); returns its
        ``temp_file_id`` for ``import_pack``, ``restore``..."""
        return await self._upload(local_file(path))


class SyncHTTPClient(SyncUpstreamNames, BlockingClient[AsyncHTTPClient]):
    """Blocking client of an OpenViking server: same arguments and methods as
    :class:`AsyncHTTPClient`, which it drives on a private loop thread."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        **options: Unpack[HTTPClientOptions],
    ) -> None:
        super().__init__(AsyncHTTPClient(url, api_key, **options))

    settings: Forward[ClientSettings] = Forward()
    url: Forward[str] = Forward()

    def health(self) -> dict[str, Any]:
        """``GET /health`` (no auth, plain JSON)."""
        return self._run(self._async.health())

    def upload_temp_file(self, path: str | os.PathLike[str]) -> str:
        """Upload a local file (``POST /api/v1/resources/temp_upload``); returns its
        ``temp_file_id`` for ``import_pack``, ``restore``..."""
        return self._run(self._async.upload_temp_file(path))

    def events(
        self,
        *,
        after: int | None = None,
        types: Sequence[str] | None = None,
        account_id: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The event stream as a plain iterator (same arguments as
        :meth:`AsyncHTTPClient.events`); ``close()`` it to stop following."""
        stream = self._async.events(after=after, types=types, account_id=account_id)
        return blocking_iter(self._loop, stream)
