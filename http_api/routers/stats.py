"""Statistics: ``/api/v1/stats`` (seed 000, reference §4.9).

* ``GET /memories?category=`` → ``{total_memories, by_category, hotness_distribution: {cold,
  warm, hot}, staleness: {not_accessed_7d, not_accessed_30d, oldest_memory_age_days}}`` of the
  caller's memories (an unknown category is 400);
* ``GET /sessions/{session_id}`` → ``{session_id, total_turns, message_count, commit_count,
  pending_tokens, last_commit_at, archives, memories_extracted, contexts_used, skills_used}``
  (404 for an unknown session).

Both read the caller's own user space (ROOT has none: 403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from http_api import envelope
from http_api.deps import Caller, Service

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])


@router.get("/memories", summary="Memory health: counts per category, hotness, staleness")
async def memory_stats(
    request: Request,
    service: Service,
    caller: Caller,
    category: Annotated[str | None, Query(description="Only this memory category.")] = None,
) -> JSONResponse:
    return envelope.ok(request, await service.memory_stats(caller, category or None))


@router.get("/sessions/{session_id}", summary="A session's messages, commits and extractions")
async def session_stats(
    session_id: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.session_stats(caller, session_id))
