"""PostgreSQL DDL for the search index's bookkeeping (one migration; see :mod:`._schema`).

The row table itself (``ov_index_rows``) has a ``vector(dimension)`` column, so it is created
by :meth:`~openviking_mcp.storage.postgres.index.PgVectorIndex.open` for the model in use
(:mod:`._index_rows`). This migration holds what does not depend on the model:

* ``ov_index_meta``: the one row naming the model and dimension the rows were embedded with,
  a ``generation`` bumped by every reset, and ``pruned_xid``, the newest writer transaction of
  a tombstone pruned so far (a mirror that has not seen up to there must rebuild);
* ``ov_index_tombstones``: ids of removed rows with the removing transaction's id (``xid``),
  so in-memory mirrors of other processes can apply deletions as a delta;
* ``ov_index_stats``: row count and total token count of the table, in 16 shards (a writer
  updates the shard of its backend, so concurrent writers rarely wait for each other), kept
  by statement triggers on the row table; BM25 reads them as its corpus statistics;
* the trigger functions those triggers run.
"""

from __future__ import annotations

__all__ = ["DDL", "STATS_SHARDS"]

#: Shards of ``ov_index_stats``.
STATS_SHARDS = 16

DDL = f"""
CREATE TABLE ov_index_meta (
    singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    model_id TEXT NOT NULL,
    dimension INTEGER NOT NULL,
    generation BIGINT NOT NULL DEFAULT 1,
    pruned_xid xid8 NOT NULL DEFAULT '0'
);
CREATE TABLE ov_index_tombstones (
    id TEXT COLLATE "C" PRIMARY KEY,
    xid xid8 NOT NULL,
    removed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ov_index_tombstones_xid ON ov_index_tombstones (xid);
CREATE TABLE ov_index_stats (
    shard INTEGER PRIMARY KEY,
    rows BIGINT NOT NULL DEFAULT 0,
    total_length DOUBLE PRECISION NOT NULL DEFAULT 0
);
INSERT INTO ov_index_stats (shard) SELECT generate_series(0, {STATS_SHARDS - 1});
CREATE FUNCTION ov_index_rows_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ov_index_stats
    SET rows = rows + d.n, total_length = total_length + d.len
    FROM (SELECT count(*) AS n, coalesce(sum(doc_len), 0) AS len FROM added) AS d
    WHERE shard = mod(pg_backend_pid(), {STATS_SHARDS}) AND d.n > 0;
    RETURN NULL;
END $$;
CREATE FUNCTION ov_index_rows_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ov_index_stats
    SET total_length = total_length + d.len
    FROM (SELECT (SELECT coalesce(sum(doc_len), 0) FROM added)
                 - (SELECT coalesce(sum(doc_len), 0) FROM gone) AS len) AS d
    WHERE shard = mod(pg_backend_pid(), {STATS_SHARDS}) AND d.len <> 0;
    RETURN NULL;
END $$;
CREATE FUNCTION ov_index_rows_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ov_index_stats
    SET rows = rows - d.n, total_length = total_length - d.len
    FROM (SELECT count(*) AS n, coalesce(sum(doc_len), 0) AS len FROM gone) AS d
    WHERE shard = mod(pg_backend_pid(), {STATS_SHARDS}) AND d.n > 0;
    INSERT INTO ov_index_tombstones (id, xid)
    SELECT id, pg_current_xact_id() FROM gone
    ON CONFLICT (id) DO UPDATE SET xid = excluded.xid, removed_at = now();
    RETURN NULL;
END $$
"""
