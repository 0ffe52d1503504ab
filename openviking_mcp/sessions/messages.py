"""Session messages and their parts (the original's message model, §9.1).

A message is ``{id: "msg_{32hex}", role, parts: [...], created_at, peer_id?, turn_id?}`` with
``role`` one of ``user``, ``assistant``, ``system`` or ``tool`` (the original does not check it;
we refuse others with 400). Callers give either ``content`` (one text part) or ``parts`` (which
wins if both are given):

* ``{"type": "text", "text"}``;
* ``{"type": "context", "uri", "context_type": memory|resource|skill, "abstract"}``;
* ``{"type": "tool", "tool_id", "tool_name", "tool_uri", "skill_uri", "tool_input" (object),
  "tool_output" (text), "tool_status": pending|running|completed|error, "duration_ms",
  "prompt_tokens", "completion_tokens"}``;
* ``{"type": "image_url", "image_url": {"url", "detail"}}`` (a plain string URL is accepted).

A tool output over :data:`TOOL_OUTPUT_LIMIT` characters is *externalised*: the full text goes
to the session's ``tool-results/{id}.txt`` and the part keeps a :data:`TOOL_OUTPUT_PREVIEW`-char
preview with ``tool_output_uri`` (see :func:`externalise_tool_outputs`; the caller stores it).

Token counts use the CJK-aware :func:`~openviking_mcp.search.context.estimate_tokens` over
text parts, context abstracts and tool id, name, input and output.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from openviking_mcp.contract.errors import InvalidArgumentError, validation_problem
from openviking_mcp.search.context import estimate_tokens

__all__ = [
    "MAX_BATCH",
    "ROLES",
    "TOOL_OUTPUT_LIMIT",
    "TOOL_OUTPUT_PREVIEW",
    "ContextPart",
    "ImagePart",
    "ImageURL",
    "Message",
    "Part",
    "TextPart",
    "ToolPart",
    "build_message",
    "estimate_message_tokens",
    "estimate_tokens",
    "externalise_tool_outputs",
    "message_text",
    "now_iso",
]

ROLES = ("user", "assistant", "system", "tool")
Role = Literal["user", "assistant", "system", "tool"]
TOOL_OUTPUT_LIMIT = 20_000
TOOL_OUTPUT_PREVIEW = 2_000
#: Messages in one batch add.
MAX_BATCH = 100


def now_iso() -> str:
    """Now as ISO 8601 UTC with a ``Z``."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow")


class TextPart(_Part):
    type: Literal["text"] = "text"
    text: str

    @field_validator("text")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be empty")
        return value


class ContextPart(_Part):
    type: Literal["context"] = "context"
    uri: str = Field(min_length=1)
    context_type: Literal["memory", "resource", "skill"] = "resource"
    abstract: str = ""


class ToolPart(_Part):
    type: Literal["tool"] = "tool"
    tool_id: str = ""
    tool_name: str = ""
    tool_uri: str = ""
    skill_uri: str = ""
    tool_input: dict[str, Any] = Field(default_factory=dict)
    tool_output: str = ""
    tool_status: Literal["pending", "running", "completed", "error"] = "completed"
    duration_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tool_output_uri: str | None = None
    """Where the full output is kept when it was externalised."""
    tool_output_chars: int | None = None
    """Length of the full output when it was externalised."""
    tool_output_truncated: bool = False


class ImageURL(BaseModel):
    model_config = ConfigDict(extra="allow")

    url: str = Field(min_length=1)
    detail: str | None = None


class ImagePart(_Part):
    type: Literal["image_url"] = "image_url"
    image_url: ImageURL

    @field_validator("image_url", mode="before")
    @classmethod
    def _from_string(cls, value: object) -> object:
        return {"url": value} if isinstance(value, str) else value


Part = Annotated[TextPart | ContextPart | ToolPart | ImagePart, Field(discriminator="type")]


