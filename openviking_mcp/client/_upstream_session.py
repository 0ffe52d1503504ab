"""openviking-sdk's session objects (``client.session(id)``) and ``search_context``.

``session(id)`` answers a handle whose methods call the client's session operations with that
id (``add_message``, ``batch_add_messages``, ``commit``, ``delete``, ``load``,
``get_session_context``, ``get_archive``), as the SDK's ``Session`` and ``SyncSession`` do.
``search_context`` is ``search`` in context mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from openviking_mcp.client._operations import AsyncOperations

__all__ = ["AsyncSessionHandle", "AsyncUpstreamSessions", "SyncSessionHandle", "SyncSessions"]


class AsyncSessionHandle:
    """One session of an async client (the SDK's ``Session``)."""

    def __init__(self, client: AsyncUpstreamSessions, session_id: str) -> None:
        self._client = client
        self.session_id = session_id

    async def add_message(
        self,
        role: str,
        content: str | None = None,
        parts: list[dict[str, Any]] | None = None,
        options: Mapping[str, Any] | None = None,
        peer_id: str | None = None,
    ) -> dict[str, Any]:
        extra = {**(options or {}), **({"peer_id": peer_id} if peer_id is not None else {})}
        return await self._client.add_message(
            self.session_id, role, content, parts, options=extra or None
        )

    async def batch_add_messages(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return await self._client.add_messages(self.session_id, messages)

    async def commit(
        self, keep_recent_count: int = 0, options: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        return await self._client.commit_session(self.session_id, keep_recent_count, options)

    async def delete(self) -> None:
        await self._client.delete_session(self.session_id)

    async def load(self) -> dict[str, Any]:
        return await self._client.get_session(self.session_id)

    async def get_session_context(self, token_budget: int = 128_000) -> dict[str, Any]:
        return await self._client.session_context(self.session_id, token_budget)

    async def get_archive(self, archive_id: str) -> dict[str, Any]:
        return await self._client.get_archive(self.session_id, archive_id)

    def __repr__(self) -> str:
        return f"Session(id={self.session_id})"


class AsyncUpstreamSessions(AsyncOperations):
    """``session`` and ``search_context`` with the SDK's parameters."""

    def session(self, session_id: str | None = None, must_exist: bool = False) -> Any:
        """A handle on session ``session_id`` (no request is sent: the first message creates
        the session; ``must_exist`` is checked by the blocking client only, as in the SDK)."""
        return AsyncSessionHandle(self, session_id or "")

    async def search_context(
        self,
        query: str = "",
        session_id: str | None = None,
        target_uri: str | list[str] = "",
        limit: int = 10,
        image: Any = None,
        options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``search`` with ``mode="context"``: an assembled, token-budgeted context block."""
        fields = {**(options or {}), "mode": "context"}
        return await self.search(query, session_id, target_uri or None, limit, image, fields)


class _SyncSessionClient(Protocol):
    def add_message(
        self,
        session_id: str,
        role: str,
        content: str | None = None,
        parts: list[dict[str, Any]] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]: ...

    def add_messages(self, session_id: str, messages: list[dict[str, Any]]) -> dict[str, Any]: ...

    def commit_session(
        self,
        session_id: str,
        keep_recent_count: int = 0,
        options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]: ...

    def delete_session(self, session_id: str) -> dict[str, Any]: ...

    def get_session(self, session_id: str, *, auto_create: bool = False) -> dict[str, Any]: ...

    def session_context(self, session_id: str, token_budget: int = 128000) -> dict[str, Any]: ...

    def get_archive(self, session_id: str, archive: int | str) -> dict[str, Any]: ...


class SyncSessionHandle:
    """One session of a blocking client (the SDK's ``SyncSession``)."""

    def __init__(self, client: _SyncSessionClient, session_id: str) -> None:
        self._client = client
        self.session_id = session_id

    def add_message(
        self,
        role: str,
        content: str | None = None,
        parts: list[dict[str, Any]] | None = None,
        options: Mapping[str, Any] | None = None,
        peer_id: str | None = None,
    ) -> dict[str, Any]:
        extra = {**(options or {}), **({"peer_id": peer_id} if peer_id is not None else {})}
        return self._client.add_message(self.session_id, role, content, parts, extra or None)

    def batch_add_messages(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return self._client.add_messages(self.session_id, messages)

    def commit(
        self, keep_recent_count: int = 0, options: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._client.commit_session(self.session_id, keep_recent_count, options)

    def commit_async(
        self, keep_recent_count: int = 0, options: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """:meth:`commit` (the commit's second phase runs in the background either way)."""
        return self.commit(keep_recent_count, options)

    def delete(self) -> None:
        self._client.delete_session(self.session_id)

    def load(self) -> dict[str, Any]:
        return self._client.get_session(self.session_id)

    def get_session_context(self, token_budget: int = 128_000) -> dict[str, Any]:
        return self._client.session_context(self.session_id, token_budget)

    def get_archive(self, archive_id: str) -> dict[str, Any]:
        return self._client.get_archive(self.session_id, archive_id)

    def __repr__(self) -> str:
        return f"SyncSession(id={self.session_id})"


class SyncSessions:
    """``session`` of a blocking client: ``must_exist`` loads the session first (404 if it
    does not exist), as the SDK's blocking client does."""

    def session(self, session_id: str | None = None, must_exist: bool = False) -> Any:
        client: _SyncSessionClient = self  # type: ignore[assignment]
        if session_id and must_exist:
            client.get_session(session_id)
        return SyncSessionHandle(client, session_id or "")
