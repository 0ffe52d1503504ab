"""PostgreSQL DDL of the OAuth authorization server (one migration; see :mod:`._schema`).

The same tables as the SQLite migration: registered clients (the hash of a confidential
client's secret), pending approval requests and authorization codes (``oauth_grants``, keyed
by the hash of their random id), and access/refresh tokens (``oauth_tokens``, keyed by the
hash of the token; one ``family_id`` per approval, kept across refreshes).
"""

from __future__ import annotations

__all__ = ["DDL"]

DDL = """
CREATE TABLE oauth_clients (
    client_id TEXT COLLATE "C" PRIMARY KEY,
    secret_hash TEXT,
    metadata TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE oauth_grants (
    grant_hash TEXT COLLATE "C" PRIMARY KEY,
    kind TEXT NOT NULL,
    client_id TEXT COLLATE "C" NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    payload TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX oauth_grants_expiry ON oauth_grants (expires_at);
CREATE TABLE oauth_tokens (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    kind TEXT NOT NULL,
    family_id TEXT COLLATE "C" NOT NULL,
    client_id TEXT COLLATE "C" NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    account_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    key_id TEXT,
    key_digest TEXT,
    scopes TEXT NOT NULL,
    uri_prefix TEXT,
    resource TEXT,
    expires_at DOUBLE PRECISION NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, user_id) ON DELETE CASCADE
);
CREATE INDEX oauth_tokens_family ON oauth_tokens (family_id);
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (expires_at);
"""
