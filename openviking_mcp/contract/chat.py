"""The bot: chat turns (whole or streamed), resuming a stream, feedback on answers and health.

Field names are the original VikingBot's. A turn answers :class:`ChatReply`; a streamed turn
is a :class:`~openviking_mcp.bot.streams.TurnStream` whose events are ``{event, data,
timestamp}`` numbered from 0 (the HTTP routes frame them as server-sent events, and the
clients follow them by hand, reconnecting to the resume route).

These operations are served by :class:`~openviking_mcp.bot.service.ChatService`, which the
surfaces that run the bot build over the composition root (they are not operations of
``ContextService``); ``target`` names its methods as ``"chat.<method>"``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from openviking_mcp.contract.base import Empty, OpenResult, Request, Result
from openviking_mcp.contract.operations import Operation, Route

__all__ = [
    "BOT_TOOLS",
    "OPERATIONS",
    "BotHealth",
    "ChatImage",
    "ChatReply",
    "ChatRequest",
    "ChatResponseRequest",
    "ChatResumeRequest",
    "Citation",
    "FeedbackReceipt",
    "FeedbackRequest",
    "ImageURL",
    "StoredResponse",
    "TokenUsage",
]

#: The store tools the agent may call (``disabled_tools`` names some of them).
BOT_TOOLS = ("find", "search", "read", "list", "grep", "remember")


class ImageURL(Request):
    url: str = Field(min_length=1)
    detail: Literal["auto", "low", "high"] | None = None


class ChatImage(Request):
    """``{type: "image_url", image_url: {url, detail?}}`` (a bare URL string is accepted)."""

    type: Literal["image_url"] = "image_url"
    image_url: ImageURL

    @model_validator(mode="before")
    @classmethod
    def _bare_url(cls, value: object) -> object:
        return {"image_url": {"url": value}} if isinstance(value, str) else value

    @field_validator("image_url", mode="before")
    @classmethod
    def _from_string(cls, value: object) -> object:
        return {"url": value} if isinstance(value, str) else value


class ChatRequest(Request):
    """``POST /chat``: a message (or images) for the session's next turn."""

    message: str = Field(default="", max_length=100_000)
    images: list[ChatImage] = Field(default_factory=list)
    session_id: str | None = Field(default=None, min_length=1, max_length=128)
    """The chat's session; a new one is created when omitted."""
    user_id: str | None = None
    """Chat as this user of the caller's account (the caller's own user when omitted; another
    user needs an ADMIN caller)."""
    stream: bool = False
    need_reply: bool = True
    """``false`` only stores the message in the session (no model call)."""
    channel_id: str | None = Field(default=None, max_length=128)
    disabled_tools: list[str] = Field(default_factory=list)
    context: Any = None
    """Accepted for compatibility; it must be empty (the bot finds context itself)."""
    openviking_connection: dict[str, Any] | None = None
    """Sent by the original's proxy; ignored (the caller is the authenticated identity)."""

    @field_validator("disabled_tools")
    @classmethod
    def _known_tools(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(BOT_TOOLS))
        if unknown:
            raise ValueError(f"unknown tools {unknown}; the tools are {list(BOT_TOOLS)}")
        return value

    @model_validator(mode="after")
    def _has_content(self) -> ChatRequest:
        if not self.message.strip() and not self.images:
            raise ValueError("message or at least one image is required")
        if self.context:
            raise ValueError("context is not accepted: the bot retrieves context itself")
        return self


class ChatResumeRequest(Request):
    """The session's running (or recently finished) turn, as ``user_id`` (the caller's own
    user when omitted; another user needs an ADMIN caller)."""

    session_id: str
    user_id: str | None = None


