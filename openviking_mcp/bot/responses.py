"""The bot's answers in the metadata database, and the feedback given on them."""

from __future__ import annotations

import json
import time
from typing import Any

from openviking_mcp.bot.events import now_iso
from openviking_mcp.contract.chat import FeedbackReceipt, FeedbackRequest
from openviking_mcp.contract.errors import NotFoundError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.storage.metadata import Connection, MetadataBackend

__all__ = ["get_response", "save_feedback", "save_response"]


async def save_response(db: MetadataBackend, ctx: RequestContext, reply: dict[str, Any]) -> None:
    """Keep one answer (``ChatReply`` fields) so feedback can be given on it."""

    def write(conn: Connection) -> None:
        conn.execute(
            "INSERT INTO chat_responses (response_id, account_id, user_id, session_id, "
            "created_at, mode, model, message, citations, token_usage, error) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (response_id) DO UPDATE SET "
            "account_id = excluded.account_id, user_id = excluded.user_id, "
            "session_id = excluded.session_id, created_at = excluded.created_at, "
            "mode = excluded.mode, model = excluded.model, message = excluded.message, "
            "citations = excluded.citations, token_usage = excluded.token_usage, "
            "error = excluded.error, feedback = NULL",
            (
                reply["response_id"],
                ctx.account_id,
                ctx.user_id,
                reply["session_id"],
                time.time(),
                reply.get("mode") or "llm",
                reply.get("model"),
                reply.get("message") or "",
                json.dumps(reply.get("citations") or []),
                json.dumps(reply.get("token_usage") or {}),
                reply.get("error"),
            ),
        )

    await db.transaction(write)


async def get_response(
    db: MetadataBackend, ctx: RequestContext, response_id: str
) -> dict[str, Any]:
    """A stored answer of the caller's user; :class:`NotFoundError` otherwise."""
    row = await db.fetchone(
        "SELECT * FROM chat_responses WHERE response_id = ? AND account_id = ? AND user_id = ?",
        (response_id, ctx.account_id, ctx.user_id),
    )
    if row is None:
        raise NotFoundError(response_id, "response")
    item = dict(row)
    item["citations"] = json.loads(item["citations"])
    item["token_usage"] = json.loads(item["token_usage"])
    item["feedback"] = json.loads(item["feedback"]) if item["feedback"] else None
    return item


async def save_feedback(
    db: MetadataBackend, ctx: RequestContext, request: FeedbackRequest
) -> FeedbackReceipt:
    """Store feedback with its answer (a later one replaces it); 404 for an unknown answer or
    one of another session."""
    stored = await get_response(db, ctx, request.response_id)
    if stored["session_id"] != request.session_id:
        raise NotFoundError(request.response_id, "response")
    delay = round(max(0.0, time.time() - float(stored["created_at"])), 3)
    feedback = {
        **request.model_dump(exclude={"session_id", "response_id"}, exclude_none=True),
        "feedback_delay_sec": delay,
        "at": now_iso(),
    }

    def write(conn: Connection) -> None:
        conn.execute(
            "UPDATE chat_responses SET feedback = ? WHERE response_id = ?",
            (json.dumps(feedback), request.response_id),
        )

    await db.transaction(write)
    return FeedbackReceipt(
        response_id=request.response_id,
        session_id=request.session_id,
        feedback_type=request.feedback_type,
        feedback_delay_sec=delay,
        timestamp=feedback["at"],
    )
