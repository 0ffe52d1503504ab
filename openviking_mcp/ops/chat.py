"""The bot as part of the service: chat turns, resumable streams, feedback and health.

The :class:`~openviking_mcp.bot.ChatBot` is built on first use from ``bot`` (and ``vlm``) in
``ov.conf``; ``ContextService(chat_model=...)`` replaces its model (tests pass a pydantic-ai
``FunctionModel``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from openviking_mcp.bot.responses import get_response, save_feedback
from openviking_mcp.bot.schema import ChatRequest, FeedbackRequest
from openviking_mcp.bot.streams import TurnStream
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    validation_items,
    validation_problem,
)
from openviking_mcp.contract.identity import RequestContext, Role, validate_identifier
from openviking_mcp.ops.base import ServiceCore
from openviking_mcp.ops.session_store import check_session_id

if TYPE_CHECKING:
    from pydantic_ai.models import Model

    from openviking_mcp.bot.chat import ChatBot

__all__ = ["ChatOps"]

_M = TypeVar("_M", bound=BaseModel)


def _parse(model: type[_M], data: _M | Mapping[str, Any]) -> _M:
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidArgumentError(
            f"Invalid request: {validation_problem(exc.errors())}",
            {"validation_errors": validation_items(exc.errors())},
        ) from None


class ChatOps(ServiceCore):
    _bot: ChatBot | None = None
    _chat_model: Model | None = None

    @property
    def bot(self) -> ChatBot:
        if self._bot is None:
            from openviking_mcp.bot.chat import ChatBot  # imports pydantic-ai: only when chatting

            self._bot = ChatBot(self._root, self.config.bot, self.config.vlm, self._chat_model)  # type: ignore[arg-type]
        return self._bot

    def bot_health(self) -> dict[str, Any]:
        """``{status, version, timestamp, mode, model, running_turns, note}``."""
        return self.bot.health()

    async def _chat_as(self, ctx: RequestContext, user_id: str | None) -> RequestContext:
        """The identity a chat runs as: the caller, or (for an ADMIN caller) another user of
        the same account. In dev mode that user is created on first use."""
        if not user_id or user_id == ctx.user_id:
            return ctx
        user = validate_identifier(user_id, "user_id")
        if not ctx.is_admin:
            raise PermissionDeniedError(
                "Only an ADMIN may chat as another user", {"user_id": user_id}
            )
        if self.config.server.effective_auth_mode == "dev":
            return await self.local_context(ctx.account_id, user)  # type: ignore[attr-defined,no-any-return]
        record = await self.accounts.get_user(ctx.account_id, user)
        role = Role.USER if record.role is Role.ROOT else record.role
        return RequestContext(ctx.account_id, user, role)

    async def chat_start(
        self, ctx: RequestContext, request: ChatRequest | Mapping[str, Any]
    ) -> TurnStream:
        """Store the message and start a turn; follow the returned stream for its events."""
        self._require_open()
        parsed = _parse(ChatRequest, request)
        if parsed.session_id is not None:
            check_session_id(parsed.session_id)
        from openviking_mcp.bot.images import check_images

        images = check_images(parsed.images)
        caller = await self._chat_as(ctx, parsed.user_id)
        return await self.bot.start(caller, parsed, images)

    async def chat(
        self, ctx: RequestContext, request: ChatRequest | Mapping[str, Any]
    ) -> dict[str, Any]:
        """One whole turn: ``{session_id, response_id, message, events, relevant_memories,
        token_usage, timestamp, citations, mode, model, error}``."""
        stream = await self.chat_start(ctx, request)
        return await stream.wait()

    async def chat_resume(
        self, ctx: RequestContext, session_id: str, *, user_id: str | None = None
    ) -> TurnStream:
        """The session's running (or recently finished) turn; 404 when there is none."""
        self._require_open()
        check_session_id(session_id)
        caller = await self._chat_as(ctx, user_id)
        stream = self.bot.resume(caller, session_id)
        if stream is None:
            raise NotFoundError(
                session_id,
                "stream",
                f"No running or recent chat turn in session {session_id} (finished turns "
                f"stay resumable for {self.config.bot.stream_retention_seconds:g} s)",
            )
        return stream

    async def chat_feedback(
        self, ctx: RequestContext, request: FeedbackRequest | Mapping[str, Any]
    ) -> dict[str, Any]:
        """Store feedback with an answer: ``{accepted, response_id, session_id,
        feedback_type, feedback_delay_sec, timestamp}``; 404 for an unknown answer."""
        self._require_open()
        return await save_feedback(self.db, ctx, _parse(FeedbackRequest, request))

    async def chat_response(self, ctx: RequestContext, response_id: str) -> dict[str, Any]:
        """A stored answer with its feedback."""
        self._require_open()
        return await get_response(self.db, ctx, response_id)

    async def _close_bot(self) -> None:
        if self._bot is not None:
            await self._bot.close()
