"""WebDAV (class 1) under ``/webdav/resources[/{path}]``, mapped onto ``viking://resources``.

* ``OPTIONS`` (no auth): 204 with ``Allow`` and ``DAV: 1``.
* ``PROPFIND``: 207 multistatus XML for the resource and, with ``Depth: 1``, its children
  (``Depth: infinity`` or none is served as 1). The request body is ignored: the reply always
  carries ``displayname``, ``resourcetype``, ``getcontentlength``, ``getcontenttype``,
  ``getlastmodified``, ``creationdate`` and ``getetag``.
* ``GET``/``HEAD``: a file's bytes (a collection is 405).
* ``PUT``: UTF-8 text only (else 415), at most ``server.max_upload_mb`` (else 413); 201 when
  created, 204 when replaced; a missing parent is 409. The file's tiers and vectors are
  refreshed as for any write, so it becomes searchable.
* ``DELETE`` 204; ``MKCOL`` 201 (existing: 405; missing parent: 409); ``MOVE`` with
  ``Destination`` (an absolute URL or path below ``/webdav/resources``, else 502) and
  ``Overwrite`` (``T`` by default; ``F`` onto an existing destination is 412): 201 or 204.

Authentication is that of every route (``X-API-Key`` or ``Authorization: Bearer``; nothing in
dev mode), plus ``Authorization: Basic`` with the API key as the password (or as the user name
when the password is empty), which is what desktop WebDAV clients send. A 401 carries
``WWW-Authenticate: Basic``. Errors are plain text, not the JSON envelope. Names starting with
``.`` (directory sidecars) are hidden.
"""

from __future__ import annotations

import base64
import binascii
import logging
import mimetypes
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Annotated
from urllib.parse import quote, unquote, urlsplit
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from http_api.auth import authenticate_headers
from http_api.deps import Service, get_caller, get_service
from openviking_mcp.contract.errors import UnauthenticatedError, error_to_envelope
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.webdav.service import DavEntry

__all__ = ["ALLOW", "router", "webdav_caller"]

logger = logging.getLogger("openviking_mcp.http")

PREFIX = "/webdav/resources"
ALLOW = "OPTIONS, PROPFIND, GET, HEAD, PUT, DELETE, MKCOL, MOVE"
_XML = "application/xml; charset=utf-8"

router = APIRouter(prefix=PREFIX, tags=["webdav"])

Action = Callable[[RequestContext], Awaitable[Response]]


