"""Handing freed native memory back to the operating system after index maintenance.

LanceDB's compaction and index updates run in Rust on the system allocator. On glibc each
worker thread frees into its own arena, and freed pages below live allocations stay mapped,
so every optimize leaves the process as large as its peak (which grows with the table: a
compaction rewrites every fragment smaller than LanceDB's target of a million rows).
:func:`release_free_memory` asks glibc to return those pages (``malloc_trim``); on other C
libraries it does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
from collections.abc import Callable
from functools import cache

__all__ = ["release_free_memory", "trim_function"]

logger = logging.getLogger("openviking_mcp.index")


@cache
def trim_function() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or ``None`` when the C library has none."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    result: Callable[[int], int] = trim
    return result


async def release_free_memory() -> bool:
    """Return freed heap pages of every arena to the OS (in a worker thread: the walk over
    the arenas takes tens of milliseconds on a large heap). Whether glibc released any."""
    trim = trim_function()
    if trim is None:
        return False
    try:
        return bool(await asyncio.to_thread(trim, 0))
    except OSError:
        logger.debug("malloc_trim failed", exc_info=True)
        return False
