"""Content: ``/api/v1/content/read``, ``/abstract``, ``/overview``, ``/level``, ``/download``,
``/write``, ``/batch-write``, ``/edit``, ``/set_tags`` and ``/reindex``.

``read``, ``abstract`` and ``overview`` answer with a string; ``download`` with the file's exact
bytes (``application/octet-stream``, ``Content-Disposition: attachment; filename*=UTF-8''…``).
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from http_api import envelope
from http_api.bodies import STRICT, PositiveTimeout, UpstreamFields
from http_api.deps import Caller, Service
from openviking_mcp.contract import content as content_contract
from openviking_mcp.contract import resources as resources_contract
from openviking_mcp.contract import tags as tags_contract
from openviking_mcp.contract.content import Level
from openviking_mcp.contract.errors import InvalidArgumentError, UnimplementedError
from openviking_mcp.contract.resources import ProcessingMode

__all__ = [
    "BatchWriteBody",
    "EditBody",
    "ReindexBody",
    "SetTagsBody",
    "WriteBody",
    "router",
]

router = APIRouter(prefix="/api/v1/content", tags=["content"])

Uri = Annotated[str, Query(description="A viking:// URI.")]
#: The reindex modes the route takes: the operation's, and ``prune_orphans``.
ReindexMode = Literal["vectors_only", "semantic_and_vectors", "prune_orphans"]
#: The routes refuse a timeout that is not positive (400 on ``body.timeout``).


class WriteBody(UpstreamFields, content_contract.WriteRequest):
    """Body of ``POST /api/v1/content/write`` (unknown fields are refused)."""

    model_config = STRICT
    upstream_ignored = frozenset({"edit_source", "tag_mode", "tags", "telemetry"})
    upstream_unsupported = frozenset({"acl"})

    timeout: PositiveTimeout = None
    # Accepted for compatibility; the file's tiers and vectors are refreshed either way.
    processing_mode: ProcessingMode = Field(
        default="semantic_and_vectors",
        description="Accepted for compatibility; the file's tiers and vectors are refreshed.",
    )


class BatchOperationBody(UpstreamFields, content_contract.BatchWriteOperation):
    """One operation of ``POST /api/v1/content/batch-write`` (unknown fields are refused)."""

    model_config = STRICT
    upstream_unsupported = frozenset({"acl"})


class BatchWriteBody(UpstreamFields, content_contract.BatchWriteRequest):
    """Body of ``POST /api/v1/content/batch-write`` (unknown fields are refused)."""

    model_config = STRICT
    upstream_ignored = frozenset({"edit_source", "processing_mode", "telemetry"})
    upstream_unsupported = frozenset({"defer_processing", "skip_conflicts"})

    operations: list[BatchOperationBody]  # type: ignore[assignment]  # the stricter items
    timeout: PositiveTimeout = None


class SetTagsBody(UpstreamFields, tags_contract.SetTagsRequest):
    """Body of ``POST /api/v1/content/set_tags`` and ``/api/v1/fs/attrs/set_tags``."""

    model_config = STRICT
    upstream_ignored = frozenset({"telemetry"})


class EditBody(content_contract.EditRequest):
    """Body of ``POST /api/v1/content/edit`` (this project's route, as the MCP ``edit`` tool;
    unknown fields are refused)."""

    model_config = STRICT

    # The route refuses an empty ``old_string`` (400 on ``body.old_string``).
    old_string: str = Field(min_length=1)
    timeout: PositiveTimeout = None


class ReindexBody(UpstreamFields, resources_contract.ReindexRequest):
    """Body of ``POST /api/v1/content/reindex`` (unknown fields are refused)."""

    model_config = STRICT
    upstream_ignored = frozenset({"force"})
    upstream_nullable = frozenset({"tag_mode"})

    # The route needs a URI (the operation defaults to ``viking://``).
    uri: str
    # The route also takes ``prune_orphans`` (and answers it as unimplemented).
    mode: ReindexMode = "vectors_only"  # type: ignore[assignment]  # wider than the operation's
    timeout: PositiveTimeout = None
    # Accepted for compatibility: ``dry_run`` only with ``prune_orphans``.
    dry_run: bool = False


@router.get("/read", summary="Read a file (L2)")
async def read(
    request: Request,
    service: Service,
    caller: Caller,
    uri: Uri,
    offset: Annotated[int, Query(description="First line (0-based).")] = 0,
    limit: Annotated[int, Query(description="Lines to read; -1: to the end.")] = -1,
    raw: Annotated[bool, Query(description="Keep memory fields and placeholders.")] = False,
) -> JSONResponse:
    text = await service.read(caller, uri, offset=offset, limit=limit, raw=raw)
    return envelope.ok(request, text)


@router.get("/abstract", summary="L0 abstract of a directory (or a file's directory)")
async def abstract(request: Request, service: Service, caller: Caller, uri: Uri) -> JSONResponse:
    return envelope.ok(request, await service.abstract(caller, uri))


@router.get("/overview", summary="L1 overview of a directory (or a file's directory)")
async def overview(request: Request, service: Service, caller: Caller, uri: Uri) -> JSONResponse:
    return envelope.ok(request, await service.overview(caller, uri))


@router.get("/level", summary="A file or directory at one tier: abstract, overview or full")
async def level(
    request: Request,
    service: Service,
    caller: Caller,
    uri: Uri,
    level: Annotated[Level, Query(description="abstract (L0), overview (L1) or full.")] = "full",
) -> JSONResponse:
    return envelope.ok(request, await service.read_level(caller, uri, level))


@router.get(
    "/download",
    summary="Download a file's raw bytes",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download(service: Service, caller: Caller, uri: Uri) -> Response:
    info = await service.stat(caller, uri)
    if info["isDir"]:
        raise InvalidArgumentError(
            f"Cannot download a directory: {info['uri']}",
            {"uri": info["uri"], "reason": "is_directory"},
        )
    data = await service.read_bytes(caller, uri)
    filename = quote(str(info["name"]) or "download", safe="")
    return Response(
        content=data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )


@router.post("/write", summary="Write a text file and refresh its tiers and vectors")
async def write(
    request: Request, body: WriteBody, service: Service, caller: Caller
) -> JSONResponse:
    """``{uri, root_uri, context_type, mode, written_bytes, content_updated, semantic_status,
    vector_status, queue_status, task_id?}``; statuses are ``queued``, ``complete`` or
    ``skipped``; ``queue_status`` is the per-queue map once waited, else ``null``."""
    fields = body.model_dump(include=set(content_contract.WriteRequest.model_fields))
    return envelope.ok(request, await service.call(caller, "write", fields))


@router.post("/batch-write", summary="Write many files below a directory, refresh once")
async def batch_write(
    request: Request, body: BatchWriteBody, service: Service, caller: Caller
) -> JSONResponse:
    """``{root_uri, created, updated, unchanged, semantic_status, vector_status, task_id?}``;
    a bad operation is refused (400 naming its index) before anything is written."""
    fields = body.model_dump(include=set(content_contract.BatchWriteRequest.model_fields))
    return envelope.ok(request, await service.call(caller, "batch_write", fields))


@router.post("/set_tags", summary="Set the k=v retrieval tags of a file or directory")
async def set_tags(
    request: Request, body: SetTagsBody, service: Service, caller: Caller
) -> JSONResponse:
    """``{uri, updated_uris, root_uri, context_type, tags, mode, success_count,
    skipped_count, failed_count, tags_updated}``."""
    fields = body.model_dump(include=set(tags_contract.SetTagsRequest.model_fields))
    return envelope.ok(request, await service.call(caller, "set_tags", fields))


@router.post("/edit", summary="Replace an exact string in a text file")
async def edit(request: Request, body: EditBody, service: Service, caller: Caller) -> JSONResponse:
    """``{uri, replacements, written_bytes, changed, ...indexing status}``; 0 matches, or
    several without ``replace_all``, is 400."""
    fields = body.model_dump(include=set(content_contract.EditRequest.model_fields))
    return envelope.ok(request, await service.call(caller, "edit", fields))


@router.post("/reindex", summary="Rebuild the index (and optionally L0/L1) under a URI")
async def reindex(
    request: Request, body: ReindexBody, service: Service, caller: Caller
) -> JSONResponse:
    if body.dry_run and body.mode != "prune_orphans":
        raise InvalidArgumentError(
            "dry_run is only valid with mode='prune_orphans'", {"field": "dry_run"}
        )
    if body.mode == "prune_orphans":
        raise UnimplementedError(
            "mode='prune_orphans' is not supported; removing a path already deletes its vectors",
            {"mode": body.mode},
        )
    fields = body.model_dump(include=set(resources_contract.ReindexRequest.model_fields))
    return envelope.ok(request, await service.call(caller, "reindex", fields))
