"""What the chat methods of every client send: the request bodies and image files as data
URLs (light: the HTTP clients and the CLI's remote mode use it)."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from openviking_mcp.contract.errors import InvalidArgumentError, NotFoundError
from openviking_mcp.contract.images import sniff_image_type

__all__ = [
    "CHAT_CALLS",
    "CHAT_STREAMS",
    "FeedbackType",
    "chat_body",
    "chat_payload",
    "feedback_body",
    "image_data_url",
]

FeedbackType = Literal["thumb_up", "thumb_down", "rating"]

CHAT_CALLS = {"chat": "chat", "chat_feedback": "chat_feedback", "bot_health": "bot_health"}
"""The bot's client methods that answer once, and the operation behind each."""
CHAT_STREAMS = {"chat_stream": "chat_start", "chat_resume": "chat_resume"}
"""The bot's client methods that answer a stream of events, and the operation behind each."""


def chat_body(args: Mapping[str, Any]) -> dict[str, Any]:
    """The ``ChatRequest`` body (``POST /chat``) from a chat method's arguments; fields left
    at ``None`` or empty are not sent."""
    payload: dict[str, Any] = {
        "message": args.get("message", ""),
        "need_reply": args.get("need_reply", True),
    }
    for name in ("session_id", "user_id"):
        if args.get(name) is not None:
            payload[name] = args[name]
    for name in ("images", "disabled_tools"):
        if args.get(name):
            payload[name] = list(args[name])
    return payload


def feedback_body(args: Mapping[str, Any]) -> dict[str, Any]:
    """The ``FeedbackRequest`` body (``POST /bot/v1/feedback``) from ``chat_feedback``'s
    arguments (``score``, ``reason`` and ``text`` become ``feedback_*``)."""
    payload = {name: args[name] for name in ("session_id", "response_id", "feedback_type")}
    for name in ("score", "reason", "text"):
        if args.get(name) is not None:
            payload[f"feedback_{name}"] = args[name]
    return payload


def chat_payload(method: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """The request body of the bot operation behind the client method ``method``."""
    if method in ("chat", "chat_stream"):
        return chat_body(args)
    if method == "chat_feedback":
        return feedback_body(args)
    return {k: v for k, v in args.items() if k != "last_index" and v is not None}


def image_data_url(path: str | os.PathLike[str]) -> str:
    """A local image file as a base64 data URL for ``images``; the type comes from the bytes
    (JPEG, PNG, GIF or WebP), anything else is :class:`InvalidArgumentError`."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise NotFoundError(str(path), "file", message=f"Local image file not found: {path}")
    data = file.read_bytes()
    media_type = sniff_image_type(data)
    if media_type is None:
        raise InvalidArgumentError(
            f"{os.fspath(path)} is not a JPEG, PNG, GIF or WebP image",
            {"field": "images", "path": os.fspath(path)},
        )
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"
