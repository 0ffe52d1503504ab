"""Sessions: ``/api/v1/sessions`` (create, list, get, delete, messages, used, commit, extract,
context, archives and archive retry), the original's routes (§4.7).

Bodies accept the original's extra fields (``telemetry``, ``memory_policy``...) and ignore them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from http_api import envelope
from http_api.deps import Caller, Service

__all__ = [
    "AddMessageRequest",
    "BatchMessagesRequest",
    "CommitRequest",
    "CreateSessionRequest",
    "RetryRequest",
    "UsedRequest",
    "router",
]

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])


class CreateSessionRequest(BaseModel):
    session_id: str | None = Field(default=None, description="Empty: a generated id.")
    auto_commit_policy: dict[str, Any] | None = Field(
        default=None,
        description="{message_count_threshold, pending_token_threshold, idle_timeout_seconds, "
        "keep_recent_count, min_commit_interval_seconds}; absent: no auto-commit.",
    )


class AddMessageRequest(BaseModel):
    role: str = Field(description="user, assistant, system or tool.")
    content: str | None = None
    parts: list[dict[str, Any]] | None = Field(
        default=None, description="text, context, tool and image_url parts; wins over content."
    )
    peer_id: str | None = None
    turn_id: str | None = None
    created_at: str | None = None


class BatchMessagesRequest(BaseModel):
    messages: list[dict[str, Any]] = Field(description="Up to 100 messages.")


class UsedRequest(BaseModel):
    contexts: list[str] | None = None
    skill: dict[str, Any] | None = Field(default=None, description="{uri, input, output, success}")


class CommitRequest(BaseModel):
    keep_recent_count: int = Field(default=0, ge=0, le=500)
    wait: bool = False
    timeout: float | None = Field(default=None, ge=0)


class RetryRequest(BaseModel):
    wait: bool = False
    timeout: float | None = Field(default=None, ge=0)


@router.post("", summary="Create a session")
async def create_session(
    request: Request, service: Service, caller: Caller, body: CreateSessionRequest | None = None
) -> JSONResponse:
    body = body or CreateSessionRequest()
    result = await service.create_session(
        caller, body.session_id, auto_commit_policy=body.auto_commit_policy
    )
    return envelope.ok(request, result)


@router.get("", summary="List sessions, newest first")
async def list_sessions(request: Request, service: Service, caller: Caller) -> JSONResponse:
    return envelope.ok(request, await service.list_sessions(caller))


@router.get("/{session_id}", summary="A session's metadata")
async def get_session(
    session_id: str,
    request: Request,
    service: Service,
    caller: Caller,
    auto_create: bool = Query(default=False),
) -> JSONResponse:
    result = await service.get_session(caller, session_id, auto_create=auto_create)
    return envelope.ok(request, result)


@router.delete("/{session_id}", summary="Delete a session")
async def delete_session(
    session_id: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.delete_session(caller, session_id))


@router.post("/{session_id}/messages", summary="Add a message (creates the session)")
async def add_message(
    session_id: str, body: AddMessageRequest, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    result = await service.add_message(
        caller,
        session_id,
        body.role,
        body.content,
        body.parts,
        peer_id=body.peer_id,
        turn_id=body.turn_id,
        created_at=body.created_at,
    )
    return envelope.ok(request, result)


@router.post("/{session_id}/messages/batch", summary="Add up to 100 messages")
async def add_messages(
    session_id: str,
    body: BatchMessagesRequest,
    request: Request,
    service: Service,
    caller: Caller,
) -> JSONResponse:
    return envelope.ok(request, await service.add_messages(caller, session_id, body.messages))


@router.post("/{session_id}/used", summary="Record contexts and skills actually used")
async def record_used(
    session_id: str, body: UsedRequest, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    result = await service.record_used(caller, session_id, body.contexts, body.skill)
    return envelope.ok(request, result)


@router.post("/{session_id}/commit", summary="Archive the messages and extract memories")
async def commit_session(
    session_id: str,
    request: Request,
    service: Service,
    caller: Caller,
    body: CommitRequest | None = None,
) -> JSONResponse:
    body = body or CommitRequest()
    result = await service.commit_session(
        caller,
        session_id,
        keep_recent_count=body.keep_recent_count,
        wait=body.wait,
        timeout=body.timeout,
    )
    return envelope.ok(request, result)


@router.post("/{session_id}/extract", summary="Extract memories without archiving")
async def extract(
    session_id: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.extract(caller, session_id))


@router.get("/{session_id}/context", summary="Session context within a token budget")
async def session_context(
    session_id: str,
    request: Request,
    service: Service,
    caller: Caller,
    token_budget: int = Query(default=128_000),
) -> JSONResponse:
    result = await service.session_context(caller, session_id, token_budget)
    return envelope.ok(request, result)


@router.get("/{session_id}/archives", summary="The session's archives")
async def list_archives(
    session_id: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.list_archives(caller, session_id))


@router.get("/{session_id}/archives/{archive_id}", summary="One archive with its status")
async def get_archive(
    session_id: str, archive_id: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.get_archive(caller, session_id, archive_id))


@router.post("/{session_id}/archives/{archive_id}/retry", summary="Run phase 2 again")
async def retry_archive(
    session_id: str,
    archive_id: str,
    request: Request,
    service: Service,
    caller: Caller,
    body: RetryRequest | None = None,
) -> JSONResponse:
    body = body or RetryRequest()
    result = await service.retry_archive(
        caller, session_id, archive_id, wait=body.wait, timeout=body.timeout
    )
    return envelope.ok(request, result)
