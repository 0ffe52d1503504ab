"""HTTP clients: the embedded client's methods, served by an OpenViking server.

``AsyncHTTPClient`` runs on an ``httpx.AsyncClient``, ``SyncHTTPClient`` on an ``httpx.Client``
(no event loop involved). Both have the same methods and signatures as ``AsyncOpenViking`` /
``OpenViking`` and return the envelope's ``result``; an error envelope raises the typed
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
import functools
import inspect
import os
import ssl
from collections.abc import Callable, Coroutine, Mapping
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx

from openviking_mcp.client._http_base import (
    TEMP_UPLOAD_PATH,
    Call,
    request_timeout,
    transport_error,
    unwrap,
)
from openviking_mcp.client._http_calls import CallBuilder
from openviking_mcp.client._http_chat import AsyncChatStreams, SyncChatStreams
from openviking_mcp.client._http_ops import operation_call
from openviking_mcp.client._operations import AsyncOperations, SyncOperations
from openviking_mcp.client._ovcli import DEFAULT_TIMEOUT, ClientSettings, resolve_settings
from openviking_mcp.client._sync import arguments
from openviking_mcp.client._uploads import PreparedUpload, UploadSource, local_file, prepare_upload
from openviking_mcp.contract.errors import InternalError, NotInitializedError

__all__ = ["AsyncHTTPClient", "SyncHTTPClient"]

P = ParamSpec("P")
T = TypeVar("T")

_CALLS = CallBuilder()


_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


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


class _HTTPClientBase:
    """Settings shared by both clients (see the module docs for the ``ovcli.conf`` rule)."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        account: str | None = None,
        user: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        extra_headers: Mapping[str, str] | None = None,
        config_file: str | os.PathLike[str] | None = None,
    ) -> None:
        self.settings: ClientSettings = resolve_settings(
            url,
            api_key,
            account=account,
            user=user,
            timeout=timeout,
            extra_headers=extra_headers,
            config_file=config_file,
        )

    @property
    def url(self) -> str:
        return self.settings.url

    def _client_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "base_url": self.settings.url,
            "headers": self.settings.headers(),
            "timeout": self.settings.timeout,
        }
        if _plain_http(self.settings.url):
            options["verify"] = _NO_TLS
        return options

    def _fail(self, exc: httpx.TransportError) -> Exception:
        return transport_error(exc, self.settings.url, self.settings.timeout)


def _signature(build: Callable[..., Call[Any]]) -> inspect.Signature:
    """The builder's signature, returning what the call returns (``Call[str]`` -> ``str``)."""
    signature = inspect.signature(build)
    returns = signature.return_annotation
    if isinstance(returns, str) and returns.startswith("Call[") and returns.endswith("]"):
        returns = returns[len("Call[") : -1]
    return signature.replace(return_annotation=returns)


