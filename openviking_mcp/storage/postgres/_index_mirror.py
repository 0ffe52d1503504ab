"""The in-memory :class:`~openviking_mcp.storage.index._mirror.Mirror` of the PostgreSQL
search index, kept current with the writes of every process.

The mirror is the one the LanceDB index uses: same filters, same cosine and BM25 code, hence
the same answers. It remembers the snapshot (``pg_current_snapshot()``) its rows reflect.
Before a search, one statement (run by :meth:`PgMirror.usable`) takes a new snapshot and lists
the ids of the rows and tombstones whose writing transaction that old snapshot did not see
(``xid >= xmin(old) AND NOT pg_visible_in_snapshot(xid, old)``, a range scan of the ``xid``
indexes: empty, and cheap, when nothing changed). Only that delta is applied: tombstoned ids
removed, changed rows fetched and upserted. The delta is exact whatever the commit order of
concurrent writers: a transaction still running when the snapshot was taken is not in it, so
its rows are picked up by a later refresh.

**Refresh bound**: a write committed by any process before a search here starts is seen by
that search (when it is answered from the mirror, the refresh runs first; else PostgreSQL is
queried directly). Deltas of more than :data:`SYNC_DELTA_ROWS` rows, a reset by another
process (``generation``) or pruned tombstones the mirror still needed (``pruned_xid``) are
caught up in the background; searches go to PostgreSQL meanwhile.

This process's own writes are picked up the same way (the mirror is never written directly),
so there is one path for every writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any

from openviking_mcp.storage.index._mirror import Mirror, Prepared
from openviking_mcp.storage.index._model import IndexFilter
from openviking_mcp.storage.postgres._db import PgDatabase, Row
from openviking_mcp.storage.postgres._index_rows import RECORD_COLUMNS, TABLE, row_to_record

__all__ = ["SYNC_DELTA_ROWS", "SYNC_LOAD_ROWS", "PgMirror"]

logger = logging.getLogger("openviking_mcp.index")

#: Tables up to this many rows are mirrored before ``open`` returns; larger in the background.
SYNC_LOAD_ROWS = 2_000
#: Deltas up to this many ids are applied before the search that found them.
SYNC_DELTA_ROWS = 2_000
_BATCH = 2_000

_DELTA_SQL = f"""
SELECT pg_current_snapshot()::text AS snap, m.generation, m.model_id, m.dimension,
    m.pruned_xid >= pg_snapshot_xmin(%(old)s::pg_snapshot) AS pruned,
    ARRAY(SELECT id FROM ov_index_tombstones
          WHERE xid >= pg_snapshot_xmin(%(old)s::pg_snapshot)
            AND NOT pg_visible_in_snapshot(xid, %(old)s::pg_snapshot)) AS removed,
    ARRAY(SELECT id FROM {TABLE}
          WHERE xid >= pg_snapshot_xmin(%(old)s::pg_snapshot)
            AND NOT pg_visible_in_snapshot(xid, %(old)s::pg_snapshot)) AS changed
