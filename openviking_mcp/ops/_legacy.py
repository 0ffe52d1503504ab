"""The operation groups not yet split into feature services, run as one object.

:class:`LegacyOps` is built by :class:`~openviking_mcp.service.ContextService` over its
:class:`~openviking_mcp.store.Store`: the parts the mixins expect (``store``, ``db``...) are
the store's, their hooks publish events, and what they call on ``self`` that no mixin defines
is the composition root's (a feature service operation).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from openviking_mcp.contract.errors import NotFoundError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.events import Removed, Written
from openviking_mcp.models.base import Embedder
from openviking_mcp.ops.base import ServiceCore
from openviking_mcp.ops.memory import MemoryOps
from openviking_mcp.ops.stats import StatsOps
from openviking_mcp.sessions.messages import message_text

if TYPE_CHECKING:
    from openviking_mcp.service import ContextService

__all__ = ["LegacyCore", "LegacyOps"]


class LegacyCore(ServiceCore):
    """The parts and hooks of the mixins, over the composition root's store."""

    def __init__(self, root: ContextService) -> None:
        store = root.store
        self._root = root
        self.config = store.config
        self.store = store.content  # type: ignore[assignment]
        self.db = store.db
        self.accounts = store.accounts
        self.locks = store.locks
        self.index = store.index
        self.tasks = store.tasks
        self.llm = store.llm
        self.reranker = store.reranker
        self.semantic = root.indexing.semantic

    @property  # type: ignore[override]
    def _opened(self) -> bool:
        return self._root.store.opened

    @property  # type: ignore[override]
    def _index_error(self) -> Any:
        return self._root.store.index_error

    @_index_error.setter
    def _index_error(self, value: Any) -> None:
        self._root.store.index_error = value

    @property
    def embedder(self) -> Embedder:
        return self._root.store.embedder

    async def _ensure_layout(self, account_id: str, user_id: str | None = None) -> None:
        await self._root.store.ensure_layout(account_id, user_id)

    async def _after_write(
        self, ctx: RequestContext, uri: VikingURI, *, wait: bool, timeout: float | None
    ) -> dict[str, object]:
        return await self._root.store.events.report(Written(ctx, uri, wait, timeout))

    async def _after_remove(self, ctx: RequestContext, uri: VikingURI) -> None:
        await self._root.store.events.publish(Removed(ctx, uri))

    async def _after_read(self, ctx: RequestContext, uri: VikingURI, text: str) -> str:
        return text

    async def _recent_messages(self, ctx: RequestContext, session_id: str, n: int) -> list[str]:
        """The texts of the session's last ``n`` messages (``NOT_FOUND`` if there is no such
        session). The search service's query planner reads them through this until the
        sessions feature is a service of its own."""
        uri = self._resolve(ctx, f"viking://~/sessions/{session_id}/messages.jsonl")
        try:
            raw = await self.store.read_bytes(self._key(ctx, uri))
        except FileNotFoundError:
            if uri.parent is None or not await self.store.exists(self._key(ctx, uri.parent)):
                raise NotFoundError(session_id, "session") from None
            return []  # a session without messages yet
        texts: list[str] = []
        for line in raw.decode("utf-8", errors="replace").splitlines()[-n:]:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            content = message_text(message) if isinstance(message, dict) else ""
            if content:
                texts.append(content)
        return texts

    def __getattr__(self, name: str) -> Any:
        root = self.__dict__.get("_root")
        if root is None:
            raise AttributeError(name)
        indexing = {
            "_queue_refresh": root.indexing.queue_refresh,
            "_refresh_now": root.indexing.refresh_now,
            "_refresh_uri": root.indexing.refresh_uri,
            "_bubble": root.indexing.bubble,
            "_upload_path": root.uploads.upload_path,
            "_bot": root.chat_activity,  # the bot a chat service runs, for the metrics
        }
        if name in indexing:
            return indexing[name]
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(root, name)


class LegacyOps(
    StatsOps,
    MemoryOps,
    LegacyCore,
):
    """Every operation group still written as a mixin."""
