"""The search index in PostgreSQL: :class:`PgVectorIndex`, a drop-in for the LanceDB
:class:`~openviking_mcp.storage.index.VectorIndex` (both are a
:class:`~openviking_mcp.storage.index.SearchIndex`).

One row per :class:`IndexRecord` in ``ov_index_rows`` (:mod:`._index_rows`): ``vector
vector(dimension)`` searched by cosine (HNSW once the table is large), keyword tokens in a
GIN-indexed ``tsvector``. The model id and dimension live in ``ov_index_meta``; :meth:`open`
with another model raises ``FailedPreconditionError`` asking for ``openviking-mcp reindex
--all``, as the LanceDB index does, and :meth:`reset` drops and recreates the table.

Searches are answered from the same in-memory mirror as LanceDB's for tables up to
``memory_max_rows`` rows, kept current with every process's writes by a delta read before
each search (:mod:`._index_mirror`); otherwise (or for ``where`` conditions) by PostgreSQL,
with the same scores (:mod:`._index_search`). Every write is one transaction; every query binds
its filter's values (:mod:`._index_filter`). Connection failures are ``UnavailableError``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import numpy as np
import psycopg

from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotInitializedError,
    OpenVikingError,
    UnavailableError,
)
from openviking_mcp.storage.index._base import IndexBase
from openviking_mcp.storage.index._bm25 import query_tokens
from openviking_mcp.storage.index._columns import carry_over, check_vector, query_vector, stamped
from openviking_mcp.storage.index._errors import check_model
from openviking_mcp.storage.index._model import IndexFilter, IndexHit, IndexRecord
from openviking_mcp.storage.postgres import _index_admin as admin
from openviking_mcp.storage.postgres._db import PgDatabase, redacted
from openviking_mcp.storage.postgres._index_filter import where_clause
from openviking_mcp.storage.postgres._index_mirror import PgMirror
from openviking_mcp.storage.postgres._index_rows import (
    RECORD_COLUMNS,
    TABLE,
    row_to_record,
    tokens_of,
    upsert_sql,
    write_params,
)
from openviking_mcp.storage.postgres._index_search import (
    corpus_stats,
    keyword_hits,
    vector_hits,
)

__all__ = ["MEMORY_MAX_ROWS", "PgVectorIndex"]

#: Tables up to this many rows are also searched in memory (as the LanceDB index does).
MEMORY_MAX_ROWS = 400_000
#: A background optimize (HNSW build, tombstone pruning) starts after this many rows written.
AUTO_OPTIMIZE_ROWS = 2_000
#: Ids per ``= ANY(...)`` parameter and rows per ``INSERT``.
_CHUNK = 500
#: Batches of more records than this are tokenized in a worker thread.
_INLINE_RECORDS = 64


class PgVectorIndex(IndexBase):
    """The search index of a deployment in PostgreSQL (see the module docs).

    ``db`` is the open database (its owner closes it); tables of up to ``memory_max_rows``
    rows are also searched in memory (0: never)."""

    def __init__(
        self,
        db: PgDatabase,
        *,
        memory_max_rows: int = MEMORY_MAX_ROWS,
        hnsw_build: tuple[int, int] = (16, 64),
    ) -> None:
        self._db = db
        self._hnsw_build = hnsw_build
        self._mirror = PgMirror(db, max_rows=memory_max_rows)
        self._model_id = ""
        self._dimension = 0
        self._open = False
        self._hnsw = False
        self._error: OpenVikingError | None = None
        self._state_lock = asyncio.Lock()
        self._optimize_lock = asyncio.Lock()
        self._pending_rows = 0
        #: Rows written before a background optimize starts by itself (0: never).
        self.auto_optimize_rows = AUTO_OPTIMIZE_ROWS

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The database (without password) and table, for messages."""
        return f"{redacted(self._db.dsn)} table={TABLE}"

    @property
    def is_open(self) -> bool:
        return self._open

    @contextlib.contextmanager
    def _unavailable(self, operation: str) -> Iterator[None]:
        try:
            yield
        except psycopg.OperationalError as exc:
            raise UnavailableError(
                f"Search index in {self.path} is unavailable ({operation}): {exc}",
                {"path": self.path, "operation": operation},
            ) from exc

    async def open(self, model_id: str, dimension: int) -> None:
        """Open (creating if missing) the index for ``model_id``/``dimension``; another model
        raises ``FailedPreconditionError`` and leaves the instance unusable until
        :meth:`reset`."""
        check_model(model_id, dimension)
        async with self._state_lock:
            await self._shut()
            with self._unavailable("open"):
                opened = await admin.open_table(self._db, model_id, dimension)
                if isinstance(opened, OpenVikingError):
                    self._error = opened
                    raise opened
                await self._started(model_id, dimension, opened)
        self.schedule_optimize()

    async def reset(self, model_id: str, dimension: int) -> None:
        """Drop every row and recreate the table for a new model (``reindex``)."""
        check_model(model_id, dimension)
        async with self._state_lock:
            await self._shut()
            with self._unavailable("reset"):
                generation = await admin.reset_table(self._db, model_id, dimension)
                await self._started(model_id, dimension, generation)

    async def _started(self, model_id: str, dimension: int, generation: int) -> None:
        rows, _ = await corpus_stats(self._db)
        self._hnsw = await admin.has_hnsw(self._db)
        await self._mirror.open(dimension, generation, rows)
        self._model_id, self._dimension, self._open = model_id, dimension, True

    async def close(self) -> None:
        """Wait for a background optimize, then forget the table (the database stays open)."""
        async with self._state_lock:
            await self._shut()

    async def _shut(self) -> None:
        await self._stop_optimizer()
        await self._mirror.close()
        self._open, self._error, self._hnsw = False, None, False
        self._model_id, self._dimension = "", 0
        self._pending_rows = 0

    def _require(self) -> None:
        if not self._open:
            if self._error is not None:
                raise self._error
            raise NotInitializedError("The search index is not open")

    # -- writes --------------------------------------------------------------------------

    async def upsert(self, records: Sequence[IndexRecord]) -> int:
        """Insert or replace ``records`` by id in ONE transaction (semantics of
        :meth:`VectorIndex.upsert`: last duplicate wins, zero times become now, a zero
        ``created_at``/``active_count`` keeps the stored value). Rows written."""
        if not records:
            return 0
        self._require()
        unique = list({r.id: r for r in records}.values())
        if len(unique) > _INLINE_RECORDS:
            tokens = await asyncio.to_thread(tokens_of, unique)
        else:
            tokens = tokens_of(unique)
        dimension = self._dimension
        for record in unique:  # every vector is checked before the database is touched
            check_vector(record, dimension)
        with self._unavailable("upsert"):
            async with self._db.connection() as conn, conn.transaction():
                known = await self._counters(conn, [r.id for r in unique])
                ready = stamped(carry_over(unique, known))
                for start in range(0, len(ready), _CHUNK):
                    chunk = ready[start : start + _CHUNK]
                    params = [
                        p
                        for i, record in enumerate(chunk, start)
                        for p in write_params(record, dimension, tokens[i])
                    ]
                    await conn.execute(upsert_sql(len(chunk)), params)
        self._written(len(unique))
        return len(unique)

    @staticmethod
    async def _counters(
        conn: psycopg.AsyncConnection[Any], ids: list[str]
    ) -> dict[str, tuple[float, int]]:
        """``(created_at, active_count)`` of the stored rows with these ids."""
        known: dict[str, tuple[float, int]] = {}
        for start in range(0, len(ids), _CHUNK):
            cursor = await conn.execute(
                f"SELECT id, created_at, active_count FROM {TABLE} WHERE id = ANY(%s)",
                (ids[start : start + _CHUNK],),
            )
            for row in await cursor.fetchall():
                known[row["id"]] = (float(row["created_at"]), int(row["active_count"]))
        return known

    def _written(self, rows: int) -> None:
        self._pending_rows += rows
        if self.auto_optimize_rows and self._pending_rows >= self.auto_optimize_rows:
            self.schedule_optimize()

    async def delete(self, flt: IndexFilter) -> int:
        """Delete the rows matching ``flt``; how many there were."""
        self._require()
        where, params = where_clause(flt)
        with self._unavailable("delete"):
            return await self._db.execute(f"DELETE FROM {TABLE} {where}", params)

    async def delete_ids(self, ids: Sequence[str]) -> int:
        """Delete rows by id; how many existed."""
        self._require()
        unique = list(dict.fromkeys(ids))
        total = 0
        with self._unavailable("delete"):
            async with self._db.connection() as conn, conn.transaction():
                for start in range(0, len(unique), _CHUNK):
                    cursor = await conn.execute(
                        f"DELETE FROM {TABLE} WHERE id = ANY(%s)", (unique[start : start + _CHUNK],)
                    )
                    total += cursor.rowcount
        return total

    async def _update_uris(
        self,
        operation: str,
        assignment: str,
        value: list[Any],
        account_id: str,
        uris: Sequence[str],
    ) -> int:
        self._require()
        unique = list(dict.fromkeys(uris))
        total = 0
        sql = (
            f"UPDATE {TABLE} SET {assignment}, xid = pg_current_xact_id() "
            "WHERE account_id = %s AND uri = ANY(%s)"
        )
        with self._unavailable(operation):
            async with self._db.connection() as conn, conn.transaction():
                for start in range(0, len(unique), _CHUNK):
                    args = [*value, account_id, unique[start : start + _CHUNK]]
                    total += (await conn.execute(sql, args)).rowcount
        return total

    async def increment_active(self, account_id: str, uris: Sequence[str]) -> int:
        """``active_count += 1`` on every row of ``uris`` in the account; rows touched."""
        return await self._update_uris(
            "increment_active", "active_count = active_count + 1", [], account_id, uris
        )

    async def set_tags(self, account_id: str, uris: Sequence[str], tags: Sequence[str]) -> int:
        """Set ``tags`` on every row of ``uris`` in the account; rows touched."""
        listed = [str(t) for t in tags]
        return await self._update_uris("set_tags", "tags = %s::text[]", [listed], account_id, uris)

    # -- reads ---------------------------------------------------------------------------

    def read_scope(self) -> AbstractAsyncContextManager[None]:
        """Searches inside check the mirror's freshness once, at the first."""
        return self._mirror.scope()

    async def vector_search(
        self, vector: np.ndarray, flt: IndexFilter, limit: int
    ) -> list[IndexHit]:
        """The ``limit`` rows nearest to ``vector`` by cosine; score = cosine similarity."""
        self._require()
        query_vec = query_vector(vector, self._dimension)
        if limit <= 0:
            return []
        with self._unavailable("vector_search"):
            mirror = await self._mirror.usable(flt)
            if mirror is not None:
                return mirror.vector_search(query_vec, flt, limit)
            return await vector_hits(self._db, query_vec, flt, limit, hnsw=self._hnsw)

    async def fts_search(self, query: str, flt: IndexFilter, limit: int) -> list[IndexHit]:
        """BM25 search of ``text`` (the query reduced to plain terms, never raising for odd
        syntax); score = raw BM25, best first."""
        self._require()
        tokens = query_tokens(query)
        if not tokens or limit <= 0:
            return []
        flt.to_sql()  # the same validation as the other paths
        with self._unavailable("fts_search"):
            mirror = await self._mirror.usable(flt)
            if mirror is not None:
                return mirror.fts_search(query, flt, limit)
            return await keyword_hits(self._db, tokens, flt, limit)

    async def count(self, flt: IndexFilter | None = None) -> int:
        """Rows matching ``flt`` (all rows when ``None``)."""
        self._require()
        with self._unavailable("count"):
            if flt is None:
                return (await corpus_stats(self._db))[0]
            where, params = where_clause(flt)
            (row,) = await self._db.fetchall(f"SELECT count(*) AS n FROM {TABLE} {where}", params)
            return int(row["n"])

    async def scroll(
        self, flt: IndexFilter | None, limit: int, cursor: str | None
    ) -> tuple[list[IndexRecord], str | None]:
        """A page of rows in id order after ``cursor``; the next cursor is ``None`` at the end."""
        self._require()
        if limit <= 0:
            raise InvalidArgumentError("limit must be positive", {"limit": limit})
        after = ("id > %s", [cursor]) if cursor else ("true", [])
        where, params = where_clause(flt, after)
        sql = f"SELECT {RECORD_COLUMNS} FROM {TABLE} {where} ORDER BY id LIMIT %s"
        with self._unavailable("scroll"):
            records = await self._records(sql, [*params, limit + 1])
        if len(records) > limit:
            return records[:limit], records[limit - 1].id
        return records, None

    async def _records(self, sql: str, params: Sequence[Any]) -> list[IndexRecord]:
        async with self._db.connection() as conn:
            rows = await (await conn.execute(sql, params, binary=True)).fetchall()
        return [row_to_record(r) for r in rows]

    async def get(self, ids: Sequence[str]) -> list[IndexRecord]:
        """The rows with these ids, in the order asked (missing ids are skipped)."""
        self._require()
        unique = list(dict.fromkeys(ids))
        found: dict[str, IndexRecord] = {}
        with self._unavailable("get"):
            for start in range(0, len(unique), _CHUNK):
                sql = f"SELECT {RECORD_COLUMNS} FROM {TABLE} WHERE id = ANY(%s)"
                records = await self._records(sql, [unique[start : start + _CHUNK]])
                found.update((r.id, r) for r in records)
        return [found[i] for i in unique if i in found]

    async def uris(self, flt: IndexFilter) -> set[tuple[str, int, str]]:
        """``(uri, level, anchor)`` of every row matching ``flt``."""
        self._require()
        where, params = where_clause(flt)
        with self._unavailable("uris"):
            rows = await self._db.fetchall(
                f"SELECT uri, level, anchor FROM {TABLE} {where}", params
            )
        return {(r["uri"], int(r["level"]), r["anchor"]) for r in rows}

    # -- maintenance ---------------------------------------------------------------------

    async def ensure_indexes(self) -> None:
        """Build the HNSW index on ``vector`` once the table has more than
        ``VECTOR_INDEX_MIN_ROWS`` rows (the B-tree and GIN indexes come with the table)."""
        self._require()
        with self._unavailable("ensure_indexes"):
            rows, _ = await corpus_stats(self._db)
            self._hnsw = await admin.ensure_hnsw(self._db, rows, self._hnsw_build)

    async def optimize(self) -> None:
        """Prune old tombstones and build missing indexes (one run at a time)."""
        self._require()
        async with self._optimize_lock:
            self._pending_rows = 0
            with self._unavailable("optimize"):
                await admin.prune_tombstones(self._db)
            await self.ensure_indexes()

    async def stats(self) -> dict[str, Any]:
        """Rows, generation (``version``), indexes, model, dimension, path, sizes and rows
        held in memory."""
        self._require()
        with self._unavailable("stats"):
            found = await admin.index_stats(self._db)
        return {
            **found,
            "model_id": self._model_id,
            "dimension": self._dimension,
            "path": self.path,
            "memory_rows": self._mirror.rows,
        }
