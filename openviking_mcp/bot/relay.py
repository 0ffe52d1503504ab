"""pydantic-ai run events as turn stream events: model text and thinking become
``content_delta``/``reasoning_delta`` (and a whole ``reasoning``), tool calls and results
become ``tool_call``/``tool_result`` and are logged for the session record. Long tool
results are shortened to a preview.
"""

from __future__ import annotations

from typing import Any

from pydantic_ai.messages import (
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    PartDeltaEvent,
    PartEndEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ThinkingPart,
    ThinkingPartDelta,
)

from openviking_mcp.bot.streams import TurnStream

__all__ = ["preview", "relay_model_event", "relay_tool_event"]

_PREVIEW_CHARS = 2000


def preview(text: str) -> str:
    """``text`` cut to its first 2000 characters, marked ``[...]`` when shortened."""
    return text if len(text) <= _PREVIEW_CHARS else text[:_PREVIEW_CHARS] + " [...]"


async def relay_model_event(stream: TurnStream, event: Any) -> None:
    """Emit the text and thinking of one model stream event."""
    if isinstance(event, PartStartEvent):
        part = event.part
        if isinstance(part, TextPart) and part.content:
            await stream.emit("content_delta", part.content)
        elif isinstance(part, ThinkingPart) and part.content:
            await stream.emit("reasoning_delta", part.content)
    elif isinstance(event, PartDeltaEvent):
        delta = event.delta
        if isinstance(delta, TextPartDelta) and delta.content_delta:
            await stream.emit("content_delta", delta.content_delta)
        elif isinstance(delta, ThinkingPartDelta) and delta.content_delta:
            await stream.emit("reasoning_delta", delta.content_delta)
    elif (
        isinstance(event, PartEndEvent)
        and isinstance(event.part, ThinkingPart)
        and event.part.content
    ):
        await stream.emit("reasoning", event.part.content)


async def relay_tool_event(stream: TurnStream, event: Any, log: dict[str, dict[str, Any]]) -> None:
    """Emit one tool call or result and keep ``log`` (by tool call id) up to date."""
    if isinstance(event, FunctionToolCallEvent):
        part = event.part
        try:
            arguments: Any = part.args_as_dict()
        except Exception:
            arguments = part.args
        log[part.tool_call_id] = {
            "type": "tool",
            "tool_id": part.tool_call_id,
            "tool_name": part.tool_name,
            "tool_input": arguments if isinstance(arguments, dict) else {"raw": arguments},
            "tool_status": "running",
        }
        await stream.emit(
            "tool_call",
            {"id": part.tool_call_id, "name": part.tool_name, "arguments": arguments},
        )
    elif isinstance(event, FunctionToolResultEvent):
        returned: Any = event.part
        text = (
            returned.model_response_str()
            if hasattr(returned, "model_response_str")
            else str(getattr(returned, "content", ""))
        )
        failed = not hasattr(returned, "model_response_str") or text.startswith("Error [")
        entry = log.get(returned.tool_call_id)
        if entry is not None:
            entry["tool_output"] = preview(text)
            entry["tool_status"] = "error" if failed else "completed"
        await stream.emit(
            "tool_result",
            {
                "id": returned.tool_call_id,
                "name": returned.tool_name,
                "result": preview(text),
                "is_error": failed,
            },
        )
