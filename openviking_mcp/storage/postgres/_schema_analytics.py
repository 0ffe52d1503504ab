"""PostgreSQL DDL for usage analytics (one migration; see :mod:`._schema`).

The columns are those of the SQLite migration in :mod:`openviking_mcp.storage.metadata`, so
:mod:`openviking_mcp.storage.usage` runs the same SQL on both. A row is a ``read`` (``uri``),
a ``query`` (``query``, ``hit_count``, ``best_score``) or a ``hit`` of a query (``uri``).
"""

from __future__ import annotations

__all__ = ["DDL"]

DDL = """
CREATE TABLE usage_log (
    seq BIGSERIAL PRIMARY KEY,
    ts DOUBLE PRECISION NOT NULL,
    account_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    surface TEXT NOT NULL,
    kind TEXT NOT NULL,
    operation TEXT NOT NULL,
    uri TEXT COLLATE "C",
    query TEXT,
    hit_count INTEGER,
    best_score DOUBLE PRECISION
);
CREATE INDEX usage_log_account ON usage_log (account_id, kind, ts);
CREATE INDEX usage_log_uri ON usage_log (account_id, uri, ts);
CREATE INDEX usage_log_ts ON usage_log (ts);
"""
