"""PostgreSQL DDL for users' named API keys (one migration; see :mod:`._schema`).

The same table as the SQLite migration: one row per named key, holding the salted scrypt hash
of its secret, its scopes (comma-separated), optional URI prefix and expiry, and when it was
last used (updated at most once a minute per key).
"""

from __future__ import annotations

__all__ = ["DDL"]

DDL = """
CREATE TABLE api_keys (
    key_id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    uri_prefix TEXT,
    expires_at TEXT,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    key_salt TEXT NOT NULL,
    key_digest TEXT NOT NULL,
    key_prefix TEXT NOT NULL,
    UNIQUE (account_id, user_id, name),
    FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, user_id) ON DELETE CASCADE
);
"""
