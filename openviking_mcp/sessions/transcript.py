"""Reading session messages as the extractors need them: role, text and time.

Messages are the stored JSON of a session (``{role, parts, created_at}``) or the short form
``{role, content}``; ``parts`` wins when both are present. Text parts are the message's words;
context references, tool calls and images are described in one line each when asked for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["message_role", "message_text", "message_time"]

_TOOL_CHARS = 300


def message_role(message: Mapping[str, Any]) -> str:
    """The lowercased role (``""`` if missing)."""
    return str(message.get("role") or "").strip().lower()


def _part_line(part: Mapping[str, Any]) -> str:
    kind = part.get("type")
    if kind == "context":
        return f"[context {part.get('uri', '')}: {str(part.get('abstract') or '')[:200]}]"
    if kind == "tool":
        given = json.dumps(part.get("tool_input") or {}, ensure_ascii=False, default=str)
        output = str(part.get("tool_output") or "")
        return (
            f"[tool {part.get('tool_name', '')} ({part.get('tool_status', '')}) "
            f"input={given[:_TOOL_CHARS]} output={output[:_TOOL_CHARS]}]"
        )
    if kind == "image_url":
        return "[image]"
    return ""


def message_text(message: Mapping[str, Any], *, include_other_parts: bool = False) -> str:
    """The message's text parts joined by blank lines; with ``include_other_parts``, also one
    bracketed line per context reference, tool call or image."""
    parts = message.get("parts")
    if not isinstance(parts, list):
        content = message.get("content")
        return content if isinstance(content, str) else ""
    chunks: list[str] = []
    for part in parts:
        if not isinstance(part, Mapping):
            continue
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            chunks.append(part["text"])
        elif include_other_parts:
            line = _part_line(part)
            if line:
                chunks.append(line)
    return "\n\n".join(c for c in chunks if c.strip())


def message_time(message: Mapping[str, Any], default: datetime) -> datetime:
    """``created_at`` as an aware datetime (naive values are UTC); ``default`` when missing or
    unreadable."""
    raw = message.get("created_at")
    if isinstance(raw, datetime):
        when = raw
    elif isinstance(raw, str) and raw.strip():
        try:
            when = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            return default
    else:
        return default
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
