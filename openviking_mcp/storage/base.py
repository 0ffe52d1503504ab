"""The content store interface: a tree of files and directories addressed by storage keys.

A key is a POSIX-style relative path below the store's root, ``"{account}/{scope}/{path}"``.
The service maps ``viking://`` URIs onto keys; stores never see URIs or identities, so an
object-store backend can implement this interface without touching any caller.

Stores raise the built-in ``FileNotFoundError``, ``FileExistsError``, ``NotADirectoryError``,
``IsADirectoryError`` and ``OSError`` (``errno.ENOTEMPTY``); the service turns them into typed
errors that name the URI.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

__all__ = ["ContentStore", "Entry"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One file or directory. ``key`` is its storage key, ``depth`` its level in a walk."""

    key: str
    name: str
    is_dir: bool
    size: int
    mtime: float
    mode: int
    depth: int = 0


class ContentStore(ABC):
    """Async file tree. Every write is atomic: readers see the old bytes or the new, never a mix."""

    @abstractmethod
    async def open(self) -> None:
        """Prepare the backend (create folders, sweep leftovers of interrupted writes)."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def stat(self, key: str) -> Entry:
        """The entry at ``key``; ``FileNotFoundError`` if there is none."""

    @abstractmethod
    async def exists(self, key: str) -> bool: ...

    @abstractmethod
    async def listdir(self, key: str) -> list[Entry]:
        """Direct children of a directory, unsorted."""

    @abstractmethod
    async def walk(self, key: str, max_depth: int, max_entries: int) -> list[Entry]:
        """Descendants of a directory, depth-first, directories before files at each level,
        names sorted; ``depth`` is 1 for direct children. Stops after ``max_entries``."""

    @abstractmethod
    async def mkdir(self, key: str, *, exist_ok: bool = False) -> None:
        """Create a directory and its missing parents."""

    @abstractmethod
    async def read_bytes(self, key: str) -> bytes: ...

    async def read_prefix(self, key: str, limit: int) -> bytes:
        """The first ``limit`` bytes of a file (backends override this to read no more)."""
        return (await self.read_bytes(key))[:limit]

    async def read_many(self, keys: list[str]) -> dict[str, bytes | None]:
        """Several small files at once: ``{key: bytes}``, ``None`` for a key that is not a
        readable file (backends override this to read them in one round trip)."""
        out: dict[str, bytes | None] = {}
        for key in keys:
            try:
                out[key] = await self.read_bytes(key)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                out[key] = None
        return out

    @abstractmethod
    async def write_bytes(self, key: str, data: bytes, *, append: bool = False) -> int:
        """Atomically replace (or append to) a file, creating parent directories.

        Returns the number of bytes written. A failure leaves the old content and no partial file.
        """

    async def append_lines(self, key: str, data: bytes) -> int:
        """Append newline-terminated records (a JSONL log) to a file, creating it.

        Backends may append in place, so the cost follows ``data``, not the file; a crash may
        then leave the last record cut short (readers skip such a line, and the next append
        cuts it off first). A failure leaves the old content. By default, :meth:`write_bytes`.
        """
        if not data.endswith(b"\n"):
            raise ValueError("append_lines needs newline-terminated records")
        return await self.write_bytes(key, data, append=True)

    @abstractmethod
    async def remove(self, key: str, *, recursive: bool = False) -> None:
        """Remove a file, or a directory (non-empty ones only with ``recursive``)."""

    @abstractmethod
    async def move(self, src: str, dst: str) -> None:
        """Move a file or directory; ``dst`` must not exist. Parents of ``dst`` are created."""

    @abstractmethod
    async def disk_usage(self) -> dict[str, int]:
        """``{"total", "used", "free"}`` bytes of the backing storage (for readiness checks);
        ``-1`` for a figure the backend cannot tell (a database server's free disk)."""
