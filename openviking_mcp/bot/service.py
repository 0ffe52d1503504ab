"""The chat service: the bot's operations over a :class:`ContextService`.

The bot depends on the service, never the other way round: the surfaces that run the bot (the
HTTP app, the MCP server, the embedded client) build a :class:`ChatService` over the
composition root and close it when they stop. The :class:`~openviking_mcp.bot.chat.ChatBot`
itself (it imports pydantic-ai) is built on first use from ``bot`` and ``vlm`` in ``ov.conf``;
``model`` replaces its model (tests pass a pydantic-ai ``FunctionModel``); ``streams`` is where
turn streams live (default: this process's memory; a shared registry lets any server resume
a turn and keeps one turn per session across servers). The caller that passes a registry
closes it.

Once built, the bot is the service's ``chat_activity``: the observer reads its turn counters
and running streams for ``/metrics``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openviking_mcp.bot.images import check_images
from openviking_mcp.bot.responses import get_response, save_feedback
from openviking_mcp.bot.streams import StreamRegistry, TurnStream
from openviking_mcp.config import BotConfig, VLMConfig
from openviking_mcp.contract.base import Empty
from openviking_mcp.contract.chat import (
    BotHealth,
    ChatReply,
    ChatRequest,
    ChatResponseRequest,
    ChatResumeRequest,
    FeedbackReceipt,
    FeedbackRequest,
    StoredResponse,
)
from openviking_mcp.contract.errors import NotFoundError, PermissionDeniedError
from openviking_mcp.contract.identity import RequestContext, Role, validate_identifier
from openviking_mcp.sessions.layout import check_session_id

if TYPE_CHECKING:
    from pydantic_ai.models import Model

    from openviking_mcp.bot.chat import ChatBot
    from openviking_mcp.service import ContextService

__all__ = ["ChatService"]


class ChatService:
    """See the module docs."""

    def __init__(
        self,
        service: ContextService,
        config: BotConfig,
        vlm: VLMConfig,
        model: Model | None = None,
        streams: StreamRegistry | None = None,
    ) -> None:
        self._service = service
        self._config = config
        self._vlm = vlm
        self._model = model
        if streams is None and service.store.postgres is not None:
            # a shared deployment: any server resumes a turn another one runs
            streams = service.store.postgres.streams(config.stream_retention_seconds)
        self._streams = streams
        self._bot: ChatBot | None = None

    @property
    def bot(self) -> ChatBot:
        """The bot, built on first use."""
        if self._bot is None:
            from openviking_mcp.bot.chat import ChatBot  # imports pydantic-ai: only when chatting

            self._bot = ChatBot(self._service, self._config, self._vlm, self._model, self._streams)
            self._service.chat_activity = self._bot
        return self._bot

    async def close(self) -> None:
        """Stop the running turns (each ends with an error event)."""
        bot, self._bot = self._bot, None
        if bot is None:
            return
        if self._service.chat_activity is bot:
            self._service.chat_activity = None
        await bot.close()

    def status(self) -> BotHealth:
        """The bot's health for the probes, which have no caller (``/health``)."""
        return BotHealth.model_validate(self.bot.health())

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
        service = self._service
        if service.config.server.effective_auth_mode == "dev":
            return await service.local_context(ctx.account_id, user)
        record = await service.store.accounts.get_user(ctx.account_id, user)
        role = Role.USER if record.role is Role.ROOT else record.role
        return RequestContext(
            ctx.account_id,
            user,
            role,
            scopes=ctx.scopes,
            uri_prefix=ctx.uri_prefix,
            key_id=ctx.key_id,
        )

    # -- operations ------------------------------------------------------------------------

    async def start(self, ctx: RequestContext, req: ChatRequest) -> TurnStream:
        """Store the message and start a turn; follow the returned stream for its events."""
        self._service.store.require_open()
        if req.session_id is not None:
            check_session_id(req.session_id)
        images = check_images(req.images)
        caller = await self._chat_as(ctx, req.user_id)
        return await self.bot.start(caller, req, images)

    async def chat(self, ctx: RequestContext, req: ChatRequest) -> ChatReply:
        """One whole turn; a failed turn has ``error`` set."""
        stream = await self.start(ctx, req)
        return ChatReply.model_validate(await stream.wait())

    async def resume(self, ctx: RequestContext, req: ChatResumeRequest) -> TurnStream:
        """The session's running (or recently finished) turn; ``NOT_FOUND`` when there is
        none."""
        self._service.store.require_open()
        session_id = req.session_id
        check_session_id(session_id)
        caller = await self._chat_as(ctx, req.user_id)
        stream = await self.bot.resume(caller, session_id)
        if stream is None:
            raise NotFoundError(
                session_id,
                "stream",
                f"No running or recent chat turn in session {session_id} (finished turns "
                f"stay resumable for {self._config.stream_retention_seconds:g} s)",
            )
        return stream

    async def feedback(self, ctx: RequestContext, req: FeedbackRequest) -> FeedbackReceipt:
        """Store feedback with an answer; ``NOT_FOUND`` for an unknown answer."""
        self._service.store.require_open()
        return await save_feedback(self._service.store.db, ctx, req)

    async def response(self, ctx: RequestContext, req: ChatResponseRequest) -> StoredResponse:
        """A stored answer with its feedback."""
        self._service.store.require_open()
        row = await get_response(self._service.store.db, ctx, req.response_id)
        return StoredResponse.model_validate(row)

    async def health(self, ctx: RequestContext, req: Empty) -> BotHealth:
        """``{status, version, timestamp, mode, model, running_turns, note}``."""
        return self.status()
