"""The explorer's actions on a node: download, rename (``fs.mv``) and delete (``fs.rm``, as
``DELETE /api/v1/fs``, recursive for folders). A rename or delete answers htmx with the panel
of the node that remains (the renamed node, the deleted node's folder), pushes its URL and
asks the page to refresh the tree; a plain form post is redirected to that node's page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from http_api.console._explorer_data import ROOT, node_view, normalize, parent_of, upload_parent
from http_api.console._web import (
    PREFIX,
    TenantCaller,
    fragment,
    is_htmx,
    page_router,
    redirect,
    service_of,
)
from openviking_mcp.contract.content import UriRequest
from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.contract.fs import MvRequest, RmRequest, StatRequest
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.pack import ExportPackRequest

__all__ = ["REFRESH_EVENT", "node_fragment", "page_url", "router"]

router = page_router()

REFRESH_EVENT = "explorer-refresh"
"""The event (from the answer's ``HX-Trigger-After-Settle``) that reloads the tree."""
_FILE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def page_url(uri: str) -> str:
    """The explorer page showing ``uri``."""
    return f"{PREFIX}/explorer?uri={quote(uri, safe='')}"


def _disposition(name: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(name or 'download', safe='')}"


async def node_fragment(request: Request, caller: RequestContext, uri: str) -> Response:
    """The detail panel of ``uri`` (with the out-of-band updates of the selection)."""
    view = await node_view(service_of(request), caller, uri)
    context = {
        "node": view,
        "oob": True,
        "upload_parent": upload_parent(view.stat.uri, view.stat.is_dir),
    }
    return fragment(request, "_explorer_node.html", context)


async def _changed(request: Request, caller: RequestContext, uri: str) -> Response:
    """After a change: the panel of ``uri`` for htmx (URL pushed, tree refreshed)."""
    if not is_htmx(request):
        return redirect(request, page_url(uri))
    response = await node_fragment(request, caller, uri)
    # The forms target their status line (where an error shows); the new panel replaces
    # the whole detail.
    response.headers["HX-Retarget"] = "#detail"
    response.headers["HX-Reswap"] = "innerHTML"
    response.headers["HX-Push-Url"] = page_url(uri)
    response.headers["HX-Trigger-After-Settle"] = REFRESH_EVENT
    return response


@router.get("/explorer/download")
async def download(request: Request, caller: TenantCaller, uri: str) -> Response:
    """A file's bytes, or a folder as an ``.ovpack`` (a zip of its files, the pack export)."""
    service = service_of(request)
    info = await service.fs.stat(caller, StatRequest(uri=uri))
    if info.is_dir:
        export = ExportPackRequest(uri=info.uri, include_vectors=False)
        path: Path = await service.pack.export_pack(caller, export)
        return FileResponse(
            path,
            media_type="application/zip",
            headers={**_FILE_HEADERS, "Content-Disposition": _disposition(f"{info.name}.ovpack")},
            background=BackgroundTask(path.unlink, missing_ok=True),
        )
    data = await service.content.read_bytes(caller, UriRequest(uri=info.uri))
    headers = {**_FILE_HEADERS, "Content-Disposition": _disposition(info.name)}
    return Response(content=data, media_type="application/octet-stream", headers=headers)


@router.post("/explorer/rename")
async def rename(
    request: Request,
    caller: TenantCaller,
    uri: Annotated[str, Form()],
    name: Annotated[str, Form()],
) -> Response:
    """Rename ``uri`` to ``name`` in the same folder."""
    source = normalize(uri) or ROOT
    new_name = name.strip()
    if not new_name or "/" in new_name or new_name in (".", ".."):
        raise InvalidArgumentError("A new name is one path segment (no '/')", {"name": name})
    folder = parent_of(source)
    if folder is None:
        raise InvalidArgumentError("viking:// cannot be renamed", {"uri": uri})
    target = f"{folder}{new_name}" if folder == ROOT else f"{folder}/{new_name}"
    moved = await service_of(request).fs.mv(caller, MvRequest(from_uri=source, to_uri=target))
    return await _changed(request, caller, moved.to)


@router.post("/explorer/delete")
async def delete(request: Request, caller: TenantCaller, uri: Annotated[str, Form()]) -> Response:
    """Delete ``uri`` (a folder with everything in it); the panel then shows its folder."""
    removed = await service_of(request).fs.rm(caller, RmRequest(uri=uri, recursive=True))
    return await _changed(request, caller, parent_of(removed.uri) or ROOT)
