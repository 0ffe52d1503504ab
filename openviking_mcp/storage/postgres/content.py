"""The content tree in PostgreSQL: :class:`~openviking_mcp.storage.base.ContentStore` over the
``ov_content`` and ``ov_content_chunks`` tables (see :mod:`._schema`).

Every mutation is one transaction, so readers see the old bytes or the new, and several
processes on several hosts can share the tree: a write locks its entry row (``FOR UPDATE``),
missing parent directories are inserted with ``ON CONFLICT DO NOTHING`` and then checked. The
root (key ``""``) always exists and is never stored. File bytes are split into chunks of
:data:`CHUNK` bytes; an append adds chunks after the last one. Keys are checked as the local
store checks them (no ``.``, ``..``, backslash or NUL part).

The database cannot tell the free space of its disk, so :meth:`PgContentStore.disk_usage`
reports ``free`` as ``-1`` (unknown) and ``used`` as the database's size.
"""

from __future__ import annotations

import errno
import time
from typing import Any

import psycopg

from openviking_mcp.storage.base import ContentStore, Entry
from openviking_mcp.storage.postgres._db import PgDatabase, Row

__all__ = ["CHUNK", "PgContentStore"]

CHUNK = 1 << 20
"""Bytes per stored chunk of a file."""
_DIR_MODE = 0o755
_FILE_MODE = 0o644
_META = "key, name, is_dir, size, mtime, mode"


def _norm(key: str) -> str:
    parts = [p for p in key.split("/") if p]
    if any(p in (".", "..") or "\\" in p or "\x00" in p for p in parts):
        raise PermissionError(f"unsafe storage key: {key!r}")
    return "/".join(parts)


def _parent(key: str) -> str:
    return key.rpartition("/")[0]


def _ancestors(key: str) -> list[str]:
    """The non-root ancestors of ``key``, top first."""
    parts = key.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _subtree(key: str) -> tuple[str, str]:
    """Bounds of the keys strictly below ``key``: ``low < k < high`` (bytewise)."""
    return (f"{key}/", f"{key}0") if key else ("", "\U0010ffff")


def _entry(row: Row, depth: int = 0) -> Entry:
    return Entry(
        key=row["key"],
        name=row["name"],
        is_dir=row["is_dir"],
        size=int(row["size"]),
        mtime=float(row["mtime"]),
        mode=int(row["mode"]),
        depth=depth,
    )


def _missing(key: str) -> FileNotFoundError:
    return FileNotFoundError(errno.ENOENT, "no such file or directory", key)


