"""What the chat methods of every client send: the request bodies and image files as data
URLs (light: the HTTP clients and the CLI's remote mode use it)."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any, Literal

from openviking_mcp.contract.errors import InvalidArgumentError, NotFoundError
from openviking_mcp.contract.images import sniff_image_type

__all__ = ["FeedbackType", "chat_body", "feedback_body", "image_data_url"]

FeedbackType = Literal["thumb_up", "thumb_down", "rating"]


def chat_body(
    message: str,
    *,
    session_id: str | None,
    images: list[str] | None,
    user_id: str | None,
    need_reply: bool,
    disabled_tools: list[str] | None,
) -> dict[str, Any]:
    """The ``ChatRequest`` body (``POST /chat``); fields left at ``None`` are not sent."""
    payload: dict[str, Any] = {"message": message, "need_reply": need_reply}
    if session_id is not None:
        payload["session_id"] = session_id
    if images:
        payload["images"] = list(images)
    if user_id is not None:
        payload["user_id"] = user_id
    if disabled_tools:
        payload["disabled_tools"] = list(disabled_tools)
    return payload


def feedback_body(
    session_id: str,
    response_id: str,
    feedback_type: FeedbackType,
    *,
    score: float | None,
    reason: str | None,
    text: str | None,
) -> dict[str, Any]:
    """The ``FeedbackRequest`` body (``POST /bot/v1/feedback``)."""
    payload: dict[str, Any] = {
        "session_id": session_id,
        "response_id": response_id,
        "feedback_type": feedback_type,
    }
    for name, value in (
        ("feedback_score", score),
        ("feedback_reason", reason),
        ("feedback_text", text),
    ):
        if value is not None:
            payload[name] = value
    return payload


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
