"""PostgreSQL DDL for webhooks (one migration; see :mod:`._schema`).

The same tables and columns as the SQLite migration, so :mod:`openviking_mcp.storage.webhooks`
runs the same SQL on both: the webhooks, one row per delivery attempt, and the dispatcher's
cursor (the last event id it turned into deliveries), starting at the newest event.
"""

from __future__ import annotations

__all__ = ["DDL"]

DDL = """
CREATE TABLE webhooks (
    webhook_id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    events TEXT NOT NULL DEFAULT '[]',
    description TEXT NOT NULL DEFAULT '',
    secret TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    since_event_id BIGINT NOT NULL DEFAULT 0,
    created_by TEXT COLLATE "C" NOT NULL,
    created_role TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    last_delivery_at DOUBLE PRECISION,
    last_status TEXT
);
CREATE INDEX webhooks_account ON webhooks (account_id);
CREATE TABLE webhook_deliveries (
    id BIGSERIAL PRIMARY KEY,
    ts DOUBLE PRECISION NOT NULL,
    webhook_id TEXT COLLATE "C" NOT NULL REFERENCES webhooks (webhook_id) ON DELETE CASCADE,
    account_id TEXT COLLATE "C" NOT NULL,
    delivery_id TEXT NOT NULL,
    event_id BIGINT,
    event_type TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms DOUBLE PRECISION NOT NULL
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_ts ON webhook_deliveries (ts);
CREATE TABLE webhook_cursor (
    name TEXT PRIMARY KEY,
    last_event_id BIGINT NOT NULL
);
INSERT INTO webhook_cursor (name, last_event_id)
    SELECT 'dispatch', COALESCE(MAX(id), 0) FROM event_log;
"""