class PgContentStore(ContentStore):
    """See the module docs."""

    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    async def open(self) -> None:
        """Nothing to prepare: the schema is the database's (:meth:`PgDatabase.open`)."""

    async def close(self) -> None:
        """The database is closed by its owner."""

    # -- reads -----------------------------------------------------------------------------

    async def _row(self, conn: Any, key: str, *, lock: bool = False) -> Row | None:
        if not key:
            return {"id": 0, "key": "", "name": "", "is_dir": True, "size": 0, "mtime": 0.0,
                    "mode": _DIR_MODE}  # fmt: skip
        sql = f"SELECT id, {_META} FROM ov_content WHERE key = %s"
        cur = await conn.execute(sql + (" FOR UPDATE" if lock else ""), (key,))
        row: Row | None = await cur.fetchone()
        return row

    async def _dir(self, conn: Any, key: str) -> None:
        row = await self._row(conn, key)
        if row is None:
            raise FileNotFoundError(errno.ENOENT, "no such directory", key)
        if not row["is_dir"]:
            raise NotADirectoryError(errno.ENOTDIR, "not a directory", key)

    async def stat(self, key: str) -> Entry:
        key = _norm(key)
        async with self.db.connection() as conn:
            row = await self._row(conn, key)
        if row is None:
            raise _missing(key)
        return _entry(row)

    async def exists(self, key: str) -> bool:
        key = _norm(key)
        async with self.db.connection() as conn:
            return await self._row(conn, key) is not None

    async def listdir(self, key: str) -> list[Entry]:
        key = _norm(key)
        async with self.db.connection() as conn:
            await self._dir(conn, key)
            cur = await conn.execute(f"SELECT {_META} FROM ov_content WHERE parent = %s", (key,))
            return [_entry(r) for r in await cur.fetchall()]

    async def walk(self, key: str, max_depth: int, max_entries: int) -> list[Entry]:
        key = _norm(key)
        low, high = _subtree(key)
        base = key.count("/") + 1 if key else 0
        async with self.db.connection() as conn:
            await self._dir(conn, key)
            cur = await conn.execute(
                f"SELECT {_META}, parent FROM ov_content WHERE key > %s AND key < %s "
                "AND length(key) - length(replace(key, '/', '')) < %s",
                (low, high, base + max_depth),
            )
            rows = await cur.fetchall()
        children: dict[str, list[Row]] = {}
        for row in rows:
            children.setdefault(row["parent"], []).append(row)
        out: list[Entry] = []

        def visit(parent: str, depth: int) -> None:
            for row in sorted(children.get(parent, []), key=lambda r: (not r["is_dir"], r["name"])):
                if len(out) >= max_entries:
                    return
                out.append(_entry(row, depth))
                if row["is_dir"] and depth < max_depth:
                    visit(row["key"], depth + 1)

        visit(key, 1)
        return out

    async def read_bytes(self, key: str) -> bytes:
        return await self.read_prefix(key, -1)

    async def read_prefix(self, key: str, limit: int) -> bytes:
        key = _norm(key)
        async with self.db.connection() as conn:
            row = await self._row(conn, key)
            if row is None:
                raise FileNotFoundError(errno.ENOENT, "no such file", key)
            if row["is_dir"]:
                raise IsADirectoryError(errno.EISDIR, "is a directory", key)
            sql = (
                "SELECT data FROM (SELECT seq, data, sum(octet_length(data)) OVER (ORDER BY seq)"
                " - octet_length(data) AS start FROM ov_content_chunks WHERE entry_id = %s) c"
            )
            if limit >= 0:
                cur = await conn.execute(sql + " WHERE start < %s ORDER BY seq", (row["id"], limit))
            else:
                cur = await conn.execute(sql + " ORDER BY seq", (row["id"],))
            data = b"".join(bytes(r["data"]) for r in await cur.fetchall())
        return data if limit < 0 else data[: max(0, limit)]

    async def read_many(self, keys: list[str]) -> dict[str, bytes | None]:
        normal = {key: _norm(key) for key in keys}
        async with self.db.connection() as conn:
            cur = await conn.execute(
                "SELECT e.key, ch.data FROM ov_content e LEFT JOIN ov_content_chunks ch "
                "ON ch.entry_id = e.id WHERE e.key = ANY(%s) AND NOT e.is_dir "
                "ORDER BY e.key, ch.seq",
                (list(set(normal.values())),),
            )
            rows = await cur.fetchall()
        found: dict[str, bytearray] = {}
        for row in rows:  # an empty file is one row without data
            data = found.setdefault(row["key"], bytearray())
            if row["data"] is not None:
                data += bytes(row["data"])
        return {key: bytes(found[k]) if k in found else None for key, k in normal.items()}

    # -- writes ----------------------------------------------------------------------------

    async def _make_parents(self, conn: Any, key: str) -> None:
        """``mkdir -p`` of ``key``'s parent, with a clear error when a file sits in the way."""
        ancestors = _ancestors(key)
        if not ancestors:
            return
        now = time.time()
        await conn.execute(
            "INSERT INTO ov_content (key, parent, name, is_dir, size, mtime, mode) "
            "SELECT k, p, n, TRUE, 0, %s, %s FROM unnest(%s::text[], %s::text[], %s::text[]) "
            "AS t(k, p, n) ON CONFLICT (key) DO NOTHING",
            (
                now,
                _DIR_MODE,
                ancestors,
                [_parent(a) for a in ancestors],
                [a.rpartition("/")[2] for a in ancestors],
            ),
        )
        cur = await conn.execute(
            "SELECT key FROM ov_content WHERE key = ANY(%s) AND NOT is_dir", (ancestors,)
        )
        if await cur.fetchone() is not None:
            raise NotADirectoryError(errno.ENOTDIR, "a parent path is a file", key)

    async def mkdir(self, key: str, *, exist_ok: bool = False) -> None:
        key = _norm(key)
        async with self.db.connection() as conn, conn.transaction():
            row = await self._row(conn, key)
            if row is not None and not row["is_dir"]:
                raise FileExistsError(errno.EEXIST, "a file exists at this path", key)
            if row is not None:
                if exist_ok:
                    return
                raise FileExistsError(errno.EEXIST, "directory exists", key)
            await self._make_parents(conn, key)
            await conn.execute(
                "INSERT INTO ov_content (key, parent, name, is_dir, size, mtime, mode) "
                "VALUES (%s, %s, %s, TRUE, 0, %s, %s) ON CONFLICT (key) DO NOTHING",
                (key, _parent(key), key.rpartition("/")[2], time.time(), _DIR_MODE),
            )
        await self._touch(key)

    async def write_bytes(self, key: str, data: bytes, *, append: bool = False) -> int:
        written, _ = await self._write(key, data, append=append)
        await self._touch(key)  # a replaced file is a new entry of its folder, as on disk
        return written

    async def append_lines(self, key: str, data: bytes) -> int:
        """Append in place (one more chunk): the folder changes only when the file is new."""
        if not data.endswith(b"\n"):
            raise ValueError("append_lines needs newline-terminated records")
        written, created = await self._write(key, data, append=True)
        if created:
            await self._touch(key)
        return written

    async def _write(self, key: str, data: bytes, *, append: bool) -> tuple[int, bool]:
        """Write or append ``data``; ``(bytes written, whether the file was created)``."""
        key = _norm(key)
        if not key:
            raise IsADirectoryError(errno.EISDIR, "is a directory", key)
        async with self.db.connection() as conn, conn.transaction():
            row = await self._row(conn, key, lock=True)
            if row is not None and row["is_dir"]:
                raise IsADirectoryError(errno.EISDIR, "is a directory", key)
            created = row is None
            if row is None:
                await self._make_parents(conn, key)
                row = await self._insert_file(conn, key)
            size, seq = await self._prepare_chunks(conn, row["id"], append)
            view = memoryview(data)
            for start in range(0, len(view), CHUNK):
                await conn.execute(
                    "INSERT INTO ov_content_chunks (entry_id, seq, data) VALUES (%s, %s, %s)",
                    (row["id"], seq, bytes(view[start : start + CHUNK])),
                )
                seq += 1
            await conn.execute(
                "UPDATE ov_content SET size = %s, mtime = %s WHERE id = %s",
                (size + len(data), time.time(), row["id"]),
            )
        return len(data), created

    async def _touch(self, *keys: str) -> None:
        """Give the folders holding ``keys`` the current time as their mtime, as a
        filesystem does when an entry is added, replaced or removed. One statement after
        the change has committed: it holds no other lock, so it cannot deadlock with one."""
        parents = sorted({_parent(_norm(k)) for k in keys} - {""})
        if parents:
            now = time.time()
            await self.db.execute(
                "UPDATE ov_content SET mtime = %s WHERE key = ANY(%s) AND is_dir AND mtime < %s",
                (now, parents, now),
            )

    async def _insert_file(self, conn: Any, key: str) -> Row:
        """A new, empty file entry at ``key`` (whose parents exist), locked."""
        try:
            async with conn.transaction():
                cur = await conn.execute(
                    "INSERT INTO ov_content (key, parent, name, is_dir, size, mtime, mode) "
                    "VALUES (%s, %s, %s, FALSE, 0, %s, %s) RETURNING id",
                    (key, _parent(key), key.rpartition("/")[2], time.time(), _FILE_MODE),
                )
                row: Row = await cur.fetchone()
                return row
        except psycopg.errors.UniqueViolation:  # created meanwhile by another writer
            found = await self._row(conn, key, lock=True)
            if found is None or found["is_dir"]:
                raise IsADirectoryError(errno.EISDIR, "is a directory", key) from None
            return found

    @staticmethod
    async def _prepare_chunks(conn: Any, entry_id: int, append: bool) -> tuple[int, int]:
        """``(bytes kept, next chunk number)``: an append keeps the chunks, a write drops them."""
        if not append:
            await conn.execute("DELETE FROM ov_content_chunks WHERE entry_id = %s", (entry_id,))
            return 0, 0
        cur = await conn.execute(
            "SELECT coalesce(sum(octet_length(data)), 0) AS size, coalesce(max(seq), -1) AS seq "
            "FROM ov_content_chunks WHERE entry_id = %s",
            (entry_id,),
        )
        row = await cur.fetchone()
        return int(row["size"]), int(row["seq"]) + 1

    async def remove(self, key: str, *, recursive: bool = False) -> None:
        key = _norm(key)
        if not key:
            raise PermissionError("the root of the content store cannot be removed")
        low, high = _subtree(key)
        async with self.db.connection() as conn, conn.transaction():
            row = await self._row(conn, key, lock=True)
            if row is None:
                raise _missing(key)
            if row["is_dir"]:
                cur = await conn.execute(
                    "SELECT 1 FROM ov_content WHERE key > %s AND key < %s LIMIT 1", (low, high)
                )
                if await cur.fetchone() is not None:
                    if not recursive:
                        raise OSError(errno.ENOTEMPTY, "directory not empty", key)
                    await conn.execute(
                        "DELETE FROM ov_content WHERE key > %s AND key < %s", (low, high)
                    )
            await conn.execute("DELETE FROM ov_content WHERE id = %s", (row["id"],))
        await self._touch(key)

    async def move(self, src: str, dst: str) -> None:
        src, dst = _norm(src), _norm(dst)
        if not src or dst == src or dst.startswith(f"{src}/"):
            raise OSError(errno.EINVAL, "cannot move a directory into itself", dst)
        low, high = _subtree(src)
        async with self.db.connection() as conn, conn.transaction():
            row = await self._row(conn, src, lock=True)
            if row is None:
                raise FileNotFoundError(errno.ENOENT, "no such file or directory", src)
            if await self._row(conn, dst) is not None:
                raise FileExistsError(errno.EEXIST, "destination exists", dst)
            await self._make_parents(conn, dst)
            await conn.execute(
                "UPDATE ov_content SET key = %s, parent = %s, name = %s WHERE id = %s",
                (dst, _parent(dst), dst.rpartition("/")[2], row["id"]),
            )
            if row["is_dir"]:
                cut = len(src) + 1
                await conn.execute(
                    "UPDATE ov_content SET key = %s || substr(key, %s), "
                    "parent = %s || substr(parent, %s) WHERE key > %s AND key < %s",
                    (dst, cut, dst, cut, low, high),
                )
        await self._touch(src, dst)

    async def disk_usage(self) -> dict[str, int]:
        rows = await self.db.fetchall("SELECT pg_database_size(current_database()) AS used")
        used = int(rows[0]["used"])
        return {"total": -1, "used": used, "free": -1}
