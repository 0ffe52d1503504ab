"""The bot's methods of every Python client, written once.

:class:`AsyncChatOperations` holds ``chat``, ``chat_stream``, ``chat_resume``,
``chat_feedback`` and ``bot_health``; each passes its arguments to the client's ``_call`` (one
answer) or ``_stream`` (an async iterator of events ``{index, event, data, timestamp}``),
which turn them into the bot operation's request (:func:`~._chat_wire.chat_payload`). The
embedded client runs the bot itself; the HTTP clients call its routes and follow its
server-sent events. :class:`SyncChatOperations` has the blocking twins.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypedDict, Unpack, cast

from openviking_mcp.client._chat_wire import FeedbackType
from openviking_mcp.client._sync import SyncCaller, blocking, streaming

__all__ = ["AsyncChatOperations", "ChatOptions", "SyncChatOperations"]


class ChatOptions(TypedDict, total=False):
    """The options of a chat turn (``chat`` and ``chat_stream``)."""

    session_id: str | None
    """Continue this chat (a new session when omitted)."""
    images: list[str] | None
    """https or base64 data URLs (see :func:`~._chat_wire.image_data_url`)."""
    user_id: str | None
    """Chat as another user of the account (ADMIN)."""
    need_reply: bool
    """``False`` only stores the message (default ``True``)."""
    disabled_tools: list[str] | None
    """Store tools hidden from the model."""


class AsyncChatOperations:
    """The bot: chat turns (whole or streamed), resuming a stream, feedback and health."""

    async def _call(self, name: str, arguments: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _stream(self, name: str, arguments: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        raise NotImplementedError

    async def chat(self, message: str = "", **options: Unpack[ChatOptions]) -> dict[str, Any]:
        """One whole turn: ``{session_id, response_id, message, events, relevant_memories,
        token_usage, timestamp, citations, mode, model, error}``.

        The options are :class:`ChatOptions`. A failed turn has ``error`` set.
        Over HTTP it waits for the model without a read limit (the server ends a turn that
        makes no progress for ``bot.timeout`` seconds)."""
        return cast("dict[str, Any]", await self._call("chat", {"message": message, **options}))

    def chat_stream(
        self, message: str = "", **options: Unpack[ChatOptions]
    ) -> AsyncIterator[dict[str, Any]]:
        """The turn's events ``{index, event, data, timestamp}`` as they happen, ending with
        the ``response`` event (arguments as :meth:`chat`); over HTTP a dropped connection is
        resumed."""
        return self._stream("chat_stream", {"message": message, **options})

    def chat_resume(
        self, session_id: str, *, last_index: int = -1, user_id: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """The events after ``last_index`` of the session's running (or recently finished)
        turn, then the rest as they happen; ``NotFoundError`` when there is no such turn."""
        return self._stream("chat_resume", locals())

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
        return cast("dict[str, Any]", await self._call("chat_feedback", locals()))

    async def bot_health(self) -> dict[str, Any]:
        """``{status, version, timestamp, mode, model, running_turns, note}`` (over HTTP,
        ``UNAVAILABLE`` when the server runs without the bot)."""
        return cast("dict[str, Any]", await self._call("bot_health", locals()))


class SyncChatOperations(SyncCaller):
    """The same methods, blocking; streams are plain iterators."""

    chat = blocking(AsyncChatOperations.chat)
    chat_stream = streaming(AsyncChatOperations.chat_stream)
    chat_resume = streaming(AsyncChatOperations.chat_resume)
    chat_feedback = blocking(AsyncChatOperations.chat_feedback)
    bot_health = blocking(AsyncChatOperations.bot_health)
