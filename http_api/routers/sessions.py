"""Sessions: ``/api/v1/sessions`` (create, list, get, config, delete, messages, used, commit,
extract, context, archives and archive retry), the original's routes (§4.7).

The bodies are the operations' requests (:mod:`openviking_mcp.contract.sessions` and
:mod:`openviking_mcp.contract.memory`) without the fields the URL carries. They ignore unknown
fields, as the original's extra ones (``telemetry``, ``memory_policy``...), except the config
``PATCH``, which refuses them as the original does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from http_api import envelope
from http_api.bodies import (
    LENIENT,
    STRICT,
    NonNegativeTimeout,
    PathIgnored,
    PathRefused,
    UpstreamFields,
)
from http_api.deps import Caller, Service
from openviking_mcp.contract import memory as memory_contract
from openviking_mcp.contract import sessions as sessions_contract

__all__ = [
    "AddMessageBody",
    "AddMessagesBody",
    "CommitBody",
    "CreateSessionBody",
    "RecordUsedBody",
    "RetryBody",
    "SessionConfigBody",
    "router",
]

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])


class CreateSessionBody(UpstreamFields, sessions_contract.CreateSessionRequest):
    """Body of ``POST /api/v1/sessions`` (optional)."""

    model_config = LENIENT


class SessionConfigBody(UpstreamFields, sessions_contract.UpdateSessionConfigRequest):
    """Body of ``PATCH /api/v1/sessions/{session_id}/config`` (optional): unknown fields are
    refused, as the original does; a field sent as ``null`` clears that setting."""

    model_config = STRICT
    upstream_ignored = frozenset({"telemetry"})

    session_id: Annotated[PathRefused, Field(exclude=True)] = ""


class AddMessageBody(UpstreamFields, sessions_contract.AddMessageRequest):
    """Body of ``POST /api/v1/sessions/{session_id}/messages``."""

    model_config = LENIENT

    session_id: PathIgnored = ""


class AddMessagesBody(UpstreamFields, sessions_contract.AddMessagesRequest):
    """Body of ``POST /api/v1/sessions/{session_id}/messages/batch``."""

    model_config = LENIENT

    session_id: PathIgnored = ""


class RecordUsedBody(UpstreamFields, sessions_contract.RecordUsedRequest):
    """Body of ``POST /api/v1/sessions/{session_id}/used``."""

    model_config = LENIENT

    session_id: PathIgnored = ""


class CommitBody(UpstreamFields, memory_contract.CommitRequest):
    """Body of ``POST /api/v1/sessions/{session_id}/commit`` (optional)."""

    model_config = LENIENT

    session_id: PathIgnored = ""
    # The route refuses a count outside 0..500 itself (400 on ``body.keep_recent_count``).
    keep_recent_count: int = Field(default=0, ge=0, le=500, description="Messages kept live.")
    timeout: NonNegativeTimeout = None


class RetryBody(UpstreamFields, memory_contract.RetryRequest):
    """Body of ``POST /api/v1/sessions/{session_id}/archives/{archive_id}/retry`` (optional)."""

    model_config = LENIENT

    session_id: PathIgnored = ""
    archive: PathIgnored = ""
    timeout: NonNegativeTimeout = None


@router.post("", summary="Create a session")
async def create_session(
    request: Request, service: Service, caller: Caller, body: CreateSessionBody | None = None
) -> JSONResponse:
    body = body or CreateSessionBody()
    return envelope.ok(request, await service.call(caller, "create_session", body.model_dump()))


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


@router.patch("/{session_id}/config", summary="Change a session's auto-commit and extraction")
async def update_session_config(
    session_id: str,
    request: Request,
    service: Service,
    caller: Caller,
    body: SessionConfigBody | None = None,
) -> JSONResponse:
    fields = body.model_dump(exclude_unset=True) if body is not None else {}
    fields["session_id"] = session_id
    return envelope.ok(request, await service.call(caller, "update_session_config", fields))


@router.delete("/{session_id}", summary="Delete a session")
async def delete_session(
    session_id: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.delete_session(caller, session_id))


@router.post("/{session_id}/messages", summary="Add a message (creates the session)")
async def add_message(
    session_id: str, body: AddMessageBody, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    fields = {**body.model_dump(), "session_id": session_id}
    return envelope.ok(request, await service.call(caller, "add_message", fields))


@router.post("/{session_id}/messages/batch", summary="Add up to 100 messages")
async def add_messages(
    session_id: str, body: AddMessagesBody, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    fields = {**body.model_dump(), "session_id": session_id}
    return envelope.ok(request, await service.call(caller, "add_messages", fields))


@router.post("/{session_id}/used", summary="Record contexts and skills actually used")
async def record_used(
    session_id: str, body: RecordUsedBody, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    fields = {**body.model_dump(), "session_id": session_id}
    return envelope.ok(request, await service.call(caller, "record_used", fields))


@router.post("/{session_id}/commit", summary="Archive the messages and extract memories")
async def commit_session(
    session_id: str,
    request: Request,
    service: Service,
    caller: Caller,
    body: CommitBody | None = None,
) -> JSONResponse:
    body = body or CommitBody()
    fields = {**body.model_dump(), "session_id": session_id}
    return envelope.ok(request, await service.call(caller, "commit_session", fields))


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
    body: RetryBody | None = None,
) -> JSONResponse:
    body = body or RetryBody()
    fields = {**body.model_dump(), "session_id": session_id, "archive": archive_id}
    return envelope.ok(request, await service.call(caller, "retry_archive", fields))
