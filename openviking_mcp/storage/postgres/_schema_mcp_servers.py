"""PostgreSQL DDL for the registry of MCP servers (one migration; see :mod:`._schema`).

The same table and columns as the SQLite migration, so :mod:`openviking_mcp.storage.mcp_servers`
runs the same SQL on both. Secret header and environment values are never in this table: they
live in the registering user's privacy config.
"""

from __future__ import annotations

__all__ = ["DDL"]

DDL = """
CREATE TABLE mcp_servers (
    server_id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    transport TEXT NOT NULL,
    url TEXT,
    command TEXT,
    secret_names TEXT NOT NULL DEFAULT '{}',
    skills_root TEXT COLLATE "C" NOT NULL,
    source_id TEXT NOT NULL,
    refresh_seconds DOUBLE PRECISION NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    trusted INTEGER NOT NULL DEFAULT 0,
    created_by TEXT COLLATE "C" NOT NULL,
    created_role TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    next_refresh_at DOUBLE PRECISION,
    last_refresh_at DOUBLE PRECISION,
    last_status TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT,
    tool_count INTEGER,
    duration_ms DOUBLE PRECISION,
    last_changes TEXT NOT NULL DEFAULT '{}',
    UNIQUE (account_id, skills_root, name),
    UNIQUE (account_id, skills_root, source_id)
);
CREATE INDEX mcp_servers_due ON mcp_servers (enabled, next_refresh_at);
"""
