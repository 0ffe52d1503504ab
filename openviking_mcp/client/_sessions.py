"""The session methods of the embedded async client (mixed into ``AsyncOpenViking``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.service import ContextService

__all__ = ["SessionMethods"]


class SessionMethods:
    """Mirror of the service's session operations, acting as the client's user."""

    service: ContextService

    @property
    def context(self) -> RequestContext:
        raise NotImplementedError

    async def create_session(
        self,
        session_id: str | None = None,
        *,
        auto_commit_policy: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a session (a generated id unless given; an existing id is 409)."""
        return await self.service.create_session(
            self.context, session_id, auto_commit_policy=auto_commit_policy
        )

    async def list_sessions(self) -> list[dict[str, Any]]:
        return await self.service.list_sessions(self.context)

    async def get_session(self, session_id: str, *, auto_create: bool = False) -> dict[str, Any]:
        return await self.service.get_session(self.context, session_id, auto_create=auto_create)

    async def delete_session(self, session_id: str) -> dict[str, Any]:
        return await self.service.delete_session(self.context, session_id)

    async def add_message(
        self,
        session_id: str,
        role: str,
        content: str | None = None,
        parts: list[dict[str, Any]] | None = None,
        *,
        peer_id: str | None = None,
        turn_id: str | None = None,
        created_at: str | None = None,
    ) -> dict[str, Any]:
        """Add a message (``content`` or ``parts``); the session is created if missing."""
        return await self.service.add_message(
            self.context,
            session_id,
            role,
            content,
            parts,
            peer_id=peer_id,
            turn_id=turn_id,
            created_at=created_at,
        )

    async def add_messages(self, session_id: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return await self.service.add_messages(self.context, session_id, messages)

    async def record_used(
        self,
        session_id: str,
        contexts: list[str] | None = None,
        skill: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return await self.service.record_used(self.context, session_id, contexts, skill)

    async def session_context(self, session_id: str, token_budget: int = 128_000) -> dict[str, Any]:
        return await self.service.session_context(self.context, session_id, token_budget)

    async def commit_session(
        self,
        session_id: str,
        *,
        keep_recent_count: int = 0,
        wait: bool = False,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Archive the live messages and queue memory extraction (``wait`` waits for it)."""
        return await self.service.commit_session(
            self.context,
            session_id,
            keep_recent_count=keep_recent_count,
            wait=wait,
            timeout=timeout,
        )

    async def extract(self, session_id: str) -> dict[str, Any]:
        return await self.service.extract(self.context, session_id)

    async def list_archives(self, session_id: str) -> list[dict[str, Any]]:
        return await self.service.list_archives(self.context, session_id)

    async def get_archive(self, session_id: str, archive: int | str) -> dict[str, Any]:
        return await self.service.get_archive(self.context, session_id, archive)

    async def retry_archive(
        self,
        session_id: str,
        archive: int | str,
        *,
        wait: bool = False,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        return await self.service.retry_archive(
            self.context, session_id, archive, wait=wait, timeout=timeout
        )
