"""Copying stored content: a file, or a directory with everything below it (dot-files and
directory sidecars included), through the content store's own reads and atomic writes."""

from __future__ import annotations

import contextlib

from openviking_mcp.storage import ContentStore

__all__ = ["copy_entry"]


async def _copy(content: ContentStore, src: str, dst: str, is_dir: bool) -> int:
    if not is_dir:
        await content.write_bytes(dst, await content.read_bytes(src))
        return 1
    await content.mkdir(dst)
    created = 0
    for child in sorted(await content.listdir(src), key=lambda e: e.name):
        created += await _copy(content, f"{src}/{child.name}", f"{dst}/{child.name}", child.is_dir)
    return created


async def copy_entry(content: ContentStore, src: str, dst: str, *, is_dir: bool) -> int:
    """Copy the entry at storage key ``src`` to the new key ``dst`` (its parents are created);
    returns how many files were written. A failed copy leaves nothing at ``dst``."""
    try:
        return await _copy(content, src, dst, is_dir)
    except BaseException:
        with contextlib.suppress(OSError):
            if await content.exists(dst):
                await content.remove(dst, recursive=is_dir)
        raise
