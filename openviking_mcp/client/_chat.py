"""How the embedded async client runs the bot (mixed into ``AsyncOpenViking``): the two hooks
behind the chat methods of :mod:`._chat_ops`, over the
:class:`~openviking_mcp.bot.service.ChatService` the client builds on its first chat.

A streamed turn is a sequence of events ``{index, event, data, timestamp}`` numbered from 0 and
ending with the ``response`` event (``data``: ``{content, response_id, session_id, citations,
token_usage, mode, model}``, or ``{error, response_id, session_id}`` when the turn failed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from openviking_mcp.client._chat_wire import CHAT_CALLS, CHAT_STREAMS, chat_payload
from openviking_mcp.client._sync import arguments as _arguments
from openviking_mcp.contract import chat as chat_contract
from openviking_mcp.contract.base import parse_request, to_wire

if TYPE_CHECKING:
    from openviking_mcp.bot.events import ChatEvent
    from openviking_mcp.bot.service import ChatService
    from openviking_mcp.contract.identity import RequestContext
    from openviking_mcp.service import ContextService

__all__ = [
    "ChatMethods",
    "event_dict",
]

_OPERATIONS = {op.name: op for op in chat_contract.OPERATIONS}

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
        """The client's chat service, built on the first chat (so the bot's libraries load
        only for a client that chats)."""
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

    async def _run_bot(self, operation: str, method: str, args: dict[str, Any]) -> Any:
        """The chat service's answer to ``operation``, its request made from the arguments of
        the client method ``method``."""
        op = _OPERATIONS[operation]
        request = parse_request(op.request, chat_payload(method, args))
        return await getattr(self.chat_service, op.method)(self.context, request)

    async def _chat_call(self, method: str, args: dict[str, Any]) -> Any:
        """Run the bot operation behind the client method ``method`` (one answer)."""
        return to_wire(await self._run_bot(CHAT_CALLS[method], method, args))

    async def _stream(self, name: str, arguments: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The events of the bot operation behind the stream method ``name``, from the turn's
        ``last_index`` on (``-1``: all of them)."""
        args = _arguments(arguments)
        stream = await self._run_bot(CHAT_STREAMS[name], name, args)
        async for event in stream.follow(args.get("last_index", -1), heartbeat=_HEARTBEAT):
            if event is not None:
                yield event_dict(event)