class FeedbackRequest(Request):
    session_id: str = Field(min_length=1, max_length=128)
    response_id: str = Field(min_length=1, max_length=128)
    feedback_type: Literal["thumb_up", "thumb_down", "rating"]
    feedback_score: float | None = Field(default=None, ge=1, le=5)
    """Required for ``rating``: 1 (bad) to 5 (excellent)."""
    feedback_reason: str | None = Field(default=None, max_length=200)
    feedback_text: str | None = Field(default=None, max_length=4000)
    channel_id: str | None = Field(default=None, max_length=128)

    @model_validator(mode="after")
    def _score_for_rating(self) -> FeedbackRequest:
        if self.feedback_type == "rating" and self.feedback_score is None:
            raise ValueError("feedback_score (1-5) is required for a rating")
        return self


class ChatResponseRequest(Request):
    response_id: str


class TokenUsage(Result):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class Citation(Result):
    uri: str
    context_type: str = "resource"


class ChatReply(Result):
    """``POST /chat``'s answer (the original's shape plus ``citations``, ``mode``, ``model``
    and ``error``)."""

    session_id: str
    response_id: str
    message: str | None
    events: list[dict[str, Any]] | None = None
    relevant_memories: str | None = None
    token_usage: TokenUsage = Field(default_factory=TokenUsage)
    timestamp: str
    citations: list[Citation] = Field(default_factory=list)
    mode: Literal["llm", "retrieval", "store"] = "llm"
    """``llm``: a model answered; ``retrieval``: no model is configured, the answer lists the
    best contexts; ``store``: ``need_reply`` was false."""
    model: str | None = None
    error: str | None = None


class FeedbackReceipt(Result):
    accepted: bool = True
    response_id: str
    session_id: str
    feedback_type: str
    feedback_delay_sec: float
    timestamp: str


class StoredResponse(OpenResult):
    """A stored answer: its ``chat_responses`` row, with ``citations``, ``token_usage`` and
    ``feedback`` (``None`` until given) decoded."""

    response_id: str
    session_id: str
    message: str = ""
    citations: list[dict[str, Any]] = []
    token_usage: dict[str, Any] = {}
    feedback: dict[str, Any] | None = None


class BotHealth(Result):
    status: str = "healthy"
    version: str
    timestamp: str
    mode: Literal["llm", "retrieval"]
    model: str | None = None
    running_turns: int = 0
    note: str | None = None


OPERATIONS = (
    Operation(
        "chat",
        "chat.chat",
        ChatRequest,
        ChatReply,
        ("message",),
        Route("POST", "/chat", waits=True),
        doc="One whole turn; a failed turn has ``error`` set.",
    ),
    Operation(
        "chat_start",
        "chat.start",
        ChatRequest,
        "TurnStream",
        ("message",),
        Route("POST", "/chat/stream"),
        doc="Store the message and start a turn; the answer is its stream of events "
        "(server-sent events over HTTP, followed by hand on the clients).",
    ),
    Operation(
        "chat_resume",
        "chat.resume",
        ChatResumeRequest,
        "TurnStream",
        ("session_id",),
        Route("GET", "/chat/stream/resume/{session_id}"),
        doc="The session's running (or recently finished) turn stream; ``NOT_FOUND`` when "
        "there is none.",
    ),
    Operation(
        "chat_feedback",
        "chat.feedback",
        FeedbackRequest,
        FeedbackReceipt,
        ("session_id", "response_id", "feedback_type"),
        Route("POST", "/bot/v1/feedback"),
        doc="Thumbs or a rating on an answer (a later one replaces it); ``NOT_FOUND`` for an "
        "unknown answer or one of another session.",
    ),
    Operation(
        "chat_response",
        "chat.response",
        ChatResponseRequest,
        StoredResponse,
        ("response_id",),
        None,
        doc="A stored answer of the caller's user, with its feedback.",
    ),
    Operation(
        "bot_health",
        "chat.health",
        Empty,
        BotHealth,
        (),
        Route("GET", "/bot/v1/health"),
        doc="The bot's mode, model and running turns (``UNAVAILABLE`` over HTTP without the bot).",
    ),
)
