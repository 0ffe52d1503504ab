"""Filesystem: ``/api/v1/fs/ls``, ``/tree``, ``/stat``, ``/mkdir``, ``/mv``, ``/cp`` and
``DELETE /api/v1/fs``.

Listings default to the ``agent`` form (``{uri, size, isDir, modTime, abstract}``) as the
original's HTTP API does; ``output=original`` gives ``{name, size, mode, modTime, isDir, uri}``.
They are paged: ``offset`` entries are skipped, ``limit`` (which wins over ``node_limit``)
bounds the page, and the envelope carries ``has_more`` next to ``result``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from http_api import envelope
from http_api.bodies import LENIENT, UpstreamFields
from http_api.deps import Caller, Service
from openviking_mcp.contract import fs as fs_contract
from openviking_mcp.contract.base import parse_request, to_wire
from openviking_mcp.contract.fs import ListOutput, SortBy, SortOrder

__all__ = ["CpBody", "MkdirBody", "MvBody", "router"]

router = APIRouter(prefix="/api/v1/fs", tags=["fs"])

_NOT_FIELDS = frozenset({"request", "service", "caller"})

Uri = Annotated[str, Query(description="A viking:// URI.")]
NodeLimit = Annotated[int, Query(description="Most entries returned.")]
LimitAlias = Annotated[
    int | None, Query(description="Most entries returned; wins over node_limit.")
]
Offset = Annotated[int, Query(description="Visible entries skipped first.")]
Names = Annotated[list[str] | None, Query(description="Repeatable.")]


class MkdirBody(UpstreamFields, fs_contract.MkdirRequest):
    """Body of ``POST /api/v1/fs/mkdir`` (unknown fields are ignored)."""

    model_config = LENIENT
    upstream_unsupported = frozenset({"acl"})


class MvBody(UpstreamFields, fs_contract.MvRequest):
    """Body of ``POST /api/v1/fs/mv`` (unknown fields are ignored)."""

    model_config = LENIENT


class CpBody(UpstreamFields, fs_contract.CpRequest):
    """Body of ``POST /api/v1/fs/cp`` (unknown fields are ignored)."""

    model_config = LENIENT


def _listing(request: Request, listing: fs_contract.ListingPage) -> JSONResponse:
    """A listing's envelope: its entries as ``result``, ``has_more`` next to it."""
    result = to_wire(listing.result)
    return envelope.ok(request, result, top_level={"has_more": listing.has_more})


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
    include_abstract: bool | None = None,
    include_overview: bool | None = None,
    overview_limit: int = 4000,
    show_all_hidden: bool = False,
    node_limit: NodeLimit = 1000,
    offset: Offset = 0,
    limit: LimitAlias = None,
    sort_by: SortBy = "name",
    sort_order: SortOrder = "asc",
    extra_fields: Names = None,
    tags: Names = None,
    include_tags: bool = False,
) -> JSONResponse:
    """Children of ``uri`` (directories first), ``offset`` skipped, at most ``limit`` (or
    ``node_limit``); ``has_more`` (top level) tells whether more follow. ``simple``: URI
    strings only; ``recursive``: the whole tree with ``rel_path``, like ``/tree``."""
    fields = {k: v for k, v in locals().items() if k not in _NOT_FIELDS}
    req = parse_request(fs_contract.LsRequest, fields)
    return _listing(request, await service.fs.ls_page(caller, req))


@router.get("/tree", summary="Directory tree (entries with rel_path)")
async def tree(
    request: Request,
    service: Service,
    caller: Caller,
    uri: Uri,
    output: ListOutput = "agent",
    abs_limit: Annotated[int, Query(ge=0)] = 256,
    include_abstract: bool | None = None,
    include_overview: bool | None = None,
    overview_limit: int = 4000,
    show_all_hidden: bool = False,
    directories_only: bool = False,
    node_limit: NodeLimit = 1000,
    offset: Offset = 0,
    limit: LimitAlias = None,
    level_limit: int = 3,
    extra_fields: Names = None,
    tags: Names = None,
    include_tags: bool = False,
) -> JSONResponse:
    """Descendants of ``uri`` depth-first, paged as ``/ls`` is."""
    fields = {k: v for k, v in locals().items() if k not in _NOT_FIELDS}
    req = parse_request(fs_contract.TreeRequest, fields)
    return _listing(request, await service.fs.tree_page(caller, req))


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


@router.post("/cp", summary="Copy a file or directory")
async def cp(request: Request, body: CpBody, service: Service, caller: Caller) -> JSONResponse:
    """``{from, to, recursive, operation, phase, files_created, semantic_status?, task_id?}``;
    a directory needs ``recursive`` (else 400), a missing source is 404, an existing
    destination 409, a copy into itself 400."""
    fields = body.model_dump(include=set(fs_contract.CpRequest.model_fields))
    return envelope.ok(request, await service.call(caller, "cp", fields))