class Message(BaseModel):
    """One stored message (a line of ``messages.jsonl``)."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(default_factory=lambda: f"msg_{uuid.uuid4().hex}")
    role: Role
    parts: list[Part] = Field(min_length=1)
    created_at: str = Field(default_factory=now_iso)
    peer_id: str | None = None
    turn_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def build_message(
    role: object,
    content: object = None,
    parts: object = None,
    *,
    peer_id: str | None = None,
    turn_id: str | None = None,
    created_at: str | None = None,
) -> Message:
    """A validated message from caller input; bad input is :class:`InvalidArgumentError`.

    ``parts`` wins over ``content``; an unknown role, an empty text or no parts are refused.
    """
    if role not in ROLES:
        raise InvalidArgumentError(
            f"Invalid role: {role!r}; must be one of {', '.join(ROLES)}",
            {"field": "role", "value": str(role)},
        )
    if parts is None:
        if not isinstance(content, str) or not content.strip():
            raise InvalidArgumentError(
                "A message needs non-empty content or parts", {"field": "content"}
            )
        parts = [{"type": "text", "text": content}]
    if not isinstance(parts, Sequence) or isinstance(parts, str) or not parts:
        raise InvalidArgumentError("parts must be a non-empty list", {"field": "parts"})
    data: dict[str, Any] = {"role": role, "parts": list(parts)}
    for name, value in (("peer_id", peer_id), ("turn_id", turn_id), ("created_at", created_at)):
        if value is not None:
            data[name] = value
    try:
        return Message.model_validate(data)
    except ValidationError as exc:
        raise InvalidArgumentError(
            f"Invalid message: {validation_problem(exc.errors())}", {"field": "parts"}
        ) from None


def externalise_tool_outputs(message: Message, base_uri: str) -> dict[str, str]:
    """Move tool outputs over :data:`TOOL_OUTPUT_LIMIT` chars out of ``message`` (in place).

    Each becomes a preview plus ``tool_output_uri = {base_uri}/{id}.txt``; the result maps each
    ``id`` to the full text, for the caller to store.
    """
    stored: dict[str, str] = {}
    for part in message.parts:
        if not isinstance(part, ToolPart) or len(part.tool_output) <= TOOL_OUTPUT_LIMIT:
            continue
        result_id = f"tr_{uuid.uuid4().hex}"
        stored[result_id] = part.tool_output
        part.tool_output_chars = len(part.tool_output)
        part.tool_output = part.tool_output[:TOOL_OUTPUT_PREVIEW]
        part.tool_output_uri = f"{base_uri}/{result_id}.txt"
        part.tool_output_truncated = True
    return stored


def message_text(message: Mapping[str, Any]) -> str:
    """The readable text of a stored message (its text parts; legacy ``content`` too)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    texts = [
        str(p.get("text") or "")
        for p in message.get("parts") or []
        if isinstance(p, Mapping) and p.get("type") == "text"
    ]
    return "\n".join(t for t in texts if t)


def estimate_message_tokens(message: Mapping[str, Any]) -> int:
    """Token estimate of a stored message: text, context abstracts, tool id/name/input/output."""
    chunks: list[str] = []
    content = message.get("content")
    if isinstance(content, str):
        chunks.append(content)
    for part in message.get("parts") or []:
        if not isinstance(part, Mapping):
            continue
        kind = part.get("type")
        if kind == "text":
            chunks.append(str(part.get("text") or ""))
        elif kind == "context":
            chunks.append(str(part.get("abstract") or ""))
        elif kind == "tool":
            chunks.append(str(part.get("tool_id") or ""))
            chunks.append(str(part.get("tool_name") or ""))
            tool_input = part.get("tool_input")
            if tool_input:
                chunks.append(json.dumps(tool_input, ensure_ascii=False))
            chunks.append(str(part.get("tool_output") or ""))
    return sum(estimate_tokens(c) for c in chunks if c)
