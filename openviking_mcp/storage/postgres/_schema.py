"""The PostgreSQL schema, as numbered migrations: migration N brings the schema from version
N-1 to N. Append only; never edit one that has shipped."""

from __future__ import annotations

from openviking_mcp.storage.postgres import (
    _schema_analytics,
    _schema_audit,
    _schema_events,
    _schema_idempotency,
    _schema_index,
    _schema_keys,
    _schema_mcp_servers,
    _schema_metadata,
    _schema_oauth,
    _schema_streams,
    _schema_webhooks,
)

__all__ = ["MIGRATIONS"]

MIGRATIONS: list[str] = [
    # 1: the content tree. Keys sort bytewise (COLLATE "C"), so a subtree is one range of the
    # key index: key > 'a/b/' AND key < 'a/b0' ('0' follows '/'). File bytes live in chunks,
    # keyed by the entry's id, so a move rewrites no bytes and an append adds a chunk.
    """
    CREATE TABLE ov_content (
        id BIGSERIAL PRIMARY KEY,
        key TEXT COLLATE "C" NOT NULL UNIQUE,
        parent TEXT COLLATE "C" NOT NULL,
        name TEXT NOT NULL,
        is_dir BOOLEAN NOT NULL,
        size BIGINT NOT NULL DEFAULT 0,
        mtime DOUBLE PRECISION NOT NULL,
        mode INTEGER NOT NULL
    );
    CREATE INDEX ov_content_parent ON ov_content (parent, name);
    CREATE TABLE ov_content_chunks (
        entry_id BIGINT NOT NULL REFERENCES ov_content (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (entry_id, seq)
    );
    """,
    # 2: the metadata database (what the local backend keeps in SQLite)
    _schema_metadata.DDL,
    # 3: the search index's bookkeeping (its vector table is created for the model in use)
    _schema_index.DDL,
    # 4: the bot's turn streams and their events
    _schema_streams.DDL,
    # the audit log: who changed what, through which surface
    _schema_audit.DDL,
    # the HTTP API's Idempotency-Key records
    _schema_idempotency.DDL,
    # users' named API keys
    _schema_keys.DDL,
    # usage analytics: reads, searches and their hits
    _schema_analytics.DDL,
    # the event log (resource.indexed, memory.changed...)
    _schema_events.DDL,
    # webhooks, their delivery attempts and the dispatcher's cursor
    _schema_webhooks.DDL,
    # the OAuth authorization server: clients, approval requests, codes, tokens
    _schema_oauth.DDL,
    # the registry of MCP servers whose tools are imported as skills
    _schema_mcp_servers.DDL,
]
