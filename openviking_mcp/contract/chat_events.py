"""The events of a chat turn, as every stream backend stores and serves them.

Each event is ``{event, data, timestamp}`` (the original's stream format) with an ``index``
that numbers the events of one turn from 0; the index is the SSE ``id:`` line, so a client
resumes with ``Last-Event-ID`` or ``?last_index=N`` and gets the events after it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from openviking_mcp.contract.errors import ConflictError

__all__ = ["ChatEvent", "EventType", "now_iso", "turn_conflict"]

EventType = Literal[
    "iteration",
    "reasoning",
    "reasoning_delta",
    "tool_call",
    "tool_result",
    "content_delta",
    "response",
]


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class ChatEvent:
    index: int
    event: EventType
    data: Any
    timestamp: str

    def payload(self) -> dict[str, Any]:
        """The stream form: ``{event, data, timestamp}``."""
        return {"event": self.event, "data": self.data, "timestamp": self.timestamp}

    def record(self) -> dict[str, Any]:
        """The form in ``/chat``'s ``events`` list: ``{type, data, timestamp}``."""
        return {"type": self.event, "data": self.data, "timestamp": self.timestamp}

    def sse(self) -> str:
        """One server-sent event: an ``id:`` line and a ``data:`` line."""
        body = json.dumps(self.payload(), ensure_ascii=False, separators=(",", ":"))
        return f"id: {self.index}\ndata: {body}\n\n"


def turn_conflict(session_id: str, running_response_id: str) -> ConflictError:
    """The error for a turn started while another runs in the session."""
    return ConflictError(
        f"A turn is already running in session {session_id}; wait for it to finish or "
        "resume its stream",
        {"session_id": session_id, "response_id": running_response_id},
    )
