"""Routes under ``/api/v1/pack`` (seed 000; ROOT or ADMIN): export, import, backup, restore.

Export and backup answer with the ``.ovpack`` file itself (``application/zip``, named
``{leaf}.ovpack`` or ``openviking-backup.ovpack``). The service writes it under
``{workspace}/exports/`` with a random name, never a path from the request, and the file is
deleted once it has been sent. Import and restore take a ``temp_file_id`` from
``POST /api/v1/resources/temp_upload``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from http_api import envelope
from http_api.deps import Caller, Service
from openviking_mcp.contract.pack import OnConflict, VectorMode
from openviking_mcp.contract.uri import resolve_uri

__all__ = ["ExportRequest", "ImportRequest", "RestoreRequest", "router"]

router = APIRouter(prefix="/api/v1/pack", tags=["pack"])

_ZIP = "application/zip"
_FILE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {_ZIP: {}}, "description": "The .ovpack file."}
}


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uri: str = Field(description="Folder or file to export.")
    include_vectors: bool = Field(default=False, description="Add the index rows (vectors).")


class BackupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_vectors: bool = False


class RestoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    temp_file_id: str = Field(description="Id of the uploaded .ovpack (temp_upload).")
    on_conflict: OnConflict = "fail"
    vector_mode: VectorMode = "auto"


class ImportRequest(RestoreRequest):
    parent: str = Field(description="Folder that receives the pack's root.")


def _send(path: Path, filename: str) -> FileResponse:
    """Stream ``path`` and delete it afterwards."""
    return FileResponse(
        path,
        media_type=_ZIP,
        filename=filename,
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.post("/export", summary="Export a folder or file as .ovpack", responses=_FILE_RESPONSE)
async def export_pack(body: ExportRequest, service: Service, caller: Caller) -> FileResponse:
    path = await service.export_pack(caller, body.uri, include_vectors=body.include_vectors)
    leaf = resolve_uri(body.uri, caller).name or "export"
    return _send(path, f"{leaf}.ovpack")


@router.post("/import", summary="Import an uploaded .ovpack under parent")
async def import_pack(
    request: Request, body: ImportRequest, service: Service, caller: Caller
) -> JSONResponse:
    result = await service.import_pack(
        caller,
        body.temp_file_id,
        body.parent,
        on_conflict=body.on_conflict,
        vector_mode=body.vector_mode,
    )
    return envelope.ok(request, result)


@router.post("/backup", summary="Back up the whole account as .ovpack", responses=_FILE_RESPONSE)
async def backup(
    service: Service, caller: Caller, body: BackupRequest | None = None
) -> FileResponse:
    path = await service.backup(caller, body.include_vectors if body else False)
    return _send(path, "openviking-backup.ovpack")


@router.post("/restore", summary="Restore an uploaded backup .ovpack into the account")
async def restore(
    request: Request, body: RestoreRequest, service: Service, caller: Caller
) -> JSONResponse:
    result = await service.restore(
        caller, body.temp_file_id, on_conflict=body.on_conflict, vector_mode=body.vector_mode
    )
    return envelope.ok(request, result)
