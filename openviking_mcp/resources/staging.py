"""Staged import sources that any worker can take up.

An import stages its local or uploaded source in this process's workspace
(``tmp/staging/{id}/source``) before its task is queued. On a shared deployment (the
postgres backend) the task may run in a worker on another host, so the staged tree is also
published to the content store below ``_system/staging/{id}``; the worker that runs the task
fetches it into its own workspace when it is not there, and the copy is dropped once the
import has moved its tree in (or failed for good).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from openviking_mcp.store import SYSTEM_KEY, Store

__all__ = ["drop_published", "fetch_published", "is_published", "publish"]

#: Files copied at once each way.
_CONCURRENCY = 8
_ALL = 10**9


def _key(staging_id: str) -> str:
    return f"{SYSTEM_KEY}/staging/{staging_id}"


async def publish(store: Store, staging_id: str, source: Path) -> None:
    """Copy the staged ``source`` folder to the content store (shared deployments only)."""
    if not store.shared:
        return
    root = _key(staging_id)

    def listing() -> tuple[list[str], list[str]]:
        """The empty folders (a file's folders are created with it) and the files."""
        empty: list[str] = []
        files: list[str] = []
        for path in sorted(source.rglob("*")):
            rel = path.relative_to(source).as_posix()
            if not path.is_dir():
                files.append(rel)
            elif not any(path.iterdir()):
                empty.append(rel)
        return empty, files

    empty, files = await asyncio.to_thread(listing)
    await store.content.mkdir(root, exist_ok=True)
    for rel in empty:
        await store.content.mkdir(f"{root}/{rel}", exist_ok=True)
    gate = asyncio.Semaphore(_CONCURRENCY)

    async def copy(rel: str) -> None:
        async with gate:
            data = await asyncio.to_thread((source / rel).read_bytes)
            await store.content.write_bytes(f"{root}/{rel}", data)

    await asyncio.gather(*(copy(rel) for rel in files))


async def fetch_published(store: Store, staging_id: str, source: Path) -> bool:
    """Bring a published staged tree into ``source``; ``False`` when none is published."""
    if not store.shared:
        return False
    root = _key(staging_id)
    try:
        entries = await store.content.walk(root, _ALL, _ALL)
    except (FileNotFoundError, NotADirectoryError):
        return False
    prefix = len(root) + 1
    await asyncio.to_thread(source.mkdir, parents=True, exist_ok=True)
    for entry in entries:  # folders first: every file's folder exists before it is written
        if entry.is_dir:
            await asyncio.to_thread(
                (source / entry.key[prefix:]).mkdir, parents=True, exist_ok=True
            )
    gate = asyncio.Semaphore(_CONCURRENCY)

    async def copy(key: str) -> None:
        async with gate:
            data = await store.content.read_bytes(key)
            await asyncio.to_thread((source / key[prefix:]).write_bytes, data)

    await asyncio.gather(*(copy(e.key) for e in entries if not e.is_dir))
    return True


async def is_published(store: Store, staging_id: str) -> bool:
    """Whether a staged tree is published (always ``False`` on a store that is not shared)."""
    return store.shared and await store.content.exists(_key(staging_id))


async def drop_published(store: Store, staging_id: str) -> None:
    """Remove the published copy of a staged tree (nothing when there is none)."""
    if not store.shared:
        return
    with contextlib.suppress(FileNotFoundError):
        await store.content.remove(_key(staging_id), recursive=True)
