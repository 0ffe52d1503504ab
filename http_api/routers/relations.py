"""Routes under ``/api/v1/relations`` (seed 000): list, link and unlink relations.

``GET /api/v1/relations?uri=`` → ``[{uri, reason}]``; ``POST /link`` ``{from_uri, to_uris,
reason}`` → ``{from, to}``; ``DELETE /link`` ``{from_uri, to_uri}`` → ``{from, to, removed}``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from http_api import envelope
from http_api.bodies import STRICT
from http_api.deps import Caller, Service
from openviking_mcp.contract import relations as relations_contract

__all__ = ["LinkBody", "UnlinkBody", "router"]

router = APIRouter(prefix="/api/v1/relations", tags=["relations"])


class LinkBody(relations_contract.LinkRequest):
    """Body of ``POST /api/v1/relations/link`` (unknown fields are refused)."""

    model_config = STRICT


class UnlinkBody(relations_contract.UnlinkRequest):
    """Body of ``DELETE /api/v1/relations/link`` (unknown fields are refused)."""

    model_config = STRICT


@router.get("", summary="Relations of a context")
async def get_relations(
    request: Request,
    service: Service,
    caller: Caller,
    uri: Annotated[str, Query(description="Source URI.")],
) -> JSONResponse:
    return envelope.ok(request, await service.get_relations(caller, uri))


@router.post("/link", summary="Link a context to others")
async def link(request: Request, body: LinkBody, service: Service, caller: Caller) -> JSONResponse:
    fields = body.model_dump(include=set(relations_contract.LinkRequest.model_fields))
    return envelope.ok(request, await service.call(caller, "link", fields))


@router.delete("/link", summary="Remove a link")
async def unlink(
    request: Request, body: UnlinkBody, service: Service, caller: Caller
) -> JSONResponse:
    fields = body.model_dump(include=set(relations_contract.UnlinkRequest.model_fields))
    return envelope.ok(request, await service.call(caller, "unlink", fields))
