"""Routes under ``/api/v1/relations`` (seed 000): list, link and unlink relations.

``GET /api/v1/relations?uri=`` → ``[{uri, reason}]``; ``POST /link`` ``{from_uri, to_uris,
reason}`` → ``{from, to}``; ``DELETE /link`` ``{from_uri, to_uri}`` → ``{from, to, removed}``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from http_api import envelope
from http_api.deps import Caller, Service

__all__ = ["LinkRequest", "UnlinkRequest", "router"]

router = APIRouter(prefix="/api/v1/relations", tags=["relations"])


class LinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_uri: str
    to_uris: str | list[str] = Field(description="One URI or a list of URIs.")
    reason: str = ""


class UnlinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_uri: str
    to_uri: str


@router.get("", summary="Relations of a context")
async def get_relations(
    request: Request,
    service: Service,
    caller: Caller,
    uri: Annotated[str, Query(description="Source URI.")],
) -> JSONResponse:
    return envelope.ok(request, await service.get_relations(caller, uri))


@router.post("/link", summary="Link a context to others")
async def link(
    request: Request, body: LinkRequest, service: Service, caller: Caller
) -> JSONResponse:
    result = await service.link(caller, body.from_uri, body.to_uris, body.reason)
    return envelope.ok(request, result)


@router.delete("/link", summary="Remove a link")
async def unlink(
    request: Request, body: UnlinkRequest, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.unlink(caller, body.from_uri, body.to_uri))
