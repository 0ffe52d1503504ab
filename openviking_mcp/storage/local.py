"""The default content store: a local directory.

Layout: keys live under ``{workspace}/accounts/``; in-flight writes are staged in
``{workspace}/tmp/writes/`` (same filesystem, so the final ``os.replace`` is atomic) and that
folder is swept on open, so a crash mid-write leaves nothing behind in the content tree.

Mutations also take a ``flock`` on ``{workspace}/locks/content.lock`` so that several processes
sharing one workspace (e.g. several stdio MCP servers) never interleave a read-modify-write
such as an append: appends, mkdir, move and remove take it exclusive; a whole-file write (stage,
fsync, rename) takes it shared, so writes of different files run in parallel (writes of one
path are serialised above, by the path locks). The sweep of the staging folder on open takes
it exclusive, so it never sees another process's write in flight.

Durability: a write fsyncs its staged file before the rename and the folder after it; writers
that renamed into one folder meanwhile share one folder fsync (:class:`_FolderSync`).
File-system work runs on this store's own thread pool, so fsyncs never starve the event loop's
default executor.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import shutil
import stat as stat_mod
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from openviking_mcp.storage.base import ContentStore, Entry

__all__ = ["LocalContentStore"]

T = TypeVar("T")

#: Threads of a store's file-system pool (fsyncs block one each).
_THREADS = 16


class _FolderSync:
    """Group commit of folder fsyncs: a writer registers its rename, then waits for one
    fsync of the folder that started after it; one fsync serves every rename before it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folders: dict[Path, tuple[threading.Lock, list[int]]] = {}

    def sync(self, folder: Path) -> None:
        with self._lock:
            io_lock, counts = self._folders.setdefault(folder, (threading.Lock(), [0, 0]))
            counts[0] += 1  # [renames registered, renames covered by a finished fsync]
            mine = counts[0]
        with io_lock:
            with self._lock:
                if counts[1] >= mine:
                    return
                target = counts[0]
            _fsync_dir(folder)
            with self._lock:
                counts[1] = max(counts[1], target)
                if counts[0] == counts[1]:
                    self._folders.pop(folder, None)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _complete_length(fd: int) -> int:
    """The length of an open file up to and including its last newline (all of it when it
    ends with one)."""
    end = os.fstat(fd).st_size
    while end > 0:
        start = max(0, end - 4096)
        tail = os.pread(fd, end - start, start)
        cut = tail.rfind(b"\n")
        if cut >= 0:
            return start + cut + 1
        end = start
    return 0


