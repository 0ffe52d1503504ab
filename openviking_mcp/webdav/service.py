"""The WebDAV service: class 1 semantics over ``viking://resources`` (no locks, no properties).

Paths are relative to ``viking://resources`` (``""`` is that folder). Names starting with ``.``
(directory sidecars, internal files) are hidden: they are never listed, reading them is 404 and
creating them is 403. Files are written through the content service and collections made,
removed and moved through the filesystem service, so a file uploaded over WebDAV is indexed
like any other write, and removals and moves follow the owner rule; listings go through the
read filter (:mod:`openviking_mcp.contract.access`).

The errors follow RFC 4918: a missing parent is 409 (:class:`ConflictError`), MKCOL on an
existing path and a write onto a collection are 405 (:class:`MethodNotAllowedError`), MOVE onto
an existing destination without ``Overwrite: T`` is 412 (:class:`FailedPreconditionError`).
These methods serve only the ``/webdav`` surface; they are not client operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from openviking_mcp.content.service import ContentService
from openviking_mcp.contract.access import readable
from openviking_mcp.contract.content import UriRequest, WriteMode, WriteRequest
from openviking_mcp.contract.errors import (
    ConflictError,
    FailedPreconditionError,
    NotFoundError,
    OpenVikingError,
    PermissionDeniedError,
)
from openviking_mcp.contract.fs import MkdirRequest, MvRequest, RmRequest
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.fs.service import FilesystemService
from openviking_mcp.storage.base import Entry
from openviking_mcp.store import Store

__all__ = ["DavEntry", "MethodNotAllowedError", "WebDAVService"]

_SCOPE = "resources"


class MethodNotAllowedError(OpenVikingError):
    """The method does not apply to this resource (e.g. GET on a collection)."""

    code: ClassVar[str] = "METHOD_NOT_ALLOWED"
    http_status: ClassVar[int] = 405
    default_message: ClassVar[str] = "Method not allowed"


@dataclass(frozen=True, slots=True)
class DavEntry:
    """A file or collection; ``path`` is relative to ``viking://resources`` (no slashes at
    either end; ``""`` for the root)."""

    path: str
    name: str
    is_dir: bool
    size: int
    mtime: float

    @property
    def uri(self) -> str:
        return f"viking://{_SCOPE}/{self.path}" if self.path else f"viking://{_SCOPE}"


def _segments(path: str) -> tuple[str, ...]:
    return tuple(s for s in path.split("/") if s)


def _entry(path: tuple[str, ...], entry: Entry) -> DavEntry:
    return DavEntry(
        path="/".join(path),
        name=path[-1] if path else _SCOPE,
        is_dir=entry.is_dir,
        size=0 if entry.is_dir else entry.size,
        mtime=entry.mtime,
    )


class WebDAVService:
    """See the module docs."""

    def __init__(self, store: Store, fs: FilesystemService, content: ContentService) -> None:
        self._store = store
        self._fs = fs
        self._content = content

    # -- paths -----------------------------------------------------------------------------

    def _uri(self, ctx: RequestContext, path: str, *, creating: bool = False) -> VikingURI:
        segments = _segments(path)
        uri = VikingURI(_SCOPE, segments)
        if any(s.startswith(".") for s in segments):
            if creating:
                raise PermissionDeniedError(
                    f"Names starting with '.' are reserved: {uri.uri}", {"resource": uri.uri}
                )
            raise NotFoundError(uri.uri, "file")
        return self._store.resolve(ctx, uri, mutate=creating)

    async def _find(self, ctx: RequestContext, uri: VikingURI) -> DavEntry | None:
        try:
            entry = await self._store.content.stat(self._store.key(ctx, uri))
        except FileNotFoundError:
            return None
        return _entry(uri.segments, entry)

    async def _require_parent(self, ctx: RequestContext, uri: VikingURI) -> None:
        """409 unless the parent of ``uri`` is an existing collection."""
        parent = uri.parent or VikingURI(_SCOPE)
        found = await self._find(ctx, parent)
        if found is None or not found.is_dir:
            raise ConflictError(
                f"Parent collection does not exist: {parent.uri}", {"resource": parent.uri}
            )

    # -- reading ---------------------------------------------------------------------------

    async def stat(self, ctx: RequestContext, path: str) -> DavEntry:
        """The entry at ``path`` (404 if missing or hidden)."""
        uri = self._uri(ctx, path)
        found = await self._find(ctx, uri)
        if found is None:
            raise NotFoundError(uri.uri, "file")
        return found

    async def list(self, ctx: RequestContext, path: str, depth: int) -> list[DavEntry]:
        """The entry at ``path`` and, with ``depth`` 1 and a collection, its visible children."""
        top = await self.stat(ctx, path)
        if depth < 1 or not top.is_dir:
            return [top]
        store = self._store
        uri = self._uri(ctx, path)
        with store.fs_errors(uri, "directory"):
            children = await store.content.listdir(store.key(ctx, uri))
        shown = sorted(
            readable(
                ctx,
                (c for c in children if not c.name.startswith(".")),
                lambda c: f"{uri}/{c.name}",
            ),
            key=lambda c: (not c.is_dir, c.name),
        )
        return [top, *(_entry((*uri.segments, c.name), c) for c in shown)]

    async def read(self, ctx: RequestContext, path: str) -> tuple[DavEntry, bytes]:
        """A file's entry and bytes; a collection is 405."""
        entry = await self.stat(ctx, path)
        if entry.is_dir:
            raise MethodNotAllowedError(f"Cannot GET a collection: {entry.uri}")
        return entry, await self._content.read_bytes(ctx, UriRequest(uri=entry.uri))

    # -- changes ---------------------------------------------------------------------------

    async def put(self, ctx: RequestContext, path: str, text: str) -> bool:
        """Create or replace a text file; ``True`` if it was created."""
        uri = self._uri(ctx, path, creating=True)
        await self._require_parent(ctx, uri)
        existing = await self._find(ctx, uri)
        if existing is not None and existing.is_dir:
            raise MethodNotAllowedError(f"Cannot PUT onto a collection: {uri.uri}")
        mode: WriteMode = "create" if existing is None else "replace"
        await self._content.write(ctx, WriteRequest(uri=uri.uri, content=text, mode=mode))
        return existing is None

    async def mkcol(self, ctx: RequestContext, path: str) -> None:
        """Create a collection whose parent exists (existing path: 405)."""
        uri = self._uri(ctx, path, creating=True)
        if await self._find(ctx, uri) is not None:
            raise MethodNotAllowedError(f"Already exists: {uri.uri}")
        await self._require_parent(ctx, uri)
        await self._fs.mkdir(ctx, MkdirRequest(uri=uri.uri))

    async def delete(self, ctx: RequestContext, path: str) -> None:
        """Remove a file or a whole collection."""
        entry = await self.stat(ctx, path)
        await self._fs.rm(ctx, RmRequest(uri=entry.uri, recursive=entry.is_dir))

    async def move(
        self, ctx: RequestContext, path: str, destination: str, *, overwrite: bool
    ) -> bool:
        """Move ``path`` to ``destination``; ``True`` if the destination was new.

        An existing destination is replaced only with ``overwrite`` (else 412)."""
        source = await self.stat(ctx, path)
        dest = self._uri(ctx, destination, creating=True)
        src_uri = self._uri(ctx, path, creating=True)
        if dest == src_uri:
            raise PermissionDeniedError(
                "Source and destination are the same", {"resource": source.uri}
            )
        await self._require_parent(ctx, dest)
        existing = await self._find(ctx, dest)
        if existing is not None:
            if not overwrite:
                raise FailedPreconditionError(
                    f"Destination exists and Overwrite is F: {dest.uri}", {"resource": dest.uri}
                )
            await self._fs.rm(ctx, RmRequest(uri=dest.uri, recursive=existing.is_dir))
        await self._fs.mv(ctx, MvRequest(from_uri=source.uri, to_uri=dest.uri))
        return existing is None
