"""Blocking clients over async ones: :class:`~.embedded.OpenViking` over
:class:`~.embedded.AsyncOpenViking` and :class:`~.http.SyncHTTPClient` over
:class:`~.http.AsyncHTTPClient`. Each drives its async client on a private loop thread
(:class:`~._loop.LoopThread`), so there is one implementation of every call, and the blocking
client works from plain scripts and from code that already runs a loop (Jupyter).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, Generic, Protocol, TypeVar, cast, overload

from openviking_mcp.client._chat_ops import SyncChatOperations
from openviking_mcp.client._lifecycle import SyncLifecycle
from openviking_mcp.client._loop import LoopThread, blocking_iter
from openviking_mcp.client._progress import SyncProgressOperations

__all__ = ["AsyncClient", "BlockingClient", "Forward"]

T = TypeVar("T")
V = TypeVar("V")


class AsyncClient(Protocol):
    """What a blocking client drives."""

    async def initialize(self) -> None: ...

    async def close(self) -> None: ...

    async def _call(self, name: str, arguments: dict[str, Any]) -> Any: ...

    def _stream(self, name: str, arguments: dict[str, Any]) -> AsyncIterator[dict[str, Any]]: ...


A = TypeVar("A", bound=AsyncClient)


class BlockingClient(SyncProgressOperations, SyncChatOperations, SyncLifecycle, Generic[A]):
    """The operation and bot methods, blocking, over an async client ``_async``."""

    def __init__(self, client: A) -> None:
        self._async = client
        self._loop = self._new_loop()

    def _new_loop(self) -> LoopThread:
        """A loop thread that closes the client if the interpreter exits while it is open."""
        return LoopThread(on_exit=self._async.close)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loop.run(coro)

    def initialize(self) -> None:
        """Open the client (again, after :meth:`close`)."""
        if not self._loop.alive:
            self._loop = self._new_loop()
        self._run(self._async.initialize())

    def close(self) -> None:
        """Close the client and stop its loop thread (:meth:`initialize` opens it again)."""
        try:
            self._run(self._async.close())
        finally:
            self._loop.stop()

    def _call_sync(self, name: str, values: dict[str, Any]) -> Any:
        return self._run(self._async._call(name, values))

    def _stream_sync(self, name: str, values: dict[str, Any]) -> Iterator[dict[str, Any]]:
        return blocking_iter(self._loop, self._async._stream(name, values))


class Forward(Generic[V]):
    """A read-only attribute of a blocking client, read from its async client."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type) -> Forward[V]: ...

    @overload
    def __get__(self, obj: BlockingClient[Any], owner: type) -> V: ...

    def __get__(self, obj: BlockingClient[Any] | None, owner: type) -> Forward[V] | V:
        if obj is None:
            return self
        return cast(V, getattr(obj._async, self._name))
