"""The upload service: temp uploads and one-shot upload tickets.

A temp upload is a file a remote caller streams to ``{workspace}/tmp/upload/{temp_file_id}``
before importing it with ``add_resource(temp_file_id=...)``. Next to it a JSON sidecar
``{temp_file_id}.meta`` records the original filename, size, sha256 and the uploader; only the
uploader (same account and user) can import it, anyone else gets ``NOT_FOUND``. Uploads expire
after ``server.upload_ttl_seconds`` and are purged on every new upload and at start-up.

On a shared deployment (the postgres backend) the next request may reach another server, so
the upload and its sidecar are also kept in the content store below ``_system/uploads``;
:meth:`UploadService.localize` brings them into the workspace of the server that imports it.

A ticket lets a caller that cannot send headers (an agent given a URL by the MCP
``add_resource`` tool) upload once as the user who asked for it: a random token whose sha256
is stored in the metadata database with the owner's identity and an expiry. Redeeming deletes it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import secrets
import time
import unicodedata
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.contract.uploads import TicketRequest, TicketResult, UploadResult
from openviking_mcp.storage.metadata import Connection, Row
from openviking_mcp.store import SYSTEM_KEY, Store, iso_epoch, iso_time

__all__ = ["UploadService", "sanitize_upload_filename"]

_SHARED = f"{SYSTEM_KEY}/uploads"
_SHARE_PIECE = 8 * 1024 * 1024
_META_SUFFIX = ".meta"
_PART_SUFFIX = ".part"
_MAX_TICKET_TTL = 86_400
_MAX_NAME_BYTES = 255
_EXT_RE = re.compile(r"^\.[A-Za-z0-9_-]{1,16}$")
_ID_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$")


def sanitize_upload_filename(filename: str) -> str:
    """The file's own name: the last path segment, without control characters, at most 255
    UTF-8 bytes (``"../../etc/passwd"`` → ``"passwd"``); ``"upload"`` if nothing is left."""
    base = re.split(r"[\\/]", filename or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    if base in ("", ".", ".."):
        return "upload"
    if len(base.encode("utf-8")) > _MAX_NAME_BYTES:
        ext = Path(base).suffix if len(Path(base).suffix) <= 17 else ""
        budget = _MAX_NAME_BYTES - len(ext.encode("utf-8"))
        stem = base[: len(base) - len(ext)].encode("utf-8")[:budget].decode("utf-8", "ignore")
        base = stem + ext
    return base


def _extension(filename: str) -> str:
    ext = Path(filename).suffix
    return ext.lower() if _EXT_RE.match(ext) else ""


def _valid_id(temp_file_id: object) -> bool:
    """Whether ``temp_file_id`` can name an upload (never a sidecar, a part or a path)."""
    return (
        isinstance(temp_file_id, str)
        and _ID_RE.match(temp_file_id) is not None
        and not temp_file_id.endswith((_META_SUFFIX, _PART_SUFFIX))
    )


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


class UploadService:
    """See the module docs."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._config = store.config

    # -- the upload folder -----------------------------------------------------------------

    def _upload_dir(self) -> Path:
        return self._config.workspace / "tmp" / "upload"

    @property
    def _upload_ttl(self) -> int:
        return self._config.server.upload_ttl_seconds

    def upload_path(self, ctx: RequestContext, temp_file_id: str) -> tuple[Path, str]:
        """The stored file of one of the caller's temp uploads and its original filename
        (blocking: run in a thread).

        A malformed id is ``PERMISSION_DENIED`` (it could only point outside the folder); a
        missing, expired or someone else's upload is ``NOT_FOUND``.
        """
        if not _valid_id(temp_file_id):
            raise PermissionDeniedError("Invalid temp_file_id", {"temp_file_id": temp_file_id})
        path = self._upload_dir() / temp_file_id
        meta_path = path.with_name(path.name + _META_SUFFIX)
        missing = NotFoundError(temp_file_id, "temp upload")
        if path.is_symlink() or not path.is_file() or meta_path.is_symlink():
            raise missing
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            expired = meta_path.stat().st_mtime + self._upload_ttl < time.time()
        except (OSError, ValueError):
            raise missing from None
        if (
            not isinstance(meta, dict)
            or expired
            or meta.get("account_id") != ctx.account_id
            or meta.get("user_id") != ctx.user_id
        ):
            raise missing
        return path, sanitize_upload_filename(str(meta.get("filename") or path.name))

    async def localize(self, temp_file_id: str) -> None:
        """On a shared deployment, bring an upload another server received into this
        workspace (nothing when it is here already, or unknown: :meth:`upload_path` then
        answers ``NOT_FOUND``)."""
        if not self._store.shared or not _valid_id(temp_file_id):
            return  # a malformed id is refused by upload_path
        path = self._upload_dir() / temp_file_id
        if await asyncio.to_thread(path.exists):
            return
        key = f"{_SHARED}/{temp_file_id}"
        found = await self._store.content.read_many([key + _META_SUFFIX])
        meta = found[key + _META_SUFFIX]
        if meta is None:
            return
        try:
            data = await self._store.content.read_bytes(key)
            created = iso_epoch(json.loads(meta).get("created_at")) or time.time()
        except (OSError, ValueError, AttributeError):
            return
        await asyncio.to_thread(self._write_local, path, data, meta, created)

    def _write_local(self, path: Path, data: bytes, meta: bytes, created: float) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.name + _PART_SUFFIX)
        part.write_bytes(data)
        meta_path = path.with_name(path.name + _META_SUFFIX)
        meta_part = meta_path.with_name(meta_path.name + _PART_SUFFIX)
        meta_part.write_bytes(meta)
        os.utime(meta_part, (created, created))  # the upload's age decides its expiry
        os.replace(meta_part, meta_path)
        os.replace(part, path)

    async def _share(self, final: Path, meta: dict[str, Any]) -> None:
        """Keep a received upload where every server of a shared deployment finds it."""
        if not self._store.shared:
            return
        key = f"{_SHARED}/{final.name}"
        with final.open("rb") as handle:  # in pieces: an upload may be hundreds of MiB
            append = False
            while True:
                piece = await asyncio.to_thread(handle.read, _SHARE_PIECE)
                if piece or not append:
                    await self._store.content.write_bytes(key, piece, append=append)
                if len(piece) < _SHARE_PIECE:
                    break
                append = True
        # the sidecar last: a server that finds it finds the whole upload
        sidecar = json.dumps(meta, ensure_ascii=False).encode()
        await self._store.content.write_bytes(key + _META_SUFFIX, sidecar)

    async def _purge_shared(self) -> int:
        if not self._store.shared:
            return 0
        content, cutoff, removed = self._store.content, time.time() - self._upload_ttl, 0
        try:
            entries = await content.listdir(_SHARED)
        except (FileNotFoundError, NotADirectoryError):
            return 0
        for entry in entries:
            if entry.mtime < cutoff:
                try:
                    await content.remove(entry.key, recursive=entry.is_dir)
                    removed += 1
                except FileNotFoundError:
                    continue
        return removed

    # -- saving ----------------------------------------------------------------------------

    async def save(
        self, ctx: RequestContext, filename: str, chunks: AsyncIterator[bytes]
    ) -> UploadResult:
        """Stream an upload into the temp folder; returns
        ``{temp_file_id, filename, size, sha256, expires_at}``.

        Larger than ``server.max_upload_mb`` → 413 ``INVALID_ARGUMENT`` and nothing is kept.
        """
        self._store.require_open()
        await self.purge()
        name = sanitize_upload_filename(filename)
        limit = self._config.server.max_upload_mb * 1024 * 1024
        folder = self._upload_dir()
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        temp_file_id = f"upload_{uuid.uuid4().hex}{_extension(name)}"
        final = folder / temp_file_id
        part = folder / f"{temp_file_id}{_PART_SUFFIX}"
        meta_path = folder / f"{temp_file_id}{_META_SUFFIX}"
        digest = hashlib.sha256()
        size = 0
        handle: IO[bytes] = await asyncio.to_thread(part.open, "xb")
        try:
            try:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise PayloadTooLargeError(
                            f"Upload exceeds size limit ({self._config.server.max_upload_mb} MiB)",
                            {"limit": limit, "max_bytes": limit, "filename": name},
                        )
                    digest.update(chunk)
                    await asyncio.to_thread(handle.write, chunk)
            finally:
                await asyncio.to_thread(handle.close)
            now = time.time()
            meta = {
                "filename": name,
                "size": size,
                "sha256": digest.hexdigest(),
                "created_at": iso_time(now),
                "account_id": ctx.account_id,
                "user_id": ctx.user_id,
            }
            await asyncio.to_thread(self._commit_upload, part, final, meta_path, meta)
            await self._share(final, meta)
        except BaseException:
            await asyncio.to_thread(_remove, part, final, meta_path)
            raise
        return UploadResult(
            temp_file_id=temp_file_id,
            filename=name,
            size=size,
            sha256=str(meta["sha256"]),
            expires_at=iso_time(now + self._upload_ttl),
        )

    @staticmethod
    def _commit_upload(part: Path, final: Path, meta_path: Path, meta: dict[str, Any]) -> None:
        """Write the sidecar (atomically), then give the data file its final name."""
        meta_part = meta_path.with_name(meta_path.name + _PART_SUFFIX)
        meta_part.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(meta_part, meta_path)
        os.replace(part, final)

    async def purge(self) -> int:
        """Delete temp uploads (and sidecars, leftovers of interrupted uploads) older than
        ``server.upload_ttl_seconds``; returns how many files were removed."""
        return await asyncio.to_thread(self._purge_uploads_sync) + await self._purge_shared()

    def _purge_uploads_sync(self) -> int:
        folder = self._upload_dir()
        cutoff = time.time() - self._upload_ttl
        removed = 0
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            return 0
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    continue
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    # -- one-shot tickets ------------------------------------------------------------------

    async def create_ticket(self, ctx: RequestContext, req: TicketRequest) -> TicketResult:
        """A single-use token that uploads as ``ctx`` until it expires: ``{token, expires_at}``.

        Only its sha256 is stored; the token itself is shown once.
        """
        self._store.require_open()
        ttl_seconds = req.ttl_seconds
        if (
            not isinstance(ttl_seconds, int)
            or isinstance(ttl_seconds, bool)
            or not 1 <= ttl_seconds <= _MAX_TICKET_TTL
        ):
            raise InvalidArgumentError(
                f"ttl_seconds must be an integer between 1 and {_MAX_TICKET_TTL}",
                {"field": "ttl_seconds", "value": ttl_seconds},
            )
        token = secrets.token_urlsafe(32)
        now = time.time()
        expires = now + ttl_seconds

        def insert(conn: Connection) -> None:
            conn.execute("DELETE FROM upload_tickets WHERE expires_at < ?", (now,))
            conn.execute(
                "INSERT INTO upload_tickets (token_hash, account_id, user_id, role, created_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (_hash_token(token), ctx.account_id, ctx.user_id, ctx.role.value, now, expires),
            )

        await self._store.db.transaction(insert)
        return TicketResult(token=token, expires_at=iso_time(expires))

    async def redeem_ticket(self, token: str) -> RequestContext:
        """The identity a ticket was made for; the ticket is used up. An unknown, used or
        expired token is ``UNAUTHENTICATED``."""
        self._store.require_open()
        refused = UnauthenticatedError("upload token already used or expired")
        if not isinstance(token, str) or not token.strip():
            raise refused
        token_hash = _hash_token(token.strip())

        def take(conn: Connection) -> Row | None:
            rows: list[Row] = conn.execute(  # one statement: two redeemers never both get it
                "DELETE FROM upload_tickets WHERE token_hash = ? "
                "RETURNING account_id, user_id, role, expires_at",
                (token_hash,),
            ).fetchall()
            return rows[0] if rows else None

        row = await self._store.db.transaction(take)
        if row is None or float(row["expires_at"]) < time.time():
            raise refused
        role = Role(row["role"])
        if role is not Role.ROOT:
            try:  # a user deleted since the ticket was made cannot upload
                await self._store.accounts.get_user(row["account_id"], row["user_id"])
            except NotFoundError:
                raise refused from None
        return RequestContext(row["account_id"], row["user_id"], role)
