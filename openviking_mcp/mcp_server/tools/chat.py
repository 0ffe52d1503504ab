"""The ``chat`` tool: ask VikingBot, the store's own assistant (registered when the bot is on).

An agent delegates a research question: the bot searches and reads the store in its own
context and returns a short answer with the ``viking://`` URIs it used, which keeps the
calling agent's context small. A ``session_id`` keeps a conversation with the bot.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from openviking_mcp.contract.base import parse_request
from openviking_mcp.contract.chat import ChatRequest
from openviking_mcp.contract.errors import ProcessingError, UnavailableError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.mcp_server._runtime import Runtime
from openviking_mcp.mcp_server.tools._common import ToolRegistry, run_tool

__all__ = ["ChatResult", "chat", "register"]


class _Citation(BaseModel):
    uri: str
    context_type: str = "resource"


class ChatResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    answer: str
    citations: list[_Citation] = Field(default_factory=list)
    session_id: str
    response_id: str
    mode: str


def _answer(reply: dict[str, Any]) -> tuple[str, ChatResult]:
    """The tool's text (the answer, its sources and the session) and structured result."""
    if reply.get("error"):
        raise ProcessingError(
            f"The bot could not answer: {reply['error']}",
            {"session_id": reply["session_id"], "response_id": reply["response_id"]},
        )
    answer = str(reply["message"] or "")
    text = answer
    if reply["citations"]:
        text += "\n\nSources:\n" + "\n".join(f"- {c['uri']}" for c in reply["citations"])
    text += f"\n\n(session_id: {reply['session_id']})"
    result = ChatResult(
        answer=answer,
        citations=[_Citation(**c) for c in reply["citations"]],
        session_id=reply["session_id"],
        response_id=reply["response_id"],
        mode=reply["mode"],
    )
    return text, result


async def chat(
    message: Annotated[str, Field(min_length=1, description="The question or request.")],
    ctx: Context,
    session_id: Annotated[
        str, Field(description="Continue this chat session (empty: start a new one).")
    ] = "",
) -> Annotated[CallToolResult, ChatResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, ChatResult]:
        if rt.chat is None:
            raise UnavailableError("The bot is not running on this server")
        body = {"message": message, "session_id": session_id or None}
        reply = await rt.chat.chat(caller, parse_request(ChatRequest, body))
        return _answer(reply.wire())

    return await run_tool(ctx, run)


def register(tools: ToolRegistry) -> None:
    tools.add(
        chat,
        "chat",
        ToolAnnotations(
            read_only_hint=False,
            destructive_hint=False,
            idempotent_hint=False,
            open_world_hint=False,
        ),
        "Ask VikingBot, this store's own assistant: it searches and reads memories, "
        "resources and skills itself and answers with the viking:// URIs it used. Use it "
        "to delegate a research question over the store and keep your own context small; "
        "pass the returned session_id to continue the conversation (turns are recorded in "
        "that session, so committing it extracts memories). Without a configured model it "
        "lists the most relevant contexts instead of writing an answer.",
    )
