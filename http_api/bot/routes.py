"""The bot routes. Answers are the bot's raw JSON (no envelope), as in the original; errors use
the usual error envelope. Without ``--with-bot`` (``bot.enabled``) every route but the health
check answers 503 ``UNAVAILABLE``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ConfigDict

from http_api.bot.sse import last_event_id, sse_response
from http_api.deps import Caller
from openviking_mcp.bot.service import ChatService
from openviking_mcp.contract import chat as contract
from openviking_mcp.contract.base import parse_request
from openviking_mcp.contract.chat import ChatResumeRequest
from openviking_mcp.contract.errors import UnavailableError

__all__ = ["router"]

router = APIRouter(tags=["bot"])

_DISABLED = "Bot service not enabled. Start server with --with-bot option."


# The contract's models defer building their validators, which FastAPI's body fields do not
# support (it warns that the body's alias has no effect): the bodies are built subclasses.
class ChatRequest(contract.ChatRequest):
    model_config = ConfigDict(defer_build=False)


class FeedbackRequest(contract.FeedbackRequest):
    model_config = ConfigDict(defer_build=False)


def _enabled_chat(request: Request) -> ChatService:
    """The app's chat service (see :func:`http_api.create_app`), if the bot is on."""
    chat: ChatService = request.app.state.chat
    if not request.app.state.service.config.bot.enabled:
        raise UnavailableError(_DISABLED)
    return chat


Bot = Annotated[ChatService, Depends(_enabled_chat)]
LastEventID = Annotated[str | None, Header(alias="Last-Event-ID")]


@router.get("/bot/v1/health", summary="The bot's health and mode (no auth)")
async def bot_health(bot: Bot) -> dict[str, Any]:
    return bot.status().wire()


@router.post("/chat", summary="Send a message to the bot and get its answer")
@router.post("/bot/v1/chat", summary="Send a message to the bot and get its answer")
async def chat(body: ChatRequest, bot: Bot, caller: Caller) -> JSONResponse:
    reply = await bot.chat(caller, body)
    return JSONResponse(reply.wire())


@router.post(
    "/chat/stream",
    summary="Send a message and stream the answer as server-sent events",
    response_class=StreamingResponse,
)
@router.post(
    "/bot/v1/chat/stream",
    summary="Send a message and stream the answer as server-sent events",
    response_class=StreamingResponse,
)
async def chat_stream(
    body: ChatRequest, bot: Bot, caller: Caller, last_event: LastEventID = None
) -> StreamingResponse:
    after = last_event_id(last_event)
    if after is not None and body.session_id:
        # A reconnect (Last-Event-ID): continue the session's turn instead of starting one.
        resume = ChatResumeRequest(session_id=body.session_id, user_id=body.user_id)
        return sse_response(await bot.resume(caller, resume), after)
    return sse_response(await bot.start(caller, body))


@router.get(
    "/chat/stream/resume/{session_id}",
    summary="Resume a chat stream after the event last_index (or Last-Event-ID)",
    response_class=StreamingResponse,
)
@router.get(
    "/bot/v1/chat/stream/resume/{session_id}",
    summary="Resume a chat stream after the event last_index (or Last-Event-ID)",
    response_class=StreamingResponse,
)
async def chat_resume(
    session_id: str,
    bot: Bot,
    caller: Caller,
    last_index: Annotated[int | None, Query(ge=-1)] = None,
    user_id: str | None = None,
    last_event: LastEventID = None,
) -> StreamingResponse:
    after = last_index if last_index is not None else last_event_id(last_event)
    resume = parse_request(ChatResumeRequest, {"session_id": session_id, "user_id": user_id})
    stream = await bot.resume(caller, resume)
    return sse_response(stream, -1 if after is None else after)


@router.post("/bot/v1/feedback", summary="Thumbs or a rating on an answer")
@router.post("/chat/feedback", summary="Thumbs or a rating on an answer")
async def feedback(body: FeedbackRequest, bot: Bot, caller: Caller) -> JSONResponse:
    return JSONResponse((await bot.feedback(caller, body)).wire())
