"""PostgreSQL DDL for the metadata tables: accounts, users, groups, tasks, uploads, chat
responses, path owners and tags (one migration; see :mod:`._schema`).

The tables, columns and indexes are those of the SQLite migrations of
:mod:`openviking_mcp.storage.metadata`, so the callers' SQL runs on both. Epoch times are
``DOUBLE PRECISION``; identifiers and URIs sort bytewise (``COLLATE "C"``), as in SQLite.
"""

from __future__ import annotations

__all__ = ["DDL"]

DDL = """
CREATE TABLE accounts (
    account_id TEXT COLLATE "C" PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE users (
    account_id TEXT COLLATE "C" NOT NULL
        REFERENCES accounts (account_id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    key_salt TEXT,
    key_digest TEXT,
    key_prefix TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, user_id)
);
CREATE TABLE tasks (
    task_id TEXT COLLATE "C" PRIMARY KEY,
    task_type TEXT NOT NULL,
    status TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 10,
    account_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    role TEXT NOT NULL,
    resource_id TEXT,
    payload TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT '{}',
    stage TEXT NOT NULL DEFAULT 'queued',
    progress TEXT NOT NULL DEFAULT '{}',
    result TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 4,
    run_after DOUBLE PRECISION NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until DOUBLE PRECISION,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX tasks_claim ON tasks (status, priority, run_after, created_at);
CREATE INDEX tasks_owner ON tasks (account_id, user_id, created_at);
CREATE INDEX tasks_resource ON tasks (resource_id);
CREATE TABLE upload_tickets (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    role TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX upload_tickets_expiry ON upload_tickets (expires_at);
CREATE TABLE chat_responses (
    response_id TEXT PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    session_id TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    mode TEXT NOT NULL,
    model TEXT,
    message TEXT NOT NULL DEFAULT '',
    citations TEXT NOT NULL DEFAULT '[]',
    token_usage TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    feedback TEXT
);
CREATE INDEX chat_responses_session ON chat_responses (account_id, user_id, session_id);
CREATE TABLE path_owners (
    account_id TEXT COLLATE "C" NOT NULL,
    uri TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_id, uri)
);
CREATE TABLE path_tags (
    account_id TEXT COLLATE "C" NOT NULL,
    uri TEXT COLLATE "C" NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_id, uri)
);
CREATE TABLE user_groups (
    account_id TEXT COLLATE "C" NOT NULL
        REFERENCES accounts (account_id) ON DELETE CASCADE,
    group_id TEXT COLLATE "C" NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, group_id)
);
CREATE TABLE group_members (
    account_id TEXT COLLATE "C" NOT NULL,
    group_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (account_id, group_id, user_id),
    FOREIGN KEY (account_id, group_id)
        REFERENCES user_groups (account_id, group_id) ON DELETE CASCADE,
    FOREIGN KEY (account_id, user_id)
        REFERENCES users (account_id, user_id) ON DELETE CASCADE
);
"""
