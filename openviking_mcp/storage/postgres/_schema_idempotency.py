"""PostgreSQL DDL for the HTTP API's ``Idempotency-Key`` records (one migration; see
:mod:`._schema`). The same table as the SQLite migration, with ``BYTEA`` for the body."""

from __future__ import annotations

__all__ = ["DDL"]

DDL = """
CREATE TABLE idempotency_keys (
    account_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done')),
    claimed_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    status INTEGER,
    headers TEXT,
    body BYTEA,
    PRIMARY KEY (account_id, user_id, idem_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
"""
