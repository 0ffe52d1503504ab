"""Embedded clients: the whole store in this process, no server.

``AsyncOpenViking`` is the async client, ``OpenViking`` the sync one (it drives the async client
on a private loop thread). Both mirror :class:`~openviking_mcp.service.ContextService` without
the identity argument: they act as one user of one account (``default``/``default`` unless told).

    with OpenViking(path="./data") as ov:
        ov.write("viking://resources/notes/todo.md", "- ship it", mode="create")
        print(ov.read("viking://resources/notes/todo.md"))
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from openviking_mcp.client._chat import ChatMethods, blocking_iter
from openviking_mcp.client._loop import LoopThread
from openviking_mcp.client._operations import AsyncOperations, SyncOperations
from openviking_mcp.client._sync import arguments
from openviking_mcp.config import OpenVikingConfig, load_config
from openviking_mcp.contract.catalog import OPERATIONS
from openviking_mcp.contract.errors import NotInitializedError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.service import ContextService

if TYPE_CHECKING:
    from pydantic_ai.models import Model

__all__ = ["AsyncOpenViking", "OpenViking"]

P = ParamSpec("P")
EMBEDDED_OPTIONS = {op.name: dict(op.embedded) for op in OPERATIONS if op.embedded}
"""Options the embedded client passes for the machine's own user (local paths, commands)."""
T = TypeVar("T")


class AsyncOpenViking(AsyncOperations, ChatMethods):
    """Async embedded client.

    ``path`` is the workspace folder (overrides ``storage.workspace``); ``config`` an
    already-built configuration; ``config_file`` a path to ``ov.conf`` (else the usual lookup);
    ``chat_model`` a pydantic-ai model that replaces the bot's configured one (tests).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        config: OpenVikingConfig | None = None,
        config_file: str | os.PathLike[str] | None = None,
        account: str | None = None,
        user: str | None = None,
        chat_model: Model | None = None,
    ) -> None:
        overrides = {"storage": {"workspace": str(path)}} if path is not None else None
        if config is None:
            config = load_config(config_file, overrides=overrides)
        elif overrides:
            config = config.model_copy(
                update={"storage": config.storage.model_copy(update={"workspace": str(path)})}
            )
        self.config = config
        self.service = ContextService(config, chat_model=chat_model)
        self._account, self._user = account, user
        self._ctx: RequestContext | None = None

    @property
    def context(self) -> RequestContext:
        if self._ctx is None:
            raise NotInitializedError()
        return self._ctx

    async def initialize(self) -> None:
        await self.service.initialize()
        self._ctx = await self.service.local_context(self._account, self._user)

    async def close(self) -> None:
        await self.close_chat()
        await self.service.close()
        self._ctx = None

    async def __aenter__(self) -> AsyncOpenViking:
        await self.initialize()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _call(self, name: str, values: dict[str, Any]) -> Any:
        trusted = EMBEDDED_OPTIONS.get(name, {})
        return await self.service.call(self.context, name, arguments(values), **trusted)


def _blocking(
    method: Callable[Concatenate[AsyncOpenViking, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[OpenViking, P], T]:
    """The sync twin of a hand-written ``AsyncOpenViking`` method (same signature and docs)."""

    @functools.wraps(method)
    def call(self: OpenViking, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._loop.run(method(self._async, *args, **kwargs))

    return call


def _streaming(
    method: Callable[Concatenate[AsyncOpenViking, P], AsyncIterator[T]],
) -> Callable[Concatenate[OpenViking, P], Iterator[T]]:
    """The sync twin of an ``AsyncOpenViking`` async-iterator method: a plain iterator whose
    steps run on the client's loop thread (same parameters and docs)."""

    @functools.wraps(method)
    def call(self: OpenViking, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        return blocking_iter(self._loop, method(self._async, *args, **kwargs))

    signature = inspect.signature(method)
    returns = signature.return_annotation
    if isinstance(returns, str) and returns.startswith("AsyncIterator["):
        returns = returns[len("Async") :]
    call.__dict__["__signature__"] = signature.replace(return_annotation=returns)
    return call


class OpenViking(SyncOperations):
    """Sync embedded client; same arguments and methods as :class:`AsyncOpenViking`."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        config: OpenVikingConfig | None = None,
        config_file: str | os.PathLike[str] | None = None,
        account: str | None = None,
        user: str | None = None,
        chat_model: Model | None = None,
    ) -> None:
        self._async = AsyncOpenViking(
            path,
            config=config,
            config_file=config_file,
            account=account,
            user=user,
            chat_model=chat_model,
        )
        self._loop = LoopThread()

    @property
    def config(self) -> OpenVikingConfig:
        return self._async.config

    @property
    def service(self) -> ContextService:
        return self._async.service

    @property
    def context(self) -> RequestContext:
        return self._async.context

    def initialize(self) -> None:
        self._loop.run(self._async.initialize())

    def close(self) -> None:
        """Close the store and stop the loop thread; the client cannot be used afterwards."""
        try:
            self._loop.run(self._async.close())
        finally:
            self._loop.stop()

    def __enter__(self) -> OpenViking:
        self.initialize()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _call_sync(self, name: str, values: dict[str, Any]) -> Any:
        return self._loop.run(self._async._call(name, values))

    chat = _blocking(AsyncOpenViking.chat)
    chat_stream = _streaming(AsyncOpenViking.chat_stream)
    chat_resume = _streaming(AsyncOpenViking.chat_resume)
    chat_feedback = _blocking(AsyncOpenViking.chat_feedback)
    bot_health = _blocking(AsyncOpenViking.bot_health)
