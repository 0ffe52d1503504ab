"""The bot routes. Answers are the bot's raw JSON (no envelope), as in the original; errors use
the usual error envelope. Without ``--with-bot`` (``bot.enabled``) every route but the health
check answers 503 ``UNAVAILABLE``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse, StreamingResponse

from http_api.bot.sse import last_event_id, sse_response
from http_api.deps import Caller, get_service
from openviking_mcp.bot.schema import ChatRequest, FeedbackRequest
from openviking_mcp.contract.errors import UnavailableError
from openviking_mcp.service import ContextService

__all__ = ["router"]

router = APIRouter(tags=["bot"])

_DISABLED = "Bot service not enabled. Start server with --with-bot option."


def _enabled_service(service: Annotated[ContextService, Depends(get_service)]) -> ContextService:
    if not service.config.bot.enabled:
        raise UnavailableError(_DISABLED)
    return service


Bot = Annotated[ContextService, Depends(_enabled_service)]
LastEventID = Annotated[str | None, Header(alias="Last-Event-ID")]


@router.get("/bot/v1/health", summary="The bot's health and mode (no auth)")
async def bot_health(svc: Bot) -> dict[str, Any]:
    return svc.bot_health()


@router.post("/chat", summary="Send a message to the bot and get its answer")
@router.post("/bot/v1/chat", summary="Send a message to the bot and get its answer")
async def chat(body: ChatRequest, svc: Bot, caller: Caller) -> JSONResponse:
    reply = await svc.chat(caller, body)
    return JSONResponse(reply)


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
    body: ChatRequest, svc: Bot, caller: Caller, last_event: LastEventID = None
) -> StreamingResponse:
    after = last_event_id(last_event)
    if after is not None and body.session_id:
        # A reconnect (Last-Event-ID): continue the session's turn instead of starting one.
        stream = await svc.chat_resume(caller, body.session_id, user_id=body.user_id)
        return sse_response(stream, after)
    return sse_response(await svc.chat_start(caller, body))


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
    svc: Bot,
    caller: Caller,
    last_index: Annotated[int | None, Query(ge=-1)] = None,
    user_id: str | None = None,
    last_event: LastEventID = None,
) -> StreamingResponse:
    after = last_index if last_index is not None else last_event_id(last_event)
    stream = await svc.chat_resume(caller, session_id, user_id=user_id)
    return sse_response(stream, -1 if after is None else after)


@router.post("/bot/v1/feedback", summary="Thumbs or a rating on an answer")
@router.post("/chat/feedback", summary="Thumbs or a rating on an answer")
async def feedback(body: FeedbackRequest, svc: Bot, caller: Caller) -> JSONResponse:
    return JSONResponse(await svc.chat_feedback(caller, body))
