"""Chat events: what a turn reports while it runs, framed for server-sent events.

The event record itself (:class:`ChatEvent`) lives in the contract, where every stream backend
(the in-memory one here, the PostgreSQL one in storage) builds it; see
:mod:`openviking_mcp.contract.chat_events` for its format.
"""

from __future__ import annotations

from openviking_mcp.contract.chat_events import ChatEvent, EventType, now_iso

__all__ = ["NON_DELTA_EVENTS", "ChatEvent", "EventType", "now_iso"]

#: Events kept in ``/chat``'s ``events`` list (deltas are only streamed).
NON_DELTA_EVENTS = frozenset({"iteration", "reasoning", "tool_call", "tool_result"})