class LocalContentStore(ContentStore):
    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.root = workspace / "accounts"
        self._staging = workspace / "tmp" / "writes"
        self._lock_file = workspace / "locks" / "content.lock"
        self._folder_sync = _FolderSync()
        self._pool: ThreadPoolExecutor | None = None

    # -- helpers ---------------------------------------------------------------------------

    def path_for(self, key: str) -> Path:
        """Filesystem path of a key. Keys are validated upstream; this re-checks containment."""
        parts = [p for p in key.split("/") if p]
        if any(p in (".", "..") or "\\" in p or "\x00" in p for p in parts):
            raise PermissionError(f"unsafe storage key: {key!r}")
        return self.root.joinpath(*parts)

    @contextmanager
    def _process_lock(self, *, shared: bool = False) -> Iterator[None]:
        fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    async def _run(self, fn: Callable[[], T]) -> T:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(_THREADS, thread_name_prefix="openviking-files")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    async def _mutate(self, fn: Callable[[], T]) -> T:
        def locked() -> T:
            with self._process_lock():
                return fn()

        return await self._run(locked)

    def _entry(self, path: Path, key: str, depth: int = 0) -> Entry:
        try:
            st = path.stat()
        except NotADirectoryError:  # a file sits where a parent directory should be
            raise FileNotFoundError(errno.ENOENT, "no such file or directory", key) from None
        is_dir = stat_mod.S_ISDIR(st.st_mode)
        return Entry(
            key=key,
            name=path.name,
            is_dir=is_dir,
            size=0 if is_dir else st.st_size,
            mtime=st.st_mtime,
            mode=stat_mod.S_IMODE(st.st_mode),
            depth=depth,
        )

    @staticmethod
    def _fsync_dir(path: Path) -> None:
        _fsync_dir(path)

    @staticmethod
    def _require_dir(path: Path, key: str) -> None:
        if not path.is_dir():
            if path.exists():
                raise NotADirectoryError(errno.ENOTDIR, "not a directory", key)
            raise FileNotFoundError(errno.ENOENT, "no such directory", key)

    @staticmethod
    def _ensure_parent_dirs(path: Path) -> None:
        """``mkdir -p`` of the parent, with a clear error when a file sits in the way."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError as exc:
            raise NotADirectoryError(errno.ENOTDIR, "a parent path is a file", str(path)) from exc

    # -- interface -------------------------------------------------------------------------

    async def open(self) -> None:
        def prepare() -> None:
            for folder in (self.root, self._staging, self._lock_file.parent):
                folder.mkdir(parents=True, exist_ok=True)
            # Writes hold the process lock from staging to rename, so under it no other
            # process has a write in flight: whatever is staged now is a crash leftover.
            with self._process_lock():
                for leftover in self._staging.iterdir():
                    if leftover.is_file():
                        leftover.unlink(missing_ok=True)

        await self._run(prepare)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    async def stat(self, key: str) -> Entry:
        path = self.path_for(key)
        return await self._run(lambda: self._entry(path, key))

    async def exists(self, key: str) -> bool:
        path = self.path_for(key)
        return await self._run(path.exists)

    async def listdir(self, key: str) -> list[Entry]:
        path = self.path_for(key)

        def scan() -> list[Entry]:
            self._require_dir(path, key)
            out: list[Entry] = []
            for child in path.iterdir():
                try:
                    out.append(self._entry(child, f"{key.rstrip('/')}/{child.name}"))
                except FileNotFoundError:
                    continue  # removed while we were listing
            return out

        return await self._run(scan)

    async def walk(self, key: str, max_depth: int, max_entries: int) -> list[Entry]:
        base = self.path_for(key)

        def scan() -> list[Entry]:
            self._require_dir(base, key)
            out: list[Entry] = []

            def visit(path: Path, prefix: str, depth: int) -> None:
                try:
                    children = [self._entry(c, f"{prefix}/{c.name}", depth) for c in path.iterdir()]
                except FileNotFoundError:
                    return
                children.sort(key=lambda e: (not e.is_dir, e.name))
                for child in children:
                    if len(out) >= max_entries:
                        return
                    out.append(child)
                    if child.is_dir and depth < max_depth:
                        visit(path / child.name, child.key, depth + 1)

            visit(base, key.rstrip("/"), 1)
            return out

        return await self._run(scan)

    async def mkdir(self, key: str, *, exist_ok: bool = False) -> None:
        path = self.path_for(key)

        def make() -> None:
            if path.exists() and not path.is_dir():
                raise FileExistsError(errno.EEXIST, "a file exists at this path", key)
            self._ensure_parent_dirs(path)
            path.mkdir(exist_ok=exist_ok)

        await self._mutate(make)

    async def read_bytes(self, key: str) -> bytes:
        path = self.path_for(key)

        def read() -> bytes:
            if path.is_dir():
                raise IsADirectoryError(errno.EISDIR, "is a directory", key)
            try:
                return path.read_bytes()
            except NotADirectoryError:
                raise FileNotFoundError(errno.ENOENT, "no such file", key) from None

        return await self._run(read)

    async def read_many(self, keys: list[str]) -> dict[str, bytes | None]:
        paths = {key: self.path_for(key) for key in keys}

        def read() -> dict[str, bytes | None]:
            out: dict[str, bytes | None] = {}
            for key, path in paths.items():
                try:
                    out[key] = path.read_bytes()
                except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                    out[key] = None
            return out

        return await self._run(read)

    async def read_prefix(self, key: str, limit: int) -> bytes:
        path = self.path_for(key)

        def read() -> bytes:
            if path.is_dir():
                raise IsADirectoryError(errno.EISDIR, "is a directory", key)
            try:
                with path.open("rb") as handle:
                    return handle.read(max(0, limit))
            except NotADirectoryError:
                raise FileNotFoundError(errno.ENOENT, "no such file", key) from None

        return await self._run(read)

    async def write_bytes(self, key: str, data: bytes, *, append: bool = False) -> int:
        path = self.path_for(key)

        def write() -> int:
            if path.is_dir():
                raise IsADirectoryError(errno.EISDIR, "is a directory", key)
            self._ensure_parent_dirs(path)
            payload = (path.read_bytes() + data) if append and path.exists() else data
            fd, tmp_name = tempfile.mkstemp(prefix="w-", suffix=".tmp", dir=self._staging)
            try:
                with os.fdopen(fd, "wb") as handle:
                    view = memoryview(payload)
                    for start in range(0, len(view), 1 << 20):
                        handle.write(view[start : start + (1 << 20)])
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(tmp_name, 0o644)
                os.replace(tmp_name, path)
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise
            return len(data)

        def write_and_sync() -> int:
            with self._process_lock(shared=not append):
                written = write()
            self._folder_sync.sync(path.parent)  # outside the lock, in the same thread hop
            return written

        return await self._run(write_and_sync)

    async def append_lines(self, key: str, data: bytes) -> int:
        """Append in place under the exclusive lock: cut a torn last record (no final newline,
        left by a crash) back to the last newline, write, fsync; a failure truncates the file
        back to what it held."""
        if not data.endswith(b"\n"):
            raise ValueError("append_lines needs newline-terminated records")
        path = self.path_for(key)

        def append() -> bool:
            if path.is_dir():
                raise IsADirectoryError(errno.EISDIR, "is a directory", key)
            self._ensure_parent_dirs(path)
            created = not path.exists()
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                keep = _complete_length(fd)
                try:
                    os.ftruncate(fd, keep)
                    view = memoryview(data)
                    while view:
                        view = view[os.pwrite(fd, view, keep + len(data) - len(view)) :]
                    os.fsync(fd)
                except BaseException:
                    os.ftruncate(fd, keep)
                    raise
            finally:
                os.close(fd)
            return created

        def append_and_sync() -> None:
            with self._process_lock():
                created = append()
            if created:
                self._folder_sync.sync(path.parent)

        await self._run(append_and_sync)
        return len(data)

    async def remove(self, key: str, *, recursive: bool = False) -> None:
        path = self.path_for(key)

        def remove() -> None:
            if path.is_dir() and not path.is_symlink():
                if recursive:
                    shutil.rmtree(path)
                else:
                    path.rmdir()  # ENOTEMPTY when it has children
            else:
                path.unlink()

        await self._mutate(remove)

    async def move(self, src: str, dst: str) -> None:
        source, target = self.path_for(src), self.path_for(dst)

        def move() -> None:
            if not source.exists():
                raise FileNotFoundError(errno.ENOENT, "no such file or directory", src)
            if target.exists():
                raise FileExistsError(errno.EEXIST, "destination exists", dst)
            self._ensure_parent_dirs(target)
            os.rename(source, target)
            self._fsync_dir(target.parent)
            self._fsync_dir(source.parent)

        await self._mutate(move)

    async def disk_usage(self) -> dict[str, int]:
        usage = await self._run(lambda: shutil.disk_usage(self.root))
        return {"total": usage.total, "used": usage.used, "free": usage.free}
