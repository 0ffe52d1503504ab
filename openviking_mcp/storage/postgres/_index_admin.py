"""Lifecycle and upkeep of the PostgreSQL search index: the model check, resets, the HNSW
index, tombstone pruning and statistics.

:func:`open_table` and :func:`reset_table` run in one transaction under an advisory lock, so
servers starting together neither create the row table twice nor see half a reset.
"""

from __future__ import annotations

from typing import Any

import psycopg

from openviking_mcp.contract.errors import FailedPreconditionError
from openviking_mcp.storage.index._errors import mismatch_error
from openviking_mcp.storage.postgres._db import PgDatabase
from openviking_mcp.storage.postgres._index_rows import HNSW_INDEX, TABLE, create_table_sql

__all__ = [
    "TOMBSTONE_TTL_S",
    "VECTOR_INDEX_MIN_ROWS",
    "ensure_hnsw",
    "has_hnsw",
    "index_stats",
    "open_table",
    "prune_tombstones",
    "reset_table",
]

#: Advisory lock key of the index's lifecycle (open, reset, HNSW build).
_INDEX_LOCK = 0x6F76_6978  # "ovix"
#: Above this many rows the ``vector`` column gets an HNSW index (cosine). Below, exact
#: scans are fast enough, and every insert into an HNSW index is slow (a few hundred rows/s).
VECTOR_INDEX_MIN_ROWS = 20_000
#: Tombstones older than this are pruned by ``optimize``; a mirror that has not refreshed
#: since then reloads the table (``ov_index_meta.pruned_xid``).
TOMBSTONE_TTL_S = 3600.0


async def _table_exists(conn: psycopg.AsyncConnection[Any]) -> bool:
    row = await (await conn.execute("SELECT to_regclass(%s) AS t", (TABLE,))).fetchone()
    return row is not None and row["t"] is not None


async def open_table(
    db: PgDatabase, model_id: str, dimension: int
) -> FailedPreconditionError | int:
    """Create the row table and meta row for a new index, or check an existing index's
    model. Returns its generation, or the mismatch error (not raised: the caller keeps it)."""
    async with db.connection() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_INDEX_LOCK,))
        meta = await (
            await conn.execute("SELECT model_id, dimension, generation FROM ov_index_meta")
        ).fetchone()
        if meta is not None and (meta["model_id"], meta["dimension"]) != (model_id, dimension):
            return mismatch_error(meta["model_id"], meta["dimension"], model_id, dimension)
        if not await _table_exists(conn):
            await conn.execute(create_table_sql(dimension))
        if meta is None:
            await conn.execute(
                "INSERT INTO ov_index_meta (model_id, dimension) VALUES (%s, %s)",
                (model_id, dimension),
            )
            return 1
        return int(meta["generation"])


async def reset_table(db: PgDatabase, model_id: str, dimension: int) -> int:
    """Drop every row and recreate the table for ``model_id``; the new generation."""
    async with db.connection() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_INDEX_LOCK,))
        await conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        await conn.execute(create_table_sql(dimension))
        await conn.execute("TRUNCATE ov_index_tombstones")
        await conn.execute("UPDATE ov_index_stats SET rows = 0, total_length = 0")
        row = await (
            await conn.execute(
                "INSERT INTO ov_index_meta (model_id, dimension) VALUES (%s, %s) "
                "ON CONFLICT (singleton) DO UPDATE SET model_id = excluded.model_id, "
                "dimension = excluded.dimension, "
                "generation = ov_index_meta.generation + 1 RETURNING generation",
                (model_id, dimension),
            )
        ).fetchone()
        assert row is not None  # RETURNING of an upsert
        return int(row["generation"])


async def has_hnsw(db: PgDatabase) -> bool:
    """Whether the (valid) HNSW index on ``vector`` exists."""
    rows = await db.fetchall(
        "SELECT i.indisvalid AS valid FROM pg_index AS i "
        "JOIN pg_class AS c ON c.oid = i.indexrelid WHERE c.relname = %s",
        (HNSW_INDEX,),
    )
    return bool(rows and rows[0]["valid"])


async def ensure_hnsw(db: PgDatabase, rows: int, build: tuple[int, int] = (16, 64)) -> bool:
    """Build the HNSW index once the table has more than :data:`VECTOR_INDEX_MIN_ROWS` rows
    (concurrently: writes go on meanwhile; one server builds it, the others skip), with
    ``build`` as its ``(m, ef_construction)``. Whether the index exists afterwards."""
    m, ef_construction = (int(v) for v in build)
    if await has_hnsw(db):
        return True
    if rows <= VECTOR_INDEX_MIN_ROWS:
        return False
    async with db.connection() as conn:
        got = await (
            await conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (_INDEX_LOCK,))
        ).fetchone()
        if got is None or not got["ok"]:
            return False
        try:
            await conn.execute("SET statement_timeout = 0")  # a build takes minutes
            await conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {HNSW_INDEX}")  # invalid
            await conn.execute(
                f"CREATE INDEX CONCURRENTLY {HNSW_INDEX} ON {TABLE} "
                "USING hnsw (vector vector_cosine_ops) "
                f"WITH (m = {m}, ef_construction = {ef_construction})"
            )
        finally:
            await conn.execute("RESET statement_timeout")
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_INDEX_LOCK,))
    return await has_hnsw(db)


async def prune_tombstones(db: PgDatabase, older_than_s: float = TOMBSTONE_TTL_S) -> int:
    """Forget tombstones older than ``older_than_s`` seconds, recording the newest pruned
    writer in ``ov_index_meta.pruned_xid``; how many were pruned."""
    rows = await db.fetchall(
        "WITH gone AS (DELETE FROM ov_index_tombstones "
        "WHERE removed_at < now() - make_interval(secs => %s) RETURNING xid), "
        "mark AS (UPDATE ov_index_meta SET pruned_xid = greatest(pruned_xid, "
        "(SELECT max(xid) FROM gone)) WHERE EXISTS (SELECT 1 FROM gone)) "
        "SELECT count(*) AS n FROM gone",
        (older_than_s,),
    )
    return int(rows[0]["n"])


async def index_stats(db: PgDatabase) -> dict[str, Any]:
    """Rows, generation, indexes and sizes of the row table."""
    (head,) = await db.fetchall(
        "SELECT (SELECT coalesce(sum(rows), 0) FROM ov_index_stats) AS rows, "
        "(SELECT generation FROM ov_index_meta) AS version, "
        "pg_table_size(%s::regclass) AS data_bytes, "
        "pg_total_relation_size(%s::regclass) AS size_bytes",
        (TABLE, TABLE),
    )
    indexes = await db.fetchall(
        "SELECT c.relname AS name, am.amname AS type, "
        "array_agg(a.attname ORDER BY array_position(i.indkey::int2[], a.attnum)) AS columns "
        "FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid "
        "JOIN pg_am AS am ON am.oid = c.relam "
        "JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s::regclass GROUP BY c.relname, am.amname",
        (TABLE,),
    )
    return {
        "rows": int(head["rows"]),
        "fragments": None,
        "small_fragments": None,
        "version": int(head["version"] or 0),
        "indexes": [
            {"name": r["name"], "type": r["type"], "columns": list(r["columns"])}
            for r in sorted(indexes, key=lambda r: str(r["name"]))
        ],
        "data_bytes": int(head["data_bytes"]),
        "size_bytes": int(head["size_bytes"]),
    }
