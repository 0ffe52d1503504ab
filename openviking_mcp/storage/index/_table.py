"""The ``VectorIndex``: one LanceDB table of context rows, searched by vector and by BM25.

The class owns the table's lifecycle, writes, reads and the optimize (run in the background
by :class:`~._base.IndexBase`); query building lives in :mod:`._queries`,
maintenance helpers in :mod:`._maintenance`, Arrow conversion in :mod:`._arrow`, what both
backends share about a row in :mod:`._columns` and error mapping in :mod:`._errors`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
from lancedb.index import IvfFlat

from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotInitializedError,
    OpenVikingError,
)
from openviking_mcp.storage.index._arrow import (
    build_schema,
    offload,
    read_meta,
    records_to_arrow,
    table_to_records,
)
from openviking_mcp.storage.index._base import IndexBase
from openviking_mcp.storage.index._cache import SearchCache
from openviking_mcp.storage.index._columns import carry_over, query_vector, stamped
from openviking_mcp.storage.index._errors import check_model, mismatch_error, unavailable
from openviking_mcp.storage.index._fts import build_fts_query
from openviking_mcp.storage.index._maintenance import (
    CLEANUP_OLDER_THAN,
    LANCE_INDEX_CACHE_BYTES,
    LANCE_METADATA_CACHE_BYTES,
    connect,
    indexes_by_column,
    is_conflict,
    missing_indexes,
    retry_conflicts,
    summarize_stats,
)
from openviking_mcp.storage.index._memory import release_free_memory
from openviking_mcp.storage.index._model import IndexFilter, IndexHit, IndexRecord, sql_string
from openviking_mcp.storage.index._queries import (
    chunks,
    in_list,
    ranked_hits,
    rows_by_ids,
    scroll_query,
    stored_counters,
    text_query,
    uri_keys,
    vector_query,
)

__all__ = [
    "AUTO_OPTIMIZE_COMMITS",
    "AUTO_OPTIMIZE_ROWS",
    "TABLE_NAME",
    "VECTOR_INDEX_MIN_ROWS",
    "VectorIndex",
]

logger = logging.getLogger("openviking_mcp.index")

T = TypeVar("T")

TABLE_NAME = "contexts"
#: Below this many rows vector search is brute force (exact and fast enough); above it an
#: IVF_FLAT (cosine) index is built by :meth:`VectorIndex.ensure_indexes`.
VECTOR_INDEX_MIN_ROWS = 20_000
#: A background optimize starts by itself after this many commits or rows written by this
#: instance since the last one (unindexed rows are searched by brute force: FTS over 5k
#: unindexed rows takes ~100 ms instead of ~10 ms).
AUTO_OPTIMIZE_COMMITS = 64
AUTO_OPTIMIZE_ROWS = 2_000
#: Tables up to this many rows are also held (and searched) in memory, see :mod:`._cache`.
MEMORY_MAX_ROWS = 400_000


class VectorIndex(IndexBase):
    """The search index of one workspace (see the package docstring for write discipline).

    ``read_consistency_interval`` (seconds) is how stale LanceDB reads may be with respect to
    writes made by *other* processes: 0 checks for a newer table version on every read,
    ``None`` never checks. Tables of up to ``memory_max_rows`` rows are also searched in
    memory (0: never), kept current with every writer's changes (see :mod:`._cache`).
    ``cache_bytes`` bounds LanceDB's index and metadata caches.
    """

    def __init__(
        self,
        path: Path,
        *,
        read_consistency_interval: float | None = 0.0,
        memory_max_rows: int = MEMORY_MAX_ROWS,
        cache_bytes: tuple[int, int] = (LANCE_INDEX_CACHE_BYTES, LANCE_METADATA_CACHE_BYTES),
    ) -> None:
        self.path: Path = Path(path)
        self._cache_bytes = cache_bytes
        self._cache = SearchCache(self.path, max_rows=memory_max_rows)
        interval = read_consistency_interval
        self._interval = None if interval is None else timedelta(seconds=interval)
        self._db: Any = None  # lancedb.AsyncConnection
        self._table: Any = None  # lancedb.table.AsyncTable
        self._schema: pa.Schema | None = None
        self._model_id = ""
        self._dimension = 0
        self._error: OpenVikingError | None = None
        self._state_lock = asyncio.Lock()
        self._optimize_lock = asyncio.Lock()
        self._pending_commits = 0
        self._pending_rows = 0
        #: Thresholds of the automatic background optimize (0 disables that trigger).
        self.auto_optimize_commits = AUTO_OPTIMIZE_COMMITS
        self.auto_optimize_rows = AUTO_OPTIMIZE_ROWS

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._table is not None

    async def open(self, model_id: str, dimension: int) -> None:
        """Open (creating if missing) the table for vectors of ``model_id``/``dimension``.

        Raises :class:`FailedPreconditionError` when the existing index was built with another
        model or dimension; the instance then stays unusable until :meth:`reset`.
        """
        check_model(model_id, dimension)
        async with self._state_lock:
            await self._stop_optimizer()
            self._close_table()
            self._error = None
            db = await self._connection()
            schema = build_schema(model_id, dimension)
            with unavailable(self.path, "open"):
                table = await self._open_or_create(db, schema)
                existing = await table.schema()
            index_model, index_dim, complete = read_meta(existing)
            if index_model != model_id or index_dim != dimension or not complete:
                table.close()
                self._error = mismatch_error(index_model, index_dim, model_id, dimension)
                raise self._error
            self._table, self._schema = table, existing
            self._model_id, self._dimension = model_id, dimension
            await self._cache.open(table, dimension)
        await self.ensure_indexes()

    async def reset(self, model_id: str, dimension: int) -> None:
        """Drop every row and index and recreate the table for a new model (``reindex``)."""
        check_model(model_id, dimension)
        async with self._state_lock:
            await self._stop_optimizer()
            self._close_table()
            self._error = None
            db = await self._connection()
            schema = build_schema(model_id, dimension)
            with unavailable(self.path, "reset"):
                await db.drop_table(TABLE_NAME, ignore_missing=True)
                table = await db.create_table(TABLE_NAME, schema=schema, mode="overwrite")
                self._schema = await table.schema()
            self._table = table
            self._model_id, self._dimension = model_id, dimension
            self._cache.reset(table, dimension)
        await self.ensure_indexes()

    async def close(self) -> None:
        """Wait for a background optimize, then release the table and connection."""
        async with self._state_lock:
            await self._stop_optimizer()
            await self._cache.close()
            self._close_table()
            if self._db is not None:
                self._db.close()
                self._db = None

    async def _connection(self) -> Any:
        if self._db is None:
            with unavailable(self.path, "connect"):
                await asyncio.to_thread(self.path.mkdir, parents=True, exist_ok=True)
                self._db = await connect(self.path, self._interval, self._cache_bytes)
        return self._db

    @staticmethod
    async def _open_or_create(db: Any, schema: pa.Schema) -> Any:
        try:
            return await db.open_table(TABLE_NAME)
        except ValueError:
            pass  # missing; any other problem resurfaces from the last open_table below
        try:
            return await db.create_table(TABLE_NAME, schema=schema)
        except ValueError:
            return await db.open_table(TABLE_NAME)  # created meanwhile by another process

    def _close_table(self) -> None:
        if self._table is not None:
            self._table.close()
        self._table = None
        self._schema = None
        self._model_id, self._dimension = "", 0
        self._pending_commits = self._pending_rows = 0

    def _require(self) -> Any:
        if self._table is None:
            if self._error is not None:
                raise self._error
            raise NotInitializedError("The search index is not open")
        return self._table

    # -- writes --------------------------------------------------------------------------

    async def upsert(self, records: Sequence[IndexRecord]) -> int:
        """Insert or replace ``records`` (keyed by :attr:`IndexRecord.id`) in ONE commit.

        Duplicate ids in the batch: the last one wins. ``created_at``/``updated_at`` of 0
        become "now"; a ``created_at`` or ``active_count`` of 0 keeps the stored row's value.
        Returns the number of rows written.
        """
        if not records:
            return 0
        table = self._require()
        schema, dimension = self._schema, self._dimension
        assert schema is not None  # set together with the table
        unique = list({r.id: r for r in records}.values())
        unique = stamped(await self._carry_over(table, unique))
        data = await offload(len(unique), records_to_arrow, unique, schema, dimension)
        prepared = await self._cache.prepare(unique)
        with unavailable(self.path, "upsert"):
            await (
                table.merge_insert("id")
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute(data)
            )
        self._cache.upserted(prepared)
        self._written(len(unique))
        return len(unique)

    def _written(self, rows: int) -> None:
        """Count a commit; past the thresholds, optimize in the background."""
        self._pending_commits += 1
        self._pending_rows += rows
        commits, limit_rows = self.auto_optimize_commits, self.auto_optimize_rows
        if (commits and self._pending_commits >= commits) or (
            limit_rows and self._pending_rows >= limit_rows
        ):
            self.schedule_optimize()

    async def _carry_over(self, table: Any, records: list[IndexRecord]) -> list[IndexRecord]:
        """Keep ``created_at`` and ``active_count`` of rows that are being replaced."""
        wanted = [r.id for r in records if not r.created_at or not r.active_count]
        if not wanted:
            return records
        with unavailable(self.path, "upsert"):
            known = await stored_counters(table, wanted)
        return carry_over(records, known)

    async def delete(self, flt: IndexFilter) -> int:
        """Delete the rows matching ``flt``; returns how many there were."""
        return await self._delete_where(self._require(), flt.to_sql())

    async def delete_ids(self, ids: Sequence[str]) -> int:
        """Delete rows by id; returns how many existed."""
        table = self._require()
        unique = list(dict.fromkeys(ids))
        total = 0
        for chunk in chunks(unique):
            total += await self._delete_where(table, in_list("id", chunk))
        return total

    async def _delete_where(self, table: Any, where: str | None) -> int:
        with unavailable(self.path, "delete"):
            query = table.query().select(["id"])
            found = await (query.where(where) if where else query).to_arrow()
            ids = found.column("id").to_pylist()
            if ids:
                await table.delete(where or "true")
        if ids:
            self._cache.removed(ids)
            self._written(0)
        return len(ids)

    async def increment_active(self, account_id: str, uris: Sequence[str]) -> int:
        """``active_count += 1`` on every row of ``uris`` in the account; returns rows touched."""
        table = self._require()
        unique = list(dict.fromkeys(uris))
        total = 0
        with unavailable(self.path, "increment_active"):
            for chunk in chunks(unique):
                where = f"account_id = {sql_string(account_id)} AND {in_list('uri', chunk)}"
                result = await table.update(
                    where=where, updates_sql={"active_count": "active_count + 1"}
                )
                total += int(result.rows_updated)
        if total:
            with unavailable(self.path, "increment_active"):
                await self._cache.refresh(account_id, unique)
            self._written(0)
        return total

    async def set_tags(self, account_id: str, uris: Sequence[str], tags: Sequence[str]) -> int:
        """Set ``tags`` on every row of ``uris`` in the account; returns rows touched."""
        table = self._require()
        listed = ", ".join(sql_string(t) for t in tags)
        value = f"arrow_cast(make_array({listed}), 'List(Utf8)')"
        total = 0
        with unavailable(self.path, "set_tags"):
            for chunk in chunks(list(dict.fromkeys(uris))):
                where = f"account_id = {sql_string(account_id)} AND {in_list('uri', chunk)}"
                result = await table.update(where=where, updates_sql={"tags": value})
                total += int(result.rows_updated)
        if total:
            with unavailable(self.path, "set_tags"):
                await self._cache.refresh(account_id, uris)
            self._written(0)
        return total

    # -- reads ---------------------------------------------------------------------------

    async def vector_search(
        self, vector: np.ndarray, flt: IndexFilter, limit: int
    ) -> list[IndexHit]:
        """The ``limit`` rows nearest to ``vector`` by cosine; score = cosine similarity."""
        table = self._require()
        query_vec = query_vector(vector, self._dimension)
        if limit <= 0:
            return []
        mirror = self._cache.usable(flt)
        if mirror is not None:
            return mirror.vector_search(query_vec, flt, limit)
        query = vector_query(table, query_vec, flt, limit)
        with unavailable(self.path, "vector_search"):
            result = await query.to_arrow()
        records = await offload(result.num_rows, table_to_records, result)
        distances = result.column("_distance").to_pylist()
        return ranked_hits(records, [1.0 - float(d) for d in distances])

    async def fts_search(self, query: str, flt: IndexFilter, limit: int) -> list[IndexHit]:
        """BM25 search of ``text``; the query is reduced to plain terms and never raises for
        odd syntax. Score = raw BM25 (best first)."""
        table = self._require()
        fts_query = build_fts_query(query)
        if fts_query is None or limit <= 0:
            return []
        mirror = self._cache.usable(flt)
        if mirror is not None:
            return mirror.fts_search(query, flt, limit)
        search = text_query(table, fts_query, flt, limit)
        with unavailable(self.path, "fts_search"):
            result = await search.to_arrow()
        records = await offload(result.num_rows, table_to_records, result)
        return ranked_hits(records, [float(s) for s in result.column("_score").to_pylist()])

    async def count(self, flt: IndexFilter | None = None) -> int:
        """Rows matching ``flt`` (all rows when ``None``)."""
        table = self._require()
        with unavailable(self.path, "count"):
            return int(await table.count_rows(flt.to_sql() if flt is not None else None))

    async def scroll(
        self, flt: IndexFilter | None, limit: int, cursor: str | None
    ) -> tuple[list[IndexRecord], str | None]:
        """A page of rows in id order after ``cursor``; the next cursor is ``None`` at the end."""
        table = self._require()
        if limit <= 0:
            raise InvalidArgumentError("limit must be positive", {"limit": limit})
        query = scroll_query(table, flt, limit, cursor)
        with unavailable(self.path, "scroll"):
            result = await query.to_arrow()
        records = await offload(result.num_rows, table_to_records, result)
        if len(records) > limit:
            return records[:limit], records[limit - 1].id
        return records, None

    async def get(self, ids: Sequence[str]) -> list[IndexRecord]:
        """The rows with these ids, in the order asked (missing ids are skipped)."""
        table = self._require()
        with unavailable(self.path, "get"):
            return await rows_by_ids(table, ids)

    async def uris(self, flt: IndexFilter) -> set[tuple[str, int, str]]:
        """``(uri, level, anchor)`` of every row matching ``flt``."""
        table = self._require()
        with unavailable(self.path, "uris"):
            return await uri_keys(table, flt)

    # -- maintenance ---------------------------------------------------------------------

    async def ensure_indexes(self) -> None:
        """Create the missing indexes (idempotent).

        FTS on ``text`` (rebuilt when its tokenizer settings differ from ours), BTree on
        ``id``, ``account_id``, ``uri``, ``parent_uri`` and ``level``, and IVF_FLAT (cosine)
        on ``vector`` once the table has more than :data:`VECTOR_INDEX_MIN_ROWS` rows. Rows
        written after an index was built are searched unindexed until :meth:`optimize`.
        """
        table = self._require()
        with unavailable(self.path, "ensure_indexes"):
            by_column = indexes_by_column(await table.list_indices())
            wanted = missing_indexes(by_column)
            if "vector" not in by_column and await table.count_rows() > VECTOR_INDEX_MIN_ROWS:
                wanted.append(("vector", IvfFlat(distance_type="cosine")))
            for column, config in wanted:
                await retry_conflicts(
                    partial(table.create_index, column, config=config, replace=True)
                )

    async def optimize(self) -> None:
        """Compact small fragments, prune old versions, fold new rows into the indexes and
        create any missing index. One optimize runs at a time; safe to call any time, also
        during writes (a compaction preempted by concurrent writes is retried, then deferred).
        """
        table = self._require()
        async with self._optimize_lock:
            pending = (self._pending_commits, self._pending_rows)
            self._pending_commits = self._pending_rows = 0
            try:
                with unavailable(self.path, "optimize"):
                    await retry_conflicts(
                        lambda: table.optimize(cleanup_older_than=CLEANUP_OLDER_THAN)
                    )
            except Exception as exc:
                if not is_conflict(exc):
                    raise
                # writes kept winning: compaction is only deferred to the next run
                self._pending_commits += pending[0]
                self._pending_rows += pending[1]
                logger.info("Optimize of %s deferred by concurrent writes: %s", self.path, exc)
            await self.ensure_indexes()
            await release_free_memory()  # else the process stays at the optimize's peak

    async def stats(self) -> dict[str, Any]:
        """Rows, fragments, version, indexes, model, dimension, path, size on disk and rows
        held in memory."""
        table = self._require()
        with unavailable(self.path, "stats"):
            return await summarize_stats(
                table,
                model_id=self._model_id,
                dimension=self._dimension,
                path=self.path,
                memory_rows=self._cache.rows,
            )
