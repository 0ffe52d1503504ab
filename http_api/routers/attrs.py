"""Attributes: ``GET /api/v1/fs/attrs`` and ``POST /api/v1/fs/attrs/set_tags``.

``attrs`` answers ``{uri, context_type, attrs: {tags, memory?}}``: the path's explicit ``k=v``
retrieval tags and, for a memory file, the fields of its fields block. ``attrs/set_tags`` is
the same operation as ``POST /api/v1/content/set_tags`` (the SDK calls this one).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from http_api import envelope
from http_api.deps import Caller, Service
from http_api.routers.content import SetTagsBody
from openviking_mcp.contract import tags as tags_contract

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/fs", tags=["fs"])


@router.get("/attrs", summary="The attributes of a path: its tags (and a memory's fields)")
async def attrs(
    request: Request,
    service: Service,
    caller: Caller,
    uri: Annotated[str, Query(description="A viking:// URI.")],
) -> JSONResponse:
    return envelope.ok(request, await service.attrs(caller, uri))


@router.post("/attrs/set_tags", summary="Set the k=v retrieval tags of a file or directory")
async def attrs_set_tags(
    request: Request, body: SetTagsBody, service: Service, caller: Caller
) -> JSONResponse:
    """As ``POST /api/v1/content/set_tags``."""
    fields = body.model_dump(include=set(tags_contract.SetTagsRequest.model_fields))
    return envelope.ok(request, await service.call(caller, "set_tags", fields))