class _DavError(Exception):
    """A protocol-level refusal with its own status (413, 415, 400, 502)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def _caller(request: Request) -> RequestContext:
    """The caller, as for every route; ``Authorization: Basic`` carries the API key as its
    password (or as its user name when the password is empty)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or request.headers.get("x-api-key"):
        return await get_caller(request)
    try:
        user, _, password = base64.b64decode(token.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise UnauthenticatedError("Malformed Basic credentials") from None
    headers = {k: v for k, v in request.headers.items() if k != "authorization"}
    if password or user:
        headers["x-api-key"] = password or user
    client = request.client.host if request.client else None
    params = {**request.query_params, **{k: str(v) for k, v in request.path_params.items()}}
    caller = await authenticate_headers(
        request.app.state.service,
        headers,
        client,
        path=request.url.path,
        params=params,
        method=request.method,
    )
    request.state.caller = caller
    return caller


webdav_caller = _caller
"""The caller of a WebDAV request (Basic credentials accepted), for the rate limits."""


#: The verbs that change content, recorded in the audit log.
_AUDITED = frozenset({"PUT", "DELETE", "MKCOL", "MOVE"})


async def _respond(request: Request, action: Action) -> Response:
    """Authenticate, run ``action``, and turn any failure into a plain-text error."""
    try:
        caller = await _caller(request)
        if request.method not in _AUDITED:
            return await action(caller)
        where = f"viking://resources/{request.path_params.get('path', '')}".rstrip("/")
        track = get_service(request).audit.track
        async with track(caller, f"webdav.{request.method.lower()}", "mutation", uris=[where]):
            return await action(caller)
    except _DavError as exc:
        return Response(exc.message + "\n", status_code=exc.status, media_type="text/plain")
    except Exception as exc:
        status, error = error_to_envelope(exc)
        if status >= 500:
            logger.exception("WebDAV %s %s failed", request.method, request.url.path)
        headers = {"WWW-Authenticate": 'Basic realm="OpenViking"'} if status == 401 else None
        return Response(
            f"{error['message']}\n", status_code=status, headers=headers, media_type="text/plain"
        )


def _base(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/") + PREFIX


def _href(request: Request, entry: DavEntry) -> str:
    path = f"{_base(request)}/{entry.path}" if entry.path else _base(request)
    return quote(path + ("/" if entry.is_dir else ""), safe="/")


def _etag(entry: DavEntry) -> str:
    return f'"{int(entry.mtime * 1_000_000):x}-{entry.size:x}"'


def _content_type(name: str) -> str:
    guessed = mimetypes.guess_type(name)[0]
    if guessed is None:
        return "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def multistatus(request: Request, entries: list[DavEntry]) -> bytes:
    """The 207 body describing ``entries`` (text is escaped by ElementTree)."""
    root = Element("{DAV:}multistatus")
    for entry in entries:
        response = SubElement(root, "{DAV:}response")
        SubElement(response, "{DAV:}href").text = _href(request, entry)
        propstat = SubElement(response, "{DAV:}propstat")
        prop = SubElement(propstat, "{DAV:}prop")
        SubElement(prop, "{DAV:}displayname").text = entry.name
        kind = SubElement(prop, "{DAV:}resourcetype")
        if entry.is_dir:
            SubElement(kind, "{DAV:}collection")
        else:
            SubElement(prop, "{DAV:}getcontentlength").text = str(entry.size)
            SubElement(prop, "{DAV:}getcontenttype").text = _content_type(entry.name)
        SubElement(prop, "{DAV:}getlastmodified").text = formatdate(entry.mtime, usegmt=True)
        created = datetime.fromtimestamp(entry.mtime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        SubElement(prop, "{DAV:}creationdate").text = created
        SubElement(prop, "{DAV:}getetag").text = _etag(entry)
        SubElement(propstat, "{DAV:}status").text = "HTTP/1.1 200 OK"
    body: bytes = tostring(root, encoding="utf-8", xml_declaration=True, default_namespace="DAV:")
    return body


def _depth(value: str | None) -> int:
    text = (value or "infinity").strip().lower()
    if text in ("0", "1"):
        return int(text)
    if text == "infinity":
        return 1
    raise _DavError(400, f"Invalid Depth header: {value}")


def _destination(request: Request, value: str | None) -> str:
    """The ``Destination`` header as a path relative to ``/webdav/resources``."""
    if not value:
        raise _DavError(400, "MOVE needs a Destination header")
    path = unquote(urlsplit(value).path)
    base = _base(request)
    if path.rstrip("/") != base and not path.startswith(base + "/"):
        raise _DavError(502, f"Destination is outside {PREFIX}: {value}")
    return path[len(base) :].strip("/")


async def _text_body(request: Request, max_mb: int) -> str:
    limit = max_mb * 1024 * 1024
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise _DavError(413, f"Upload exceeds size limit ({max_mb} MiB)")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise _DavError(415, "Only UTF-8 text files can be uploaded") from None
    if "\x00" in text:
        raise _DavError(415, "Only UTF-8 text files can be uploaded (NUL byte found)")
    return text


# -- routes ------------------------------------------------------------------------------------

_ROUTES = ("", "/{path:path}")


Handler = Callable[..., Awaitable[Response]]


def _route(*methods: str, schema: bool = True) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ``methods`` on the collection root and every path below it."""

    def register(handler: Handler) -> Handler:
        for path in _ROUTES:
            for method in methods:  # one route per method: distinct OpenAPI operation ids
                router.add_api_route(
                    path,
                    handler,
                    methods=[method],
                    include_in_schema=schema and path != "" and method != "HEAD",
                    response_class=Response,
                    summary=(handler.__doc__ or "").strip().splitlines()[0],
                )
        return handler

    return register


@_route("OPTIONS")
async def dav_options(path: str = "") -> Response:
    """WebDAV capabilities (no auth)."""
    headers = {"Allow": ALLOW, "DAV": "1", "MS-Author-Via": "DAV"}
    return Response(status_code=204, headers=headers)


@_route("PROPFIND", schema=False)
async def dav_propfind(
    request: Request,
    service: Service,
    path: str = "",
    depth: Annotated[str | None, Header()] = None,
) -> Response:
    """Properties of a resource and, with Depth 1, of its children (207)."""

    async def run(caller: RequestContext) -> Response:
        entries = await service.webdav.list(caller, path, _depth(depth))
        return Response(multistatus(request, entries), status_code=207, media_type=_XML)

    return await _respond(request, run)


@_route("GET", "HEAD")
async def dav_get(request: Request, service: Service, path: str = "") -> Response:
    """Download a file (collections: 405)."""

    async def run(caller: RequestContext) -> Response:
        entry, data = await service.webdav.read(caller, path)
        headers = {
            "ETag": _etag(entry),
            "Last-Modified": formatdate(entry.mtime, usegmt=True),
            "Content-Length": str(len(data)),
        }
        body = b"" if request.method == "HEAD" else data
        return Response(body, headers=headers, media_type=_content_type(entry.name))

    return await _respond(request, run)


@_route("PUT")
async def dav_put(request: Request, service: Service, path: str = "") -> Response:
    """Upload a UTF-8 text file (201 created, 204 replaced)."""

    async def run(caller: RequestContext) -> Response:
        text = await _text_body(request, service.config.server.max_upload_mb)
        created = await service.webdav.put(caller, path, text)
        return Response(status_code=201 if created else 204)

    return await _respond(request, run)


@_route("DELETE")
async def dav_delete(request: Request, service: Service, path: str = "") -> Response:
    """Delete a file or a collection with its content (204)."""

    async def run(caller: RequestContext) -> Response:
        await service.webdav.delete(caller, path)
        return Response(status_code=204)

    return await _respond(request, run)


@_route("MKCOL", schema=False)
async def dav_mkcol(request: Request, service: Service, path: str = "") -> Response:
    """Create a collection (201)."""

    async def run(caller: RequestContext) -> Response:
        if request.headers.get("content-length", "0").strip() not in ("", "0"):
            raise _DavError(415, "MKCOL does not take a body")
        await service.webdav.mkcol(caller, path)
        return Response(status_code=201)

    return await _respond(request, run)


@_route("MOVE", schema=False)
async def dav_move(
    request: Request,
    service: Service,
    path: str = "",
    destination: Annotated[str | None, Header()] = None,
    overwrite: Annotated[str | None, Header()] = None,
) -> Response:
    """Move or rename to the Destination header (201 new, 204 replaced)."""

    async def run(caller: RequestContext) -> Response:
        target = _destination(request, destination)
        replace_ok = (overwrite or "T").strip().upper() != "F"
        created = await service.webdav.move(caller, path, target, overwrite=replace_ok)
        return Response(status_code=201 if created else 204)

    return await _respond(request, run)
