"""A chat turn's messages in the shapes around the model: the user's message as the parts
stored in the session, the request as the model prompt (text plus images), and the stored
session messages as model history (text only, user and assistant alternating).
"""

from __future__ import annotations

from typing import Any

from pydantic_ai.messages import (
    BinaryContent,
    ImageUrl,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    UserContent,
    UserPromptPart,
)

from openviking_mcp.bot.images import Attachment
from openviking_mcp.contract.chat import ChatRequest

__all__ = ["model_prompt", "to_model_messages", "user_parts"]


def user_parts(request: ChatRequest, images: list[Attachment]) -> list[dict[str, Any]]:
    """The user's message as session parts: its text, and per image its URL or, for a data
    URL, a text placeholder."""
    parts: list[dict[str, Any]] = []
    if request.message.strip():
        parts.append({"type": "text", "text": request.message})
    for image in images:
        if image.data is not None:  # a data URL: a placeholder, not megabytes of base64
            text = f"[image attached: {image.media_type}, {len(image.data)} bytes]"
            parts.append({"type": "text", "text": text})
        else:
            url = {"url": image.url, "detail": image.detail}
            parts.append({"type": "image_url", "image_url": url})
    return parts


def model_prompt(request: ChatRequest, images: list[Attachment]) -> str | list[UserContent]:
    """The model prompt: the message alone, or with images its text and the images."""
    if not images:
        return request.message
    content: list[UserContent] = [request.message] if request.message.strip() else []
    for image in images:
        if image.data is not None and image.media_type is not None:
            content.append(BinaryContent(data=image.data, media_type=image.media_type))
        else:
            content.append(ImageUrl(url=image.url))
    return content


def to_model_messages(messages: list[dict[str, Any]]) -> list[ModelMessage]:
    """Stored session messages as model history: text only, user/assistant alternating."""
    turns: list[tuple[str, str]] = []
    for message in messages:
        role = message.get("role")
        if role not in ("user", "assistant"):
            continue
        text = "\n".join(
            str(p.get("text", ""))
            for p in message.get("parts", [])
            if isinstance(p, dict) and p.get("type") == "text"
        ).strip()
        if not text:
            continue
        if turns and turns[-1][0] == role:
            turns[-1] = (role, f"{turns[-1][1]}\n\n{text}")
        else:
            turns.append((role, text))
    while turns and turns[0][0] != "user":
        turns.pop(0)
    history: list[ModelMessage] = []
    for role, text in turns:
        if role == "user":
            history.append(ModelRequest(parts=[UserPromptPart(content=text)]))
        else:
            history.append(ModelResponse(parts=[TextPart(content=text)]))
    return history