def _async(
    build: Callable[Concatenate[CallBuilder, P], Call[T]],
) -> Callable[Concatenate[AsyncHTTPClient, P], Coroutine[Any, Any, T]]:
    """The coroutine method of a call builder (same signature and docs)."""

    @functools.wraps(build)
    async def method(self: AsyncHTTPClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._execute(build(_CALLS, *args, **kwargs))

    method.__dict__["__signature__"] = _signature(build)
    return method


def _sync(
    build: Callable[Concatenate[CallBuilder, P], Call[T]],
) -> Callable[Concatenate[SyncHTTPClient, P], T]:
    """The blocking method of a call builder (same signature and docs)."""

    @functools.wraps(build)
    def method(self: SyncHTTPClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._execute(build(_CALLS, *args, **kwargs))

    method.__dict__["__signature__"] = _signature(build)
    return method


class AsyncHTTPClient(_HTTPClientBase, AsyncOperations, AsyncChatStreams):
    """Async client of an OpenViking server.

    ``transport`` replaces httpx's network transport (``httpx.MockTransport``,
    ``httpx.ASGITransport``) as in ``httpx.AsyncClient``.
    """

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        account: str | None = None,
        user: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        extra_headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        config_file: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(
            url,
            api_key,
            account=account,
            user=user,
            timeout=timeout,
            extra_headers=extra_headers,
            config_file=config_file,
        )
        self._transport = transport
        self._http: httpx.AsyncClient | None = self._new_client()

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self._transport, **self._client_options())

    async def initialize(self) -> None:
        """Open the connection pool (again, after :meth:`close`)."""
        if self._http is None:
            self._http = self._new_client()

    async def close(self) -> None:
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    async def __aenter__(self) -> AsyncHTTPClient:
        await self.initialize()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            raise NotInitializedError("The HTTP client is closed: call initialize() first")
        return self._http

    async def _send(self, call: Call[Any], **extra: Any) -> httpx.Response:
        timeout = request_timeout(call, self.settings.timeout)
        try:
            return await self._client().request(
                call.method, call.path, params=call.params, timeout=timeout, **extra
            )
        except httpx.TransportError as exc:
            raise self._fail(exc) from exc

    async def _upload(self, source: UploadSource) -> str:
        prepared: PreparedUpload = await asyncio.to_thread(prepare_upload, source)
        try:
            handle = await asyncio.to_thread(prepared.path.open, "rb")
            with handle:
                files = {"file": (prepared.filename, handle, "application/octet-stream")}
                upload = Call("POST", TEMP_UPLOAD_PATH, _temp_file_id)
                response = await self._send(upload, files=files)
        finally:
            await asyncio.to_thread(prepared.cleanup)
        return upload.convert(unwrap(response))

    async def upload_temp_file(self, path: str | os.PathLike[str]) -> str:
        """Upload a local file (``POST /api/v1/resources/temp_upload``); returns its
        ``temp_file_id`` for ``import_pack``, ``restore``..."""
        return await self._upload(local_file(path))

    async def _execute(self, call: Call[T]) -> T:
        payload = dict(call.json) if call.json is not None else None
        if call.upload is not None:
            payload = {**(payload or {}), "temp_file_id": await self._upload(call.upload)}
        extra = {"json": payload} if payload is not None else {}
        response = await self._send(call, **extra)
        return call.convert(unwrap(response, call.raw))

    async def _call(self, name: str, values: dict[str, Any]) -> Any:
        return await self._execute(operation_call(name, arguments(values)))

    health = _async(CallBuilder.health)
    chat = _async(CallBuilder.chat)
    chat_feedback = _async(CallBuilder.chat_feedback)
    bot_health = _async(CallBuilder.bot_health)


class SyncHTTPClient(_HTTPClientBase, SyncOperations, SyncChatStreams):
    """Blocking client of an OpenViking server on ``httpx.Client``; same arguments and methods
    as :class:`AsyncHTTPClient` (``transport`` is an ``httpx.BaseTransport``)."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        account: str | None = None,
        user: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        extra_headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        config_file: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(
            url,
            api_key,
            account=account,
            user=user,
            timeout=timeout,
            extra_headers=extra_headers,
            config_file=config_file,
        )
        self._transport = transport
        self._http: httpx.Client | None = self._new_client()

    def _new_client(self) -> httpx.Client:
        return httpx.Client(transport=self._transport, **self._client_options())

    def initialize(self) -> None:
        """Open the connection pool (again, after :meth:`close`)."""
        if self._http is None:
            self._http = self._new_client()

    def close(self) -> None:
        if self._http is not None:
            http, self._http = self._http, None
            http.close()

    def __enter__(self) -> SyncHTTPClient:
        self.initialize()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _client(self) -> httpx.Client:
        if self._http is None:
            raise NotInitializedError("The HTTP client is closed: call initialize() first")
        return self._http

    def _send(self, call: Call[Any], **extra: Any) -> httpx.Response:
        timeout = request_timeout(call, self.settings.timeout)
        try:
            return self._client().request(
                call.method, call.path, params=call.params, timeout=timeout, **extra
            )
        except httpx.TransportError as exc:
            raise self._fail(exc) from exc

    def _upload(self, source: UploadSource) -> str:
        prepared = prepare_upload(source)
        try:
            with prepared.path.open("rb") as handle:
                files = {"file": (prepared.filename, handle, "application/octet-stream")}
                upload = Call("POST", TEMP_UPLOAD_PATH, _temp_file_id)
                response = self._send(upload, files=files)
        finally:
            prepared.cleanup()
        return upload.convert(unwrap(response))

    def upload_temp_file(self, path: str | os.PathLike[str]) -> str:
        """Upload a local file (``POST /api/v1/resources/temp_upload``); returns its
        ``temp_file_id`` for ``import_pack``, ``restore``..."""
        return self._upload(local_file(path))

    def _execute(self, call: Call[T]) -> T:
        payload = dict(call.json) if call.json is not None else None
        if call.upload is not None:
            payload = {**(payload or {}), "temp_file_id": self._upload(call.upload)}
        extra = {"json": payload} if payload is not None else {}
        response = self._send(call, **extra)
        return call.convert(unwrap(response, call.raw))

    def _call_sync(self, name: str, values: dict[str, Any]) -> Any:
        return self._execute(operation_call(name, arguments(values)))

    health = _sync(CallBuilder.health)
    chat = _sync(CallBuilder.chat)
    chat_feedback = _sync(CallBuilder.chat_feedback)
    bot_health = _sync(CallBuilder.bot_health)
