"""PostgreSQL DDL for the event log (one migration; see :mod:`._schema`).

The columns are those of the SQLite migration in :mod:`openviking_mcp.storage.metadata`, so
:mod:`openviking_mcp.storage.event_log` runs the same SQL on both. ``id`` increases with every
event of the database (the stream's resume point); ``uris`` and ``payload`` are JSON as text.
"""

from __future__ import annotations

__all__ = ["DDL"]

DDL = """
CREATE TABLE event_log (
    id BIGSERIAL PRIMARY KEY,
    ts DOUBLE PRECISION NOT NULL,
    event_type TEXT NOT NULL,
    account_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C",
    uris TEXT NOT NULL DEFAULT '[]',
    payload TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX event_log_account ON event_log (account_id, id);
CREATE INDEX event_log_ts ON event_log (ts);
"""
