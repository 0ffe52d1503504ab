"""Keeping the in-memory :class:`Mirror` of the table in step with every writer.

This process's writes reach the mirror right after they commit (:meth:`SearchCache.upserted`,
:meth:`SearchCache.removed`). Writes of *other* processes (a CLI on the same workspace, a
second server) are noticed through a change log beside the table, ``.changes``: every data
commit by any :class:`VectorIndex` appends one line with a token of its writer. Before a
search the cache compares the log's inode and size with what it has accounted for (one
``stat``); lines that are not its own mean another writer changed the table, so the mirror
is rebuilt in the background and searches go to LanceDB until it is ready. Compaction and
index maintenance change no data and write no line.

While the mirror is (re)built from a scan, the changes this process commits meanwhile are
kept and replayed on the new mirror (replays are idempotent: upserts by id, removals by id).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from openviking_mcp.storage.index._arrow import table_to_records
from openviking_mcp.storage.index._mirror import Mirror, Prepared, prepare
from openviking_mcp.storage.index._model import IndexFilter, IndexRecord
from openviking_mcp.storage.index._queries import rows_of_uris

__all__ = ["CHANGE_LOG", "SYNC_LOAD_ROWS", "SearchCache"]

logger = logging.getLogger("openviking_mcp.index")

CHANGE_LOG = ".changes"
#: Tables up to this many rows are mirrored before ``open`` returns; larger ones in the
#: background (searches use LanceDB meanwhile).
SYNC_LOAD_ROWS = 2_000
#: Batches of more records than this are tokenized in a worker thread.
_INLINE_RECORDS = 64
#: Rows per batch of the scan that (re)builds a mirror.
_SCAN_BATCH = 4096

_Change = tuple[str, Any]


class SearchCache:
    """The mirror of one table and its freshness (see the module docstring).

    ``max_rows`` bounds the rows held in memory: a larger table is searched in LanceDB only
    (0 turns the mirror off).
    """

    def __init__(self, path: Path, *, max_rows: int) -> None:
        self.log_path = Path(path) / CHANGE_LOG
        self.max_rows = max_rows
        self._mirror: Mirror | None = None
        self._token = secrets.token_hex(8)
        self._seen: tuple[int, int] = (0, 0)  # inode and size of the log accounted for
        self._pending: list[_Change] | None = None  # changes made while a rebuild runs
        self._task: asyncio.Task[None] | None = None
        self._table: Any = None
        self._dimension = 0

    @property
    def rows(self) -> int | None:
        """Rows held in memory (``None`` while there is no current mirror)."""
        return None if self._mirror is None else self._mirror.rows

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self, table: Any, dimension: int) -> None:
        """Start mirroring ``table``: at once when it is small, else in the background."""
        await self.close()
        if not self.max_rows:
            return
        self._table, self._dimension = table, dimension
        await asyncio.to_thread(self._touch_log)
        rows = int(await table.count_rows())
        if rows > self.max_rows:
            logger.info("Search index of %d rows is searched in LanceDB only", rows)
            return
        if rows <= SYNC_LOAD_ROWS:
            await self._rebuild()
        else:
            self._schedule_rebuild()

    def reset(self, table: Any, dimension: int) -> None:
        """The table was recreated empty by this process: an empty mirror, and a new log
        that tells every other process to rebuild theirs."""
        self._cancel()
        if not self.max_rows:
            return
        self._table, self._dimension = table, dimension
        self._mirror = Mirror(dimension)
        tmp = self.log_path.with_name(CHANGE_LOG + ".tmp")
        tmp.write_bytes(b"")
        os.replace(tmp, self.log_path)
        self._seen = self._stat()

    async def close(self) -> None:
        task = self._cancel()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        self._table = None

    def _cancel(self) -> asyncio.Task[None] | None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
        self._mirror, self._pending = None, None
        return task

    # -- reads -----------------------------------------------------------------------------

    def usable(self, flt: IndexFilter) -> Mirror | None:
        """The mirror, when it is current and can evaluate ``flt``; else ``None`` (search
        LanceDB)."""
        mirror = self._mirror
        if mirror is None or flt.where is not None:
            return None
        if self._stat() != self._seen and not self._account_log():
            self._stale()
            return None
        return mirror

    # -- writes ----------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """Whether changes need to be prepared for the mirror (it exists or is being built)."""
        return self._mirror is not None or self._pending is not None

    async def prepare(self, records: Sequence[IndexRecord]) -> Prepared:
        """Records with their tokens, made off the event loop for large batches."""
        if not self.active:
            return []
        if len(records) > _INLINE_RECORDS:
            return await asyncio.to_thread(prepare, records)
        return prepare(records)

    async def refresh(self, account_id: str, uris: Sequence[str]) -> None:
        """Rows of ``uris`` were updated in place by this process: mirror them as stored."""
        if not self.active or self._table is None:
            self.upserted([])
            return
        records = await rows_of_uris(self._table, account_id, uris)
        self.upserted(await self.prepare(records))

    def upserted(self, prepared: Prepared) -> None:
        """Rows committed by this process (as prepared before the commit)."""
        self._changed(("upsert", prepared))

    def removed(self, ids: Sequence[str]) -> None:
        """Rows deleted by this process."""
        self._changed(("remove", list(ids)))

    def _changed(self, change: _Change) -> None:
        if self._table is None:
            return
        if self._pending is not None:
            self._pending.append(change)
        if self._mirror is not None:
            _apply(self._mirror, change)
            if self._mirror.rows > self.max_rows:
                logger.info("Search index outgrew the in-memory mirror (%d rows)", self.max_rows)
                self._mirror = None
        self._append_log()

    # -- the change log --------------------------------------------------------------------

    def _touch_log(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab"):
            pass

    def _stat(self) -> tuple[int, int]:
        try:
            st = os.stat(self.log_path)
        except OSError:
            return (0, 0)
        return (st.st_ino, st.st_size)

    def _append_log(self) -> None:
        """Add this writer's line, then account for it (and find any foreign line)."""
        try:
            fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, (self._token + "\n").encode())
            finally:
                os.close(fd)
        except OSError:
            logger.warning("Cannot write %s; rebuilding the search mirror", self.log_path)
            self._stale()
            return
        if not self._account_log():
            self._stale()

    def _account_log(self) -> bool:
        """Read the log past what was accounted for: ``True`` when every new line is ours
        (then it is accounted for), ``False`` when another writer's line is among them."""
        inode, size = self._stat()
        seen_inode, seen_size = self._seen
        if inode != seen_inode or size < seen_size:
            return False
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(seen_size)
                tail = fh.read(size - seen_size)
        except OSError:
            return False
        expected = (self._token + "\n").encode()
        if tail.replace(expected, b""):
            return False
        self._seen = (inode, size)
        return True

    # -- rebuilds --------------------------------------------------------------------------

    def _stale(self) -> None:
        self._mirror = None
        if self._pending is None:
            self._schedule_rebuild()

    def _schedule_rebuild(self) -> None:
        if self._table is None or (self._task is not None and not self._task.done()):
            return
        self._pending = []
        self._task = asyncio.get_running_loop().create_task(self._rebuild_logged())

    async def _rebuild_logged(self) -> None:
        try:
            await self._rebuild()
        except asyncio.CancelledError:
            raise
        except Exception:
            self._pending = None
            logger.warning(
                "Building the search mirror of %s failed", self.log_path.parent, exc_info=True
            )

    async def _rebuild(self) -> None:
        """Scan the table into a new mirror, replay the changes made meanwhile, swap it in."""
        table = self._table
        if self._pending is None:
            self._pending = []
        before = self._stat()
        mirror = Mirror(self._dimension)  # private until swapped in: filled in a thread
        mirror.reserve(int(await table.count_rows()))
        batches = await table.query().to_batches(max_batch_length=_SCAN_BATCH)
        async for batch in batches:
            await asyncio.to_thread(_fill, mirror, batch)
        await asyncio.to_thread(mirror.trim)
        pending, self._pending = self._pending or [], None
        for change in pending:
            _apply(mirror, change)
        if table is not self._table:
            return  # closed or reset meanwhile
        self._seen = before
        if not self._account_log():
            self._schedule_rebuild()  # another writer committed during the scan
            return
        self._mirror = mirror if mirror.rows <= self.max_rows else None


def _fill(mirror: Mirror, batch: Any) -> None:
    mirror.upsert(prepare(table_to_records(pa.Table.from_batches([batch]))))


def _apply(mirror: Mirror, change: _Change) -> None:
    kind, payload = change
    if kind == "upsert":
        mirror.upsert(payload)
    else:
        mirror.remove(payload)
