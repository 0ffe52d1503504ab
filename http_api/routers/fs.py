"""Filesystem: ``/api/v1/fs/ls``, ``/tree``, ``/stat``, ``/mkdir``, ``/mv`` and
``DELETE /api/v1/fs`` (seed 000, §4.3).

Listings default to the ``agent`` form (``{uri, size, isDir, modTime, abstract}``) as the
original's HTTP API does; ``output=original`` gives ``{name, size, mode, modTime, isDir, uri}``.
``limit`` is accepted as an alias of ``node_limit``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from http_api import envelope
from http_api.bodies import LENIENT, UpstreamFields
from http_api.deps import Caller, Service
from openviking_mcp.contract import fs as fs_contract
from openviking_mcp.contract.fs import ListOutput, SortBy, SortOrder

__all__ = ["MkdirBody", "MvBody", "router"]

router = APIRouter(prefix="/api/v1/fs", tags=["fs"])

Uri = Annotated[str, Query(description="A viking:// URI.")]
NodeLimit = Annotated[int | None, Query(description="Most entries returned (default 1000).")]
LimitAlias = Annotated[int | None, Query(description="Alias of node_limit.")]


def _node_limit(node_limit: int | None, limit: int | None) -> int:
    if node_limit is not None:
        return node_limit
    return limit if limit is not None else 1000


class MkdirBody(UpstreamFields, fs_contract.MkdirRequest):
    """Body of ``POST /api/v1/fs/mkdir`` (unknown fields are ignored)."""

    model_config = LENIENT
    upstream_unsupported = frozenset({"acl"})


class MvBody(fs_contract.MvRequest):
    """Body of ``POST /api/v1/fs/mv`` (unknown fields are ignored)."""

    model_config = LENIENT


@router.get("/ls", summary="List a directory")
async def ls(
    request: Request,
    service: Service,
    caller: Caller,
    uri: Uri,
    simple: bool = False,
    recursive: bool = False,
    output: ListOutput = "agent",
    abs_limit: Annotated[int, Query(ge=0)] = 256,
    show_all_hidden: bool = False,
    node_limit: NodeLimit = None,
    limit: LimitAlias = None,
    sort_by: SortBy = "name",
    sort_order: SortOrder = "asc",
) -> JSONResponse:
    """Children of ``uri`` (directories first); ``simple``: URI strings only; ``recursive``:
    the whole tree with ``rel_path``, like ``/tree``."""
    result = await service.ls(
        caller,
        uri,
        simple=simple,
        recursive=recursive,
        output=output,
        abs_limit=abs_limit,
        show_all_hidden=show_all_hidden,
        node_limit=_node_limit(node_limit, limit),
        sort_by=sort_by,
        sort_order=sort_order,
    )
    return envelope.ok(request, result)


@router.get("/tree", summary="Directory tree (entries with rel_path)")
async def tree(
    request: Request,
    service: Service,
    caller: Caller,
    uri: Uri,
    output: ListOutput = "agent",
    abs_limit: Annotated[int, Query(ge=0)] = 256,
    show_all_hidden: bool = False,
    node_limit: NodeLimit = None,
    limit: LimitAlias = None,
    level_limit: int = 3,
) -> JSONResponse:
    result = await service.tree(
        caller,
        uri,
        output=output,
        abs_limit=abs_limit,
        show_all_hidden=show_all_hidden,
        node_limit=_node_limit(node_limit, limit),
        level_limit=level_limit,
    )
    return envelope.ok(request, result)


@router.get("/stat", summary="Status of a file or directory")
async def stat(request: Request, service: Service, caller: Caller, uri: Uri) -> JSONResponse:
    """``{name, size, mode, modTime, isDir, isLocked, uri, context_type}``."""
    return envelope.ok(request, await service.stat(caller, uri))


@router.post("/mkdir", summary="Create a directory (and its parents)")
async def mkdir(
    request: Request, body: MkdirBody, service: Service, caller: Caller
) -> JSONResponse:
    """``{uri}``; an existing path is 409 ``ALREADY_EXISTS``."""
    fields = body.model_dump(include=set(fs_contract.MkdirRequest.model_fields))
    return envelope.ok(request, await service.call(caller, "mkdir", fields))


@router.delete("", summary="Delete a file or directory")
async def rm(
    request: Request,
    service: Service,
    caller: Caller,
    uri: Uri,
    recursive: bool = False,
    wait: Annotated[bool, Query(description="Accepted; removal is synchronous.")] = False,
    timeout: Annotated[float | None, Query(description="Accepted; unused.")] = None,
) -> JSONResponse:
    """``{uri, isDir}``. A directory with content needs ``recursive=true`` (else 412)."""
    return envelope.ok(request, await service.rm(caller, uri, recursive=recursive))


@router.post("/mv", summary="Move or rename")
async def mv(request: Request, body: MvBody, service: Service, caller: Caller) -> JSONResponse:
    """``{from, to}``; a missing source is 404, an existing destination 409."""
    fields = body.model_dump(include=set(fs_contract.MvRequest.model_fields))
    return envelope.ok(request, await service.call(caller, "mv", fields))
