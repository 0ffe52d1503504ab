"""FastAPI dependencies as ``Annotated`` aliases: the service and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from http_api.auth import authenticate_headers
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.service import ContextService

__all__ = ["Caller", "Service", "get_caller", "get_service"]


def get_service(request: Request) -> ContextService:
    service: ContextService = request.app.state.service
    return service


async def _service(request: Request) -> ContextService:
    """:func:`get_service` as a dependency: ``async``, since FastAPI runs a plain function
    dependency in a worker thread, a hop that costs more than the lookup itself."""
    return get_service(request)


async def get_caller(request: Request) -> RequestContext:
    """Authenticate the request once; the result is kept on ``request.state``.

    The path decides what a ROOT caller may do, and in trusted mode the path and query
    parameters ``account_id``/``user_id`` must match the asserted identity (see
    :mod:`http_api.auth`)."""
    cached: RequestContext | None = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    client = request.client.host if request.client else None
    params = {**request.query_params, **{k: str(v) for k, v in request.path_params.items()}}
    caller = await authenticate_headers(
        get_service(request),
        request.headers,
        client,
        path=request.url.path,
        params=params,
        method=request.method,
    )
    request.state.caller = caller
    return caller


Service = Annotated[ContextService, Depends(_service)]
Caller = Annotated[RequestContext, Depends(get_caller)]
