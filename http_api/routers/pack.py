"""Routes under ``/api/v1/pack`` (seed 000; ROOT or ADMIN): export, import, backup, restore.

Export and backup answer with the ``.ovpack`` file itself (``application/zip``, named
``{leaf}.ovpack`` or ``openviking-backup.ovpack``). The service writes it under
``{workspace}/exports/`` with a random name, never a path from the request, and the file is
deleted once it has been sent. Import and restore take a ``temp_file_id`` from
``POST /api/v1/resources/temp_upload``. The bodies are the operations' requests
(:mod:`openviking_mcp.contract.pack`); unknown fields are refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.background import BackgroundTask

from http_api import envelope
from http_api.bodies import STRICT
from http_api.deps import Caller, Service
from openviking_mcp.contract import pack as pack_contract
from openviking_mcp.contract.uri import resolve_uri

__all__ = [
    "BackupBody",
    "ExportBody",
    "ImportBody",
    "RestoreBody",
    "router",
]

router = APIRouter(prefix="/api/v1/pack", tags=["pack"])

_ZIP = "application/zip"
_FILE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {_ZIP: {}}, "description": "The .ovpack file."}
}


class ExportBody(pack_contract.ExportPackRequest):
    """Body of ``POST /api/v1/pack/export``."""

    model_config = STRICT


class ImportBody(pack_contract.ImportPackRequest):
    """Body of ``POST /api/v1/pack/import``."""

    model_config = STRICT


class BackupBody(pack_contract.BackupRequest):
    """Body of ``POST /api/v1/pack/backup`` (optional)."""

    model_config = STRICT


class RestoreBody(pack_contract.RestoreRequest):
    """Body of ``POST /api/v1/pack/restore``."""

    model_config = STRICT


def _send(path: Path, filename: str) -> FileResponse:
    """Stream ``path`` and delete it afterwards."""
    return FileResponse(
        path,
        media_type=_ZIP,
        filename=filename,
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.post("/export", summary="Export a folder or file as .ovpack", responses=_FILE_RESPONSE)
async def export_pack(body: ExportBody, service: Service, caller: Caller) -> FileResponse:
    path = await service.call(caller, "export_pack", body.model_dump())
    leaf = resolve_uri(body.uri, caller).name or "export"
    return _send(path, f"{leaf}.ovpack")


@router.post("/import", summary="Import an uploaded .ovpack under parent")
async def import_pack(
    request: Request, body: ImportBody, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.call(caller, "import_pack", body.model_dump()))


@router.post("/backup", summary="Back up the whole account as .ovpack", responses=_FILE_RESPONSE)
async def backup(service: Service, caller: Caller, body: BackupBody | None = None) -> FileResponse:
    body = body or BackupBody()
    path = await service.call(caller, "backup", body.model_dump())
    return _send(path, "openviking-backup.ovpack")


@router.post("/restore", summary="Restore an uploaded backup .ovpack into the account")
async def restore(
    request: Request, body: RestoreBody, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.call(caller, "restore", body.model_dump()))
