"""The chat methods of the embedded async client (mixed into ``AsyncOpenViking``), and what the
HTTP clients share with them: the request bodies, the event form and image files as data URLs.

A streamed turn is a sequence of events ``{index, event, data, timestamp}`` numbered from 0 and
ending with the ``response`` event (``data``: ``{content, response_id, session_id, citations,
token_usage, mode, model}``, or ``{error, response_id, session_id}`` when the turn failed).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from openviking_mcp.client._chat_wire import FeedbackType, chat_body, feedback_body

if TYPE_CHECKING:
    from openviking_mcp.bot.events import ChatEvent
    from openviking_mcp.bot.service import ChatService
    from openviking_mcp.client._loop import LoopThread
    from openviking_mcp.contract.identity import RequestContext
    from openviking_mcp.service import ContextService

__all__ = [
    "ChatMethods",
    "blocking_iter",
    "event_dict",
]

T = TypeVar("T")

# The server sends a keep-alive comment this often while a turn is quiet; the embedded client
# just skips the idle ticks of the stream.
_HEARTBEAT = 15.0


def event_dict(event: ChatEvent) -> dict[str, Any]:
    """A turn's event as the clients return it: ``{index, event, data, timestamp}``."""
    return {"index": event.index, **event.payload()}


def blocking_iter(loop: LoopThread, stream: AsyncIterator[T]) -> Iterator[T]:
    """Iterate an async iterator from sync code, each step on the client's loop thread.

    Closing the returned generator (or leaving a ``for`` loop early) closes ``stream`` too."""

    async def step() -> tuple[bool, T | None]:
        try:
            return True, await anext(stream)
        except StopAsyncIteration:
            return False, None

    try:
        while True:
            more, item = loop.run(step())
            if not more:
                return
            yield item  # type: ignore[misc]  # ``more`` means ``item`` is a T
    finally:
        aclose = getattr(stream, "aclose", None)
        # Not when the garbage collector finalises this generator on the loop thread itself
        # (waiting there would deadlock; asyncio then finalises ``stream`` on its own).
        if aclose is not None and getattr(loop, "_thread", None) is not threading.current_thread():
            with contextlib.suppress(RuntimeError):  # the client was closed meanwhile
                loop.run(aclose())


class ChatMethods:
    """The bot: chat turns (whole or streamed), resuming a stream, feedback and health.

    The client runs the bot itself: a :class:`~openviking_mcp.bot.service.ChatService` over
    its service, built on the first chat call (with the service's ``chat_model``) and closed
    by :meth:`close_chat`."""

    service: ContextService
    _chat: ChatService | None = None

    @property
    def context(self) -> RequestContext:
        raise NotImplementedError

    @property
    def chat_service(self) -> ChatService:
        """The client's chat service (the embedded client imports the whole store already,
        so the chat models are loaded here, not when the HTTP clients import this module)."""
        if self._chat is None:
            from openviking_mcp.bot.service import ChatService

            svc = self.service
            self._chat = ChatService(svc, svc.config.bot, svc.config.vlm, svc.chat_model)
        return self._chat

    async def close_chat(self) -> None:
        """Stop the bot's running turns (each ends with an error event)."""
        chat, self._chat = self._chat, None
        if chat is not None:
            await chat.close()

    async def chat(
        self,
        message: str = "",
        *,
        session_id: str | None = None,
        images: list[str] | None = None,
        user_id: str | None = None,
        need_reply: bool = True,
        disabled_tools: list[str] | None = None,
    ) -> dict[str, Any]:
        """One whole turn: ``{session_id, response_id, message, events, relevant_memories,
        token_usage, timestamp, citations, mode, model, error}``.

        ``session_id`` continues a chat (a new session when omitted); ``images`` are https or
        base64 data URLs (see :func:`image_data_url`); ``user_id`` chats as another user of the
        account (ADMIN); ``need_reply=False`` only stores the message; ``disabled_tools``
        hides store tools from the model. A failed turn has ``error`` set."""
        payload = chat_body(
            message,
            session_id=session_id,
            images=images,
            user_id=user_id,
            need_reply=need_reply,
            disabled_tools=disabled_tools,
        )
        from openviking_mcp.contract.base import parse_request
        from openviking_mcp.contract.chat import ChatRequest

        request = parse_request(ChatRequest, payload)
        return (await self.chat_service.chat(self.context, request)).wire()

    async def chat_stream(
        self,
        message: str = "",
        *,
        session_id: str | None = None,
        images: list[str] | None = None,
        user_id: str | None = None,
        need_reply: bool = True,
        disabled_tools: list[str] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """The turn's events ``{index, event, data, timestamp}`` as they happen, ending with
        the ``response`` event (arguments as :meth:`chat`)."""
        payload = chat_body(
            message,
            session_id=session_id,
            images=images,
            user_id=user_id,
            need_reply=need_reply,
            disabled_tools=disabled_tools,
        )
        from openviking_mcp.contract.base import parse_request
        from openviking_mcp.contract.chat import ChatRequest

        stream = await self.chat_service.start(self.context, parse_request(ChatRequest, payload))
        async for event in stream.follow(-1, heartbeat=_HEARTBEAT):
            if event is not None:
                yield event_dict(event)

    async def chat_resume(
        self, session_id: str, *, last_index: int = -1, user_id: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """The events after ``last_index`` of the session's running (or recently finished)
        turn, then the rest as they happen; ``NotFoundError`` when there is no such turn."""
        from openviking_mcp.contract.chat import ChatResumeRequest

        request = ChatResumeRequest(session_id=session_id, user_id=user_id)
        stream = await self.chat_service.resume(self.context, request)
        async for event in stream.follow(last_index, heartbeat=_HEARTBEAT):
            if event is not None:
                yield event_dict(event)

    async def chat_feedback(
        self,
        session_id: str,
        response_id: str,
        feedback_type: FeedbackType,
        *,
        score: float | None = None,
        reason: str | None = None,
        text: str | None = None,
    ) -> dict[str, Any]:
        """Thumbs or a rating (``score`` 1-5, required for ``rating``) on an answer:
        ``{accepted, response_id, session_id, feedback_type, feedback_delay_sec, timestamp}``."""
        payload = feedback_body(
            session_id, response_id, feedback_type, score=score, reason=reason, text=text
        )
        from openviking_mcp.contract.base import parse_request
        from openviking_mcp.contract.chat import FeedbackRequest

        request = parse_request(FeedbackRequest, payload)
        return (await self.chat_service.feedback(self.context, request)).wire()

    async def bot_health(self) -> dict[str, Any]:
        """``{status, version, timestamp, mode, model, running_turns, note}``."""
        return self.chat_service.status().wire()
