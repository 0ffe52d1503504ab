"""Embedded clients: the whole store in this process, no server.

``AsyncOpenViking`` is the async client, ``OpenViking`` the sync one (it drives the async client
on a private loop thread). Both mirror :class:`~openviking_mcp.service.ContextService` without
the identity argument: they act as one user of one account (``default``/``default`` unless told).

    with OpenViking(path="./data") as ov:
        ov.write("viking://resources/notes/todo.md", "- ship it", mode="create")
        print(ov.read("viking://resources/notes/todo.md"))
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from openviking_mcp.client._blocking import BlockingClient, Forward
from openviking_mcp.client._chat import ChatMethods
from openviking_mcp.client._chat_ops import AsyncChatOperations
from openviking_mcp.client._chat_wire import CHAT_CALLS
from openviking_mcp.client._lifecycle import AsyncLifecycle
from openviking_mcp.client._progress import AsyncProgressOperations
from openviking_mcp.client._sync import arguments
from openviking_mcp.config import OpenVikingConfig, load_config
from openviking_mcp.contract.catalog import OPERATIONS
from openviking_mcp.contract.errors import NotInitializedError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.service import ContextService

if TYPE_CHECKING:
    from pydantic_ai.models import Model

__all__ = ["AsyncOpenViking", "EmbeddedOptions", "OpenViking"]

EMBEDDED_OPTIONS = {op.name: dict(op.embedded) for op in OPERATIONS if op.embedded}
"""Options the embedded client passes for the machine's own user (local paths, commands)."""


class EmbeddedOptions(TypedDict, total=False):
    """The keyword options of both embedded clients."""

    config: OpenVikingConfig | None
    """An already-built configuration."""
    config_file: str | os.PathLike[str] | None
    """A path to ``ov.conf`` (else the usual lookup)."""
    account: str | None
    user: str | None
    chat_model: Model | None
    """A pydantic-ai model that replaces the bot's configured one (tests)."""


class AsyncOpenViking(ChatMethods, AsyncProgressOperations, AsyncChatOperations, AsyncLifecycle):
    """Async embedded client.

    ``path`` is the workspace folder (overrides ``storage.workspace``); the options are
    :class:`EmbeddedOptions`. It acts as ``account``/``user`` (``default``/``default``).
    """

    def __init__(
        self, path: str | os.PathLike[str] | None = None, **options: Unpack[EmbeddedOptions]
    ) -> None:
        overrides = {"storage": {"workspace": str(path)}} if path is not None else None
        config = options.get("config")
        if config is None:
            config = load_config(options.get("config_file"), overrides=overrides)
        elif overrides:
            config = config.model_copy(
                update={"storage": config.storage.model_copy(update={"workspace": str(path)})}
            )
        self.config = config
        self.service = ContextService(config, chat_model=options.get("chat_model"))
        self._account, self._user = options.get("account"), options.get("user")
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

    async def _call(self, name: str, values: dict[str, Any]) -> Any:
        if name in CHAT_CALLS:
            return await self._chat_call(name, arguments(values))
        trusted = EMBEDDED_OPTIONS.get(name, {})
        return await self.service.call(self.context, name, arguments(values), **trusted)


class OpenViking(BlockingClient[AsyncOpenViking]):
    """Sync embedded client; same arguments and methods as :class:`AsyncOpenViking`, which it
    drives on a private loop thread."""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, **options: Unpack[EmbeddedOptions]
    ) -> None:
        super().__init__(AsyncOpenViking(path, **options))

    config: Forward[OpenVikingConfig] = Forward()
    service: Forward[ContextService] = Forward()
    context: Forward[RequestContext] = Forward()
