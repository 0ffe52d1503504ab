"""The session tools: ``create_session``, ``add_message``, ``commit_session`` and ``remember``.

``remember`` is the original's one-shot tool: it stores a few messages in a fresh session
``mcp-store-{12hex}`` and commits it, so their memories are extracted in the background.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.mcp_server._runtime import Runtime
from openviking_mcp.mcp_server.tools._common import ToolRegistry, run_tool

__all__ = [
    "AddMessageResult",
    "CommitResult",
    "RememberMessage",
    "RememberResult",
    "SessionResult",
    "add_message",
    "commit_session",
    "create_session",
    "register",
    "remember",
]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class SessionResult(_Open):
    session_id: str
    uri: str
    message_count: int = 0


class AddMessageResult(_Open):
    session_id: str
    message_count: int
    pending_tokens: int = 0


class CommitResult(_Open):
    session_id: str
    status: str = Field(description="accepted or skipped")
    task_id: str = Field(default="", description="the memory-extraction task (phase 2)")
    archive_uri: str = ""
    archived: bool = False
    reason: str = Field(default="", description="why nothing was archived, when skipped")
    message_count: int = Field(default=0, description="messages archived")


class RememberResult(CommitResult):
    stored: int = 0


class RememberMessage(BaseModel):
    role: Literal["user", "assistant"] = Field(description="Who said it: user or assistant.")
    content: str = Field(min_length=1, description="The message text.")


_WRITE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)
SessionId = Annotated[str, Field(description="The session's id (see create_session).")]


def _clean(result: dict[str, Any]) -> dict[str, Any]:
    """A service result without ``None`` values (the output schema has no nulls)."""
    return {k: v for k, v in result.items() if v is not None}


def _commit_text(result: dict[str, Any]) -> str:
    sid = result["session_id"]
    if result["status"] != "accepted":
        reason = str(result.get("reason") or "nothing to archive").replace("_", " ")
        return f"Nothing to commit in session {sid} ({reason})."
    text = f"Committed {result['message_count']} message(s) of session {sid}: archive "
    text += str(result["archive_uri"])
    task_id = result.get("task_id")
    if not task_id:
        return text + "; memory extraction is not available on this server."
    status = result.get("task_status")
    if status == "completed":
        return text + f"; memories were extracted (task {task_id})."
    if status in ("failed", "cancelled"):
        return text + f"; memory extraction {status} (task {task_id}): {result.get('error', '')}"
    return text + f"; memories are being extracted (task {task_id})."


async def create_session(
    ctx: Context,
    session_id: Annotated[
        str, Field(description="An id of your choice (letters, digits, - _ . @); empty: new.")
    ] = "",
) -> Annotated[CallToolResult, SessionResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, SessionResult]:
        result = await rt.service.create_session(caller, session_id or None)
        text = f"Created session {result['session_id']} ({result['uri']})."
        return text, SessionResult.model_validate(_clean(result))

    return await run_tool(ctx, run)


async def add_message(
    session_id: SessionId,
    role: Annotated[
        Literal["user", "assistant"], Field(description="Who said it: user or assistant.")
    ],
    content: Annotated[str, Field(description="The message text.")],
    ctx: Context,
) -> Annotated[CallToolResult, AddMessageResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, AddMessageResult]:
        result = await rt.service.add_message(caller, session_id, role, content)
        text = (
            f"Added a {role} message to session {result['session_id']} "
            f"({result['message_count']} live message(s), "
            f"~{result['pending_tokens']} pending tokens)."
        )
        auto = result.get("auto_commit")
        if isinstance(auto, dict) and auto.get("status") == "accepted":
            text += "\nAuto-commit: " + _commit_text(auto)
        return text, AddMessageResult.model_validate(_clean(result))

    return await run_tool(ctx, run)


async def commit_session(
    session_id: SessionId,
    ctx: Context,
    keep_recent_count: Annotated[
        int, Field(ge=0, le=500, description="Newest messages to keep live (not archived).")
    ] = 0,
    wait: Annotated[bool, Field(description="Wait until memories are extracted.")] = False,
) -> Annotated[CallToolResult, CommitResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, CommitResult]:
        result = await rt.service.commit_session(
            caller, session_id, keep_recent_count=keep_recent_count, wait=wait
        )
        return _commit_text(result), CommitResult.model_validate(_clean(result))

    return await run_tool(ctx, run)


async def remember(
    messages: Annotated[
        list[RememberMessage],
        Field(min_length=1, max_length=100, description="The messages to remember, in order."),
    ],
    ctx: Context,
) -> Annotated[CallToolResult, RememberResult]:
    async def run(rt: Runtime, caller: RequestContext) -> tuple[str, RememberResult]:
        result = await rt.service.remember(caller, [m.model_dump() for m in messages])
        text = f"Stored {len(messages)} message(s) and committed for memory extraction."
        model = RememberResult.model_validate({**_clean(result), "stored": len(messages)})
        return text, model

    return await run_tool(ctx, run)


def register(tools: ToolRegistry) -> None:
    tools.add(
        create_session,
        "create_session",
        _WRITE,
        "Start a conversation session. Record its messages with add_message, then call "
        "commit_session so long-term memories are extracted from them. Leave session_id "
        "empty to get a generated id.",
    )
    tools.add(
        add_message,
        "add_message",
        _WRITE,
        "Add one message (from the user or the assistant) to a session; the session is "
        "created if it does not exist yet. Commit the session later with commit_session.",
    )
    tools.add(
        commit_session,
        "commit_session",
        _WRITE,
        "Commit a session: its messages (except the keep_recent_count newest) are archived "
        "and long-term memories (preferences, facts, events...) are extracted from them in "
        "the background; wait=true waits for the extraction.",
    )
    tools.add(
        remember,
        "remember",
        _WRITE,
        "Store a few conversation messages as long-term memory in one step: they go into "
        "a new session that is committed at once, and memories are extracted from them in "
        "the background (find them later with find or search).",
    )
