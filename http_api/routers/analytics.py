"""Usage analytics: ``/api/v1/analytics`` (docs/analytics.md).

* ``GET /top-accessed?days&limit&by`` → ``{contexts: [{uri, reads, hits, last_access}]}``;
* ``GET /stale?days&limit`` → ``{contexts: [{uri, last_access, modified}], scanned}``;
* ``GET /queries?days&limit`` → ``{queries: [{time, user_id, surface, operation, query,
  hit_count, best_score}]}``, newest first;
* ``GET /gaps?days&limit&threshold`` → ``{gaps: [{query, count, queries, best_score,
  last_asked}], threshold}``;
* ``GET /by-channel?days&limit`` → ``{channels: [{surface, reads, queries, changes}]}``.

ADMIN reads its account, ROOT any account (``account_id``); a USER gets 403.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from http_api import envelope
from http_api.deps import Caller, Service

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

_Days = Annotated[float, Query(gt=0, le=3650, description="Window: the last N days.")]
_Limit = Annotated[int, Query(ge=1, le=1000, description="Most rows.")]
_Account = Annotated[str | None, Query(description="ROOT only: another account.")]


def _fields(days: float, limit: int, account_id: str | None, **more: Any) -> dict[str, Any]:
    given = {"days": days, "limit": limit, "account_id": account_id, **more}
    return {k: v for k, v in given.items() if v is not None}


@router.get("/top-accessed", summary="Contexts read or found most")
async def top_accessed(
    request: Request,
    service: Service,
    caller: Caller,
    days: _Days = 30.0,
    limit: _Limit = 20,
    by: Annotated[str, Query(description="total, reads or hits.")] = "total",
    account_id: _Account = None,
) -> JSONResponse:
    fields = _fields(days, limit, account_id, by=by)
    return envelope.ok(request, await service.call(caller, "analytics_top_accessed", fields))


@router.get("/stale", summary="Resources not read or found for N days")
async def stale(
    request: Request,
    service: Service,
    caller: Caller,
    days: _Days = 30.0,
    limit: _Limit = 20,
    account_id: _Account = None,
) -> JSONResponse:
    fields = _fields(days, limit, account_id)
    return envelope.ok(request, await service.call(caller, "analytics_stale", fields))


@router.get("/queries", summary="Recent searches with hit counts and best scores")
async def queries(
    request: Request,
    service: Service,
    caller: Caller,
    days: _Days = 30.0,
    limit: _Limit = 20,
    account_id: _Account = None,
) -> JSONResponse:
    fields = _fields(days, limit, account_id)
    return envelope.ok(request, await service.call(caller, "analytics_queries", fields))


@router.get("/gaps", summary="Missed searches grouped by topic")
async def gaps(
    request: Request,
    service: Service,
    caller: Caller,
    days: _Days = 30.0,
    limit: _Limit = 20,
    threshold: Annotated[float, Query(description="Missed under this best score.")] = 0.3,
    account_id: _Account = None,
) -> JSONResponse:
    fields = _fields(days, limit, account_id, threshold=threshold)
    return envelope.ok(request, await service.call(caller, "analytics_gaps", fields))


@router.get("/by-channel", summary="Reads, searches and changes per surface")
async def by_channel(
    request: Request,
    service: Service,
    caller: Caller,
    days: _Days = 30.0,
    limit: _Limit = 20,
    account_id: _Account = None,
) -> JSONResponse:
    fields = _fields(days, limit, account_id)
    return envelope.ok(request, await service.call(caller, "analytics_by_channel", fields))
