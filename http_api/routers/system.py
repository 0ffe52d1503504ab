"""System: ``/api/v1/system/status``, ``/wait`` and ``/consistency`` (seed 000, §4.1).

``/health`` and ``/ready`` need no authentication and live in :mod:`http_api.app`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from http_api import envelope
from http_api.deps import Caller, Service

__all__ = ["ConsistencyRequest", "WaitRequest", "router"]

router = APIRouter(prefix="/api/v1/system", tags=["system"])


class WaitRequest(BaseModel):
    """Body of ``POST /api/v1/system/wait`` (optional; unknown fields are ignored)."""

    timeout: float | None = Field(
        default=None, gt=0, description="Seconds; absent: wait as long as it takes."
    )


class ConsistencyRequest(BaseModel):
    """Body of ``POST /api/v1/system/consistency`` (unknown fields are ignored)."""

    uri: str = Field(default="viking://", description="Subtree to compare with the index.")


@router.get("/status", summary="System status: {initialized, user}")
async def status(request: Request, service: Service, caller: Caller) -> JSONResponse:
    return envelope.ok(request, {"initialized": service.initialized, "user": caller.user_id})


@router.post("/wait", summary="Wait until all queued processing is done")
async def wait(
    request: Request, service: Service, caller: Caller, body: WaitRequest | None = None
) -> JSONResponse:
    """Waits for every queue in the process (not only the caller's work); a timeout is 504
    ``DEADLINE_EXCEEDED``."""
    timeout = body.timeout if body is not None else None
    return envelope.ok(request, await service.wait_processing(caller, timeout))


@router.post("/consistency", summary="Compare the content tree with the vector index")
async def consistency(
    request: Request, body: ConsistencyRequest, service: Service, caller: Caller
) -> JSONResponse:
    """Result: ``{ok, expected_count, missing_record_count, missing_records (≤20),
    missing_records_truncated}``."""
    return envelope.ok(request, await service.consistency(caller, body.uri))
