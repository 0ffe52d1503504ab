"""Request and response bodies of the bot endpoints (the original's field names)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from openviking_mcp.bot.images import ChatImage

__all__ = [
    "BOT_TOOLS",
    "ChatReply",
    "ChatRequest",
    "Citation",
    "FeedbackReceipt",
    "FeedbackRequest",
    "TokenUsage",
]

#: The store tools the agent may call (``disabled_tools`` names some of them).
BOT_TOOLS = ("find", "search", "read", "list", "grep", "remember")


class ChatRequest(BaseModel):
    """``POST /chat``: a message (or images) for the session's next turn."""

    model_config = ConfigDict(extra="forbid")

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


class TokenUsage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class Citation(BaseModel):
    uri: str
    context_type: str = "resource"


class ChatReply(BaseModel):
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


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

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


class FeedbackReceipt(BaseModel):
    accepted: bool = True
    response_id: str
    session_id: str
    feedback_type: str
    feedback_delay_sec: float
    timestamp: str
