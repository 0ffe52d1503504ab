"""The explorer's uploads: dropped files and folders imported into a resources folder.

The browser posts the files (multipart field ``files``) with their relative paths (field
``paths``, in the same order) and the target folder (``parent``). Each loose file, and each
top folder as one zip made here from its files, goes the way of the API's ``temp_upload`` and
``add_resource``: the upload service stores it, the resource service queues its import. The
answer is JSON, for the page's script: the import tasks and the URL that shows their state.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import zipfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from http_api.console._explorer_data import UPLOAD_ROOT
from http_api.console._web import PREFIX, TenantCaller, page_router, service_of
from openviking_mcp.contract.errors import InvalidArgumentError, OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.resources import AddResourceRequest, ImportAccepted
from openviking_mcp.service import ContextService

__all__ = ["MAX_FILES", "UPLOAD_PATH", "Part", "group_parts", "router"]

router = page_router()

UPLOAD_PATH = f"{PREFIX}/explorer/upload"
MAX_FILES = 1000
"""Files one upload request may carry."""
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Part:
    """One uploaded file and its path relative to what was dropped (``/``-separated)."""

    path: str
    upload: UploadFile


def clean_path(raw: str) -> str:
    """A relative upload path without empty or ``.`` segments; ``..`` or nothing is refused."""
    segments = [s for s in raw.replace("\\", "/").split("/") if s not in ("", ".")]
    if not segments or ".." in segments:
        raise InvalidArgumentError(f"Invalid upload path: {raw!r}", {"path": raw})
    return "/".join(segments)


def group_parts(parts: list[Part]) -> list[tuple[str, list[Part]]]:
    """The imports of an upload: each top folder with its files, each loose file alone (its
    name as the key), in the order they came."""
    groups: dict[str, list[Part]] = {}
    for part in parts:
        top, sep, _ = part.path.partition("/")
        key = f"{top}/" if sep else part.path
        groups.setdefault(key, []).append(part)
    for key, members in groups.items():
        paths = [m.path for m in members]
        if len(set(paths)) != len(paths) or (not key.endswith("/") and len(members) > 1):
            raise InvalidArgumentError(f"The upload holds {key!r} twice", {"path": key})
    return list(groups.items())


def _zip_into(handle: IO[bytes], parts: list[Part]) -> None:
    """Write the folder's files (their paths keep the top folder) as a zip (blocking)."""
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
        for part in parts:
            part.upload.file.seek(0)
            with archive.open(part.path, "w") as target:
                shutil.copyfileobj(part.upload.file, target, _CHUNK)
    handle.seek(0)


async def _read_chunks(handle: IO[bytes]) -> AsyncIterator[bytes]:
    while chunk := await asyncio.to_thread(handle.read, _CHUNK):
        yield chunk


async def _upload_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(_CHUNK):
        yield chunk


async def _save(
    service: ContextService, caller: RequestContext, key: str, parts: list[Part]
) -> tuple[str, str | None]:
    """The temp upload of one import (a loose file as it is, a folder zipped) and the
    source name its target takes."""
    if not key.endswith("/"):
        upload = parts[0].upload
        saved = await service.uploads.save(caller, key.rsplit("/", 1)[-1], _upload_chunks(upload))
        return saved.temp_file_id, None
    folder = key.rstrip("/")
    with tempfile.TemporaryFile() as handle:
        await asyncio.to_thread(_zip_into, handle, parts)
        saved = await service.uploads.save(caller, f"{folder}.zip", _read_chunks(handle))
    return saved.temp_file_id, folder


async def _import(
    service: ContextService, caller: RequestContext, parent: str, key: str, parts: list[Part]
) -> dict[str, str]:
    temp_file_id, source_name = await _save(service, caller, key, parts)
    request = AddResourceRequest(temp_file_id=temp_file_id, parent=parent, source_name=source_name)
    answer = await service.resources.add_resource(caller, request, allow_local_paths=False)
    if not isinstance(answer, ImportAccepted):  # never: the import is not waited for
        raise InvalidArgumentError("The import did not start")
    return {"task_id": answer.task_id, "root_uri": answer.root_uri, "name": key.rstrip("/")}


def _parts(files: Sequence[object], paths: Sequence[object]) -> list[Part]:
    uploads = [f for f in files if isinstance(f, UploadFile)]
    if not uploads:
        raise InvalidArgumentError("Choose files or a folder to upload", {"field": "files"})
    names = [p if isinstance(p, str) else "" for p in paths][: len(uploads)]
    names += [""] * (len(uploads) - len(names))
    pairs = zip(names, uploads, strict=True)
    return [Part(clean_path(name or u.filename or "upload"), u) for name, u in pairs]


@router.post("/explorer/upload")
async def upload(request: Request, caller: TenantCaller) -> Response:
    """Import the posted files into ``parent``: ``{tasks: [{task_id, root_uri, name}],
    status_url}``, or ``{error, code}`` with the error's status."""
    service = service_of(request)
    try:
        async with request.form(max_files=MAX_FILES, max_fields=MAX_FILES + 16) as form:
            raw_parent = form.get("parent")
            parent = raw_parent.strip() if isinstance(raw_parent, str) else ""
            parts = _parts(form.getlist("files"), form.getlist("paths"))
            tasks = [
                await _import(service, caller, parent or UPLOAD_ROOT, key, members)
                for key, members in group_parts(parts)
            ]
    except OpenVikingError as exc:
        return JSONResponse({"error": str(exc), "code": exc.code}, status_code=exc.http_status)
    query = urlencode([("id", t["task_id"]) for t in tasks])
    body = {"tasks": tasks, "status_url": f"{PREFIX}/explorer/task?{query}"}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
