"""The HTTP calls the clients make by hand, beside the generated operation methods: ``health``
and the bot's (``chat``, ``chat_feedback``, ``bot_health``), whose answers are raw JSON."""

from __future__ import annotations

from typing import Any

from openviking_mcp.client._http_base import Call, call
from openviking_mcp.client._http_chat import ChatCalls

__all__ = ["CallBuilder"]


class CallBuilder(ChatCalls):
    """Stateless: builds the calls; the clients send them."""

    def health(self) -> Call[dict[str, Any]]:
        """``GET /health`` (no auth, plain JSON)."""
        return call("GET", "/health")
