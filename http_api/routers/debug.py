"""Routes under ``/api/v1/debug``: a health summary and raw search-index rows.

``/vector/scroll`` pages rows in id order (``cursor`` is the previous page's ``next_cursor``)
without their vectors unless ``with_vector=true``; ``/vector/count`` counts rows matching a
JSON ``filter`` (see :mod:`openviking_mcp.debug.filters`). Both only show rows the caller may
read; ROOT sees every account, or one with ``account_id``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from http_api import envelope
from http_api.deps import Caller, Service

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/debug", tags=["debug"])


@router.get("/health", summary="Health plus readiness checks")
async def health(request: Request, service: Service, caller: Caller) -> JSONResponse:
    """``{status, healthy, version, auth_mode, ready, checks}``; ``healthy`` is readiness."""
    ready = await service.ready()
    result = {
        **service.health(),
        "healthy": ready["status"] == "ready",
        "ready": ready["status"],
        "checks": ready.get("checks", {}),
    }
    return envelope.ok(request, result)


@router.get("/vector/scroll", summary="Page through search-index rows")
async def vector_scroll(
    request: Request,
    service: Service,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    uri: Annotated[str | None, Query(description="Only rows at or below this URI")] = None,
    account_id: Annotated[str | None, Query(description="ROOT: one account")] = None,
    context_type: Annotated[str | None, Query()] = None,
    level: Annotated[int | None, Query(ge=0, le=2)] = None,
    with_vector: bool = False,
) -> JSONResponse:
    result = await service.vector_scroll(
        caller,
        uri=uri,
        limit=limit,
        cursor=cursor,
        account_id=account_id,
        context_type=context_type,
        level=level,
        with_vector=with_vector,
    )
    return envelope.ok(request, result)


@router.get("/vector/count", summary="Count search-index rows")
async def vector_count(
    request: Request,
    service: Service,
    caller: Caller,
    filter_json: Annotated[str | None, Query(alias="filter", description="JSON filter")] = None,
    uri: Annotated[str | None, Query(description="Only rows at or below this URI")] = None,
    account_id: Annotated[str | None, Query(description="ROOT: one account")] = None,
) -> JSONResponse:
    result = await service.vector_count(
        caller, filter_json=filter_json, uri=uri, account_id=account_id
    )
    return envelope.ok(request, result)
