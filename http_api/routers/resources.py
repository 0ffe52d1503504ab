"""Resources: ``POST /api/v1/resources/temp_upload`` and ``POST /api/v1/resources``.

A temp upload authenticates like any route, or with ``?token=`` (a one-shot ticket minted by the
MCP ``add_resource`` tool for agents that cannot send headers; no key is needed then). The file
is streamed to the service in 1 MiB chunks; the reply's ``temp_file_id`` is then imported with
``POST /api/v1/resources``, which refuses paths of the server's own filesystem (403) unless
``server.allow_local_paths`` is set. Its body is the operation's request
(:mod:`openviking_mcp.contract.resources`) with the original's extra fields.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.datastructures import UploadFile

from http_api import envelope
from http_api.bodies import STRICT, PositiveTimeout, UpstreamFields
from http_api.deps import Caller, Service, get_caller
from openviking_mcp.contract import resources as resources_contract
from openviking_mcp.contract.errors import InvalidArgumentError, UnimplementedError
from openviking_mcp.contract.identity import RequestContext

__all__ = ["TEMP_UPLOAD_PATH", "AddResourceBody", "router", "upload_body_cap"]

router = APIRouter(tags=["resources"])

TEMP_UPLOAD_PATH = "/api/v1/resources/temp_upload"
_CHUNK = 1024 * 1024
_FORM_OVERHEAD = 64 * 1024  # multipart boundaries and headers around the file
_UPLOAD_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(_CHUNK):
        yield chunk


def upload_body_cap(max_upload_mb: int) -> int:
    """The largest body ``temp_upload`` reads: the file cap plus the multipart framing (the
    app refuses larger bodies with 413 before the route runs; the service checks the file)."""
    return max_upload_mb * 1024 * 1024 + _FORM_OVERHEAD


@router.post(
    TEMP_UPLOAD_PATH,
    summary="Upload a file for add_resource (multipart field 'file')",
    openapi_extra=_UPLOAD_SCHEMA,
)
async def temp_upload(
    request: Request,
    service: Service,
    token: Annotated[
        str | None, Query(description="One-shot upload ticket (instead of an API key).")
    ] = None,
) -> JSONResponse:
    """Store a file for ``POST /api/v1/resources`` (``temp_file_id``); it expires after
    ``server.upload_ttl_seconds``. Result: ``{temp_file_id, filename, size, sha256,
    expires_at}``."""
    caller: RequestContext = (
        await service.uploads.redeem_ticket(token)
        if token is not None
        else await get_caller(request)
    )
    async with request.form(max_files=1, max_fields=16) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidArgumentError(
                "Send the file as multipart/form-data field 'file'", {"field": "file"}
            )
        result = await service.uploads.save(caller, upload.filename or "upload", _chunks(upload))
    return envelope.ok(request, result.wire())


#: What the route takes for globs and folder names: a list, as the operation, or one
#: comma-separated string.
Globs = Annotated[list[str] | str | None, Field(description="Globs (list or a,b).")]
FolderNames = Annotated[list[str] | str | None, Field(description="Folder names (list or a,b).")]


class AddResourceBody(UpstreamFields, resources_contract.AddResourceRequest):
    """Body of ``POST /api/v1/resources`` (unknown fields are refused)."""

    model_config = STRICT
    upstream_ignored = frozenset(
        {
            "directly_upload_media",
            "internal_task",
            "is_active",
            "preserve_structure",
            "strict",
            "tag_mode",
            "tags",
            "telemetry",
        }
    )
    upstream_unsupported = frozenset({"acl", "add_type"})

    timeout: PositiveTimeout = None
    include: Globs = None  # type: ignore[assignment]  # wider than the operation's
    exclude: Globs = None  # type: ignore[assignment]  # wider than the operation's
    ignore_dirs: FolderNames = None  # type: ignore[assignment]  # wider than the operation's
    # Accepted for compatibility: parser options, of which only ``parse_mode`` is used.
    args: dict[str, Any] = Field(
        default_factory=dict, description="Parser options: parse_mode default|no_split."
    )
    # Accepted for compatibility; watches are not supported (only 0).
    watch_interval: float = Field(default=0, description="Watches are not supported (0).")


def _globs(value: list[str] | str | None) -> list[str] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else value
    return [item.strip() for item in items if item.strip()] or None


def _no_split(args: dict[str, Any]) -> bool:
    repeated = sorted(set(args) & set(AddResourceBody.model_fields))
    if repeated:
        raise InvalidArgumentError(
            f"args may not repeat request fields: {', '.join(repeated)}", {"fields": repeated}
        )
    mode = str(args.get("parse_mode") or "default")
    if mode not in ("default", "no_split"):
        raise InvalidArgumentError(
            "args.parse_mode must be default or no_split", {"parse_mode": mode}
        )
    return mode == "no_split"


@router.post("/api/v1/resources", summary="Add a resource (remote URL or temp_file_id)")
async def add_resource(
    request: Request, body: AddResourceBody, service: Service, caller: Caller
) -> JSONResponse:
    """Import a URL or a temp upload. Answers with ``{status, task_id, root_uri}`` at once, or
    with the import's result when ``wait`` is set."""
    if body.watch_interval > 0:
        if body.temp_file_id:
            raise InvalidArgumentError("watch_interval is not allowed with temp_file_id")
        raise UnimplementedError("Watching a resource for changes is not supported")
    fields = body.model_dump(include=set(resources_contract.AddResourceRequest.model_fields))
    fields.update(
        path=body.path or None,
        temp_file_id=body.temp_file_id or None,
        source_name=body.source_name or None,
        to=body.to or None,
        parent=body.parent or None,
        include=_globs(body.include),
        exclude=_globs(body.exclude),
        ignore_dirs=_globs(body.ignore_dirs),
        no_split=body.no_split or _no_split(body.args),
    )
    allow_local_paths = service.config.server.allow_local_paths
    result = await service.call(caller, "add_resource", fields, allow_local_paths=allow_local_paths)
    return envelope.ok(request, result)
