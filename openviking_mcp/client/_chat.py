"""The chat methods of the embedded async client (mixed into ``AsyncOpenViking``), and what the
HTTP clients share with them: the request bodies, the event form and image files as data URLs.

A streamed turn is a sequence of events ``{index, event, data, timestamp}`` numbered from 0 and
ending with the ``response`` event (``data``: ``{content, response_id, session_id, citations,
token_usage, mode, model}``, or ``{error, response_id, session_id}`` when the turn failed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, TypeVar

from openviking_mcp.client._chat_wire import CHAT_CALLS, CHAT_STREAMS, chat_payload
from openviking_mcp.client._sync import arguments as _arguments

if TYPE_CHECKING:
    from openviking_mcp.bot.events import ChatEvent
    from openviking_mcp.bot.service import ChatService
    from openviking_mcp.contract.identity import RequestContext
    from openviking_mcp.contract.operations import Operation
    from openviking_mcp.service import ContextService

__all__ = [
    "ChatMethods",
    "event_dict",
]

T = TypeVar("T")

# The server sends a keep-alive comment this often while a turn is quiet; the embedded client
# just skips the idle ticks of the stream.
_HEARTBEAT = 15.0


def event_dict(event: ChatEvent) -> dict[str, Any]:
    """A turn's event as the clients return it: ``{index, event, data, timestamp}``."""
    return {"index": event.index, **event.payload()}


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

    async def _chat_call(self, method: str, args: dict[str, Any]) -> Any:
        """Run the bot operation behind the client method ``method`` (one answer)."""
        from openviking_mcp.contract.base import parse_request, to_wire

        op = _chat_operation(CHAT_CALLS[method])
        request = parse_request(op.request, chat_payload(method, args))
        return to_wire(await getattr(self.chat_service, op.method)(self.context, request))

    async def _stream(self, name: str, arguments: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The events of the bot operation behind the stream method ``name``, from the turn's
        ``last_index`` on (``-1``: all of them)."""
        from openviking_mcp.contract.base import parse_request

        args = _arguments(arguments)
        op = _chat_operation(CHAT_STREAMS[name])
        request = parse_request(op.request, chat_payload(name, args))
        stream = await getattr(self.chat_service, op.method)(self.context, request)
        async for event in stream.follow(args.get("last_index", -1), heartbeat=_HEARTBEAT):
            if event is not None:
                yield event_dict(event)


def _chat_operation(name: str) -> Operation:
    from openviking_mcp.contract.chat import OPERATIONS

    return next(op for op in OPERATIONS if op.name == name)
