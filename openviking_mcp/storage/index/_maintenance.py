"""Maintenance of the contexts table: index planning, conflict retries and statistics.

Lance resolves commit conflicts in favour of data writes, so compactions and index builds
are retried with backoff (:func:`retry_conflicts`). :func:`missing_indexes` lists the FTS and
scalar indexes a table still lacks; :func:`summarize_stats` shapes the statistics report.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import lancedb
from lancedb.index import BTree

from openviking_mcp.storage.index._fts import fts_config, fts_config_matches

__all__ = [
    "CLEANUP_OLDER_THAN",
    "CONFLICT_RETRIES",
    "LANCE_INDEX_CACHE_BYTES",
    "LANCE_METADATA_CACHE_BYTES",
    "SCALAR_INDEX_COLUMNS",
    "connect",
    "dir_size",
    "indexes_by_column",
    "is_conflict",
    "missing_indexes",
    "retry_conflicts",
    "summarize_stats",
]

T = TypeVar("T")

SCALAR_INDEX_COLUMNS = ("id", "account_id", "uri", "parent_uri", "level")
#: Versions older than this are pruned by ``optimize`` (LanceDB's default keeps 7 days). Every
#: optimize writes new index files the size of the table, so an hour of versions kept 6x the
#: table on disk during a 10k-document import; a reader needs its version for milliseconds.
CLEANUP_OLDER_THAN = timedelta(minutes=1)
#: Attempts of a maintenance commit preempted by concurrent writes (backoff 50 ms, doubling).
CONFLICT_RETRIES = 6

#: LanceDB's cache of opened index data (its own default is 6 GiB) and of file metadata (1 GiB).
#: Searches run in memory, so LanceDB's caches mostly hold the index versions a busy import
#: leaves behind; unbounded, they grow the process by gigabytes.
LANCE_INDEX_CACHE_BYTES = 256 * 2**20
LANCE_METADATA_CACHE_BYTES = 64 * 2**20


async def connect(path: Path, interval: timedelta | None, cache_bytes: tuple[int, int]) -> Any:
    """A LanceDB connection to ``path`` whose caches hold at most ``cache_bytes`` (index data,
    file metadata); ``interval`` is its read consistency interval."""
    index_bytes, metadata_bytes = cache_bytes
    session = lancedb.Session(
        index_cache_size_bytes=index_bytes, metadata_cache_size_bytes=metadata_bytes
    )
    return await lancedb.connect_async(
        str(path), read_consistency_interval=interval, session=session
    )


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is Lance's "commit conflict" (a concurrent write won)."""
    return "commit conflict" in str(exc).lower()


async def retry_conflicts(call: Callable[[], Awaitable[T]]) -> T:
    """Run a maintenance commit again when a concurrent write preempted it.

    Lance resolves conflicts in favour of data writes: a compaction (``Rewrite``) or index
    commit that loses the race to a delete or update fails with "Retryable commit conflict".
    """
    delay, attempt = 0.05, 1
    while True:
        try:
            return await call()
        except Exception as exc:
            if attempt >= CONFLICT_RETRIES or not is_conflict(exc):
                raise
        await asyncio.sleep(delay)
        delay, attempt = delay * 2, attempt + 1


def indexes_by_column(configs: Iterable[Any]) -> dict[str, list[Any]]:
    """The table's index configs grouped by the columns they cover."""
    by_column: dict[str, list[Any]] = {}
    for config in configs:
        for column in config.columns:
            by_column.setdefault(column, []).append(config)
    return by_column


def missing_indexes(by_column: dict[str, list[Any]]) -> list[tuple[str, Any]]:
    """``(column, config)`` of the FTS index (absent or with other tokenizer settings) and
    the scalar indexes still to build."""
    wanted: list[tuple[str, Any]] = []
    fts = [c for c in by_column.get("text", []) if c.index_type == "FTS"]
    if not fts or not fts_config_matches(getattr(fts[0], "index_details", None)):
        wanted.append(("text", fts_config()))
    wanted.extend((c, BTree()) for c in SCALAR_INDEX_COLUMNS if c not in by_column)
    return wanted


def dir_size(path: Path) -> int:
    """Bytes of all files under ``path`` (unreadable files are skipped)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(root, name)).st_size
    return total


async def summarize_stats(
    table: Any, *, model_id: str, dimension: int, path: Path, memory_rows: int | None
) -> dict[str, Any]:
    """The statistics report of the index: LanceDB's table stats and index configs, plus the
    rows held by the in-memory mirror (``None`` when there is none)."""
    table_stats = await table.stats()
    rows = int(await table.count_rows())
    version = int(await table.version())
    configs = await table.list_indices()
    fragments = dict(table_stats.get("fragment_stats") or {})
    indexes = [
        {
            "name": c.name,
            "type": c.index_type,
            "columns": list(c.columns),
            "indexed_rows": getattr(c, "num_indexed_rows", None),
            "unindexed_rows": getattr(c, "num_unindexed_rows", None),
        }
        for c in configs
    ]
    return {
        "rows": rows,
        "fragments": fragments.get("num_fragments"),
        "small_fragments": fragments.get("num_small_fragments"),
        "version": version,
        "indexes": sorted(indexes, key=lambda i: str(i["name"])),
        "model_id": model_id,
        "dimension": dimension,
        "path": str(path),
        "data_bytes": table_stats.get("total_bytes"),
        "size_bytes": await asyncio.to_thread(dir_size, path),
        "memory_rows": memory_rows,
    }