FROM ov_index_meta AS m
"""
_MIRROR_COLUMNS = f"{RECORD_COLUMNS}, terms, freqs"
#: The mirrors (by ``id``) checked in the current read scope (``None``: outside any).
_SCOPE: ContextVar[set[int] | None] = ContextVar("ov_index_read_scope", default=None)


def _prepared(rows: list[Row]) -> Prepared:
    """Records with their stored tokens (as :func:`text_tokens` made them when written)."""
    return [
        (row_to_record(row), Counter(dict(zip(row["terms"], row["freqs"], strict=True))))
        for row in rows
    ]


class PgMirror:
    """The mirror of ``ov_index_rows`` and its freshness (see the module docs).

    ``max_rows`` bounds the rows held in memory: a larger table is searched in PostgreSQL
    only (0 turns the mirror off)."""

    def __init__(self, db: PgDatabase, *, max_rows: int) -> None:
        self._db = db
        self.max_rows = max_rows
        self._mirror: Mirror | None = None
        self._snapshot = ""
        self._generation = 0
        self._dimension = 0
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        #: Freshness checks begun and finished (numbered; one runs at a time).
        self._started = self._finished = 0

    @property
    def rows(self) -> int | None:
        """Rows held in memory (``None`` while there is no current mirror)."""
        return None if self._mirror is None or self._busy() else self._mirror.rows

    def _busy(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self, dimension: int, generation: int, rows: int) -> None:
        """Start mirroring a table of ``rows`` rows: at once when small, else in the
        background (searches use PostgreSQL meanwhile)."""
        await self.close()
        self._dimension, self._generation = dimension, generation
        if not self.max_rows:
            return
        if rows > self.max_rows:
            logger.info("Search index of %d rows is searched in PostgreSQL only", rows)
            return
        if rows <= SYNC_LOAD_ROWS:
            await self._load()
        else:
            self._start(self._load())

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._mirror, self._snapshot = None, ""

    def _start(self, work: Any) -> None:
        self._task = asyncio.get_running_loop().create_task(self._logged(work))

    async def _logged(self, work: Any) -> None:
        try:
            async with self._lock:
                await work
        except asyncio.CancelledError:
            raise
        except Exception:
            self._mirror = None
            logger.warning("Updating the search mirror failed", exc_info=True)

    # -- freshness -------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def scope(self) -> AsyncIterator[None]:
        """Searches inside check freshness once, at the first (see :meth:`usable`)."""
        token = _SCOPE.set(set())
        try:
            yield
        finally:
            _SCOPE.reset(token)

    async def usable(self, flt: IndexFilter) -> Mirror | None:
        """The mirror brought up to date, when it can answer ``flt``; else ``None`` (query
        PostgreSQL).

        Up to date means: every write committed before this call began is in it. Inside a
        :meth:`scope`, only the first search checks (the others see what it saw), and
        concurrent callers share one check that began after they arrived."""
        if self._mirror is None or flt.where is not None or self._busy():
            return None
        scope = _SCOPE.get()
        if scope is None or id(self) not in scope:
            ticket = self._started + 1  # the first check that begins after this call
            async with self._lock:
                if self._mirror is None or self._busy():
                    return None
                if self._finished < ticket:
                    self._started += 1
                    await self._refresh()
                    self._finished = self._started
            if scope is not None:
                scope.add(id(self))
        mirror = self._mirror
        return None if self._busy() else mirror

    async def _refresh(self) -> None:
        """Apply what changed since the mirror's snapshot (module docs)."""
        found = await self._db.fetchall(_DELTA_SQL, {"old": self._snapshot})
        if not found:
            self._mirror = None  # the index was never opened here: nothing to mirror
            return
        delta = found[0]
        if (
            delta["generation"] != self._generation
            or delta["dimension"] != self._dimension
            or delta["pruned"]
        ):
            self._generation = int(delta["generation"])
            self._start(self._load())
            return
        removed, changed = list(delta["removed"]), list(delta["changed"])
        if len(removed) + len(changed) > SYNC_DELTA_ROWS:
            self._start(self._catch_up(removed, changed, delta["snap"]))
            return
        await self._catch_up(removed, changed, delta["snap"])

    async def _catch_up(self, removed: list[str], changed: list[str], snapshot: str) -> None:
        mirror = self._mirror
        if mirror is None:
            return
        if removed:
            mirror.remove(removed)
        for start in range(0, len(changed), _BATCH):
            rows = await self._db.fetchall(
                f"SELECT {_MIRROR_COLUMNS} FROM {TABLE} WHERE id = ANY(%s)",
                (changed[start : start + _BATCH],),
            )
            mirror.upsert(_prepared(rows))
        self._snapshot = snapshot
        if mirror.rows > self.max_rows:
            logger.info("Search index outgrew the in-memory mirror (%d rows)", self.max_rows)
            self._mirror = None

    async def _load(self) -> None:
        """Read the whole table in one snapshot into a new mirror, then swap it in."""
        self._mirror = None
        mirror = Mirror(self._dimension)  # private until swapped in: filled in a thread
        async with self._db.connection() as conn, conn.transaction():
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            head = await (
                await conn.execute(
                    "SELECT pg_current_snapshot()::text AS snap, generation, dimension "
                    "FROM ov_index_meta"
                )
            ).fetchone()
            if head is None or head["dimension"] != self._dimension:
                return
            after = ""
            while True:
                cursor = await conn.execute(
                    f"SELECT {_MIRROR_COLUMNS} FROM {TABLE} WHERE id > %s ORDER BY id LIMIT %s",
                    (after, _BATCH),
                    binary=True,
                )
                rows = await cursor.fetchall()
                if not rows:
                    break
                await asyncio.to_thread(mirror.upsert, _prepared(rows))
                if mirror.rows > self.max_rows:
                    logger.info("Search index of more than %d rows: not mirrored", self.max_rows)
                    return
                after = rows[-1]["id"]
        await asyncio.to_thread(mirror.trim)
        self._mirror, self._snapshot = mirror, head["snap"]
        self._generation = int(head["generation"])
