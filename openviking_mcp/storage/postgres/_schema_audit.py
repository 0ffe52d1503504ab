"""PostgreSQL DDL for the audit log (one migration; see :mod:`._schema`).

The columns are those of the SQLite migration in :mod:`openviking_mcp.storage.metadata`, so
:mod:`openviking_mcp.storage.audit` runs the same SQL on both. ``seq`` orders the entries (the
paging cursor); ``uris`` is a JSON list of URIs as text.
"""

from __future__ import annotations

__all__ = ["DDL"]

DDL = """
CREATE TABLE audit_log (
    seq BIGSERIAL PRIMARY KEY,
    ts DOUBLE PRECISION NOT NULL,
    account_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    role TEXT NOT NULL,
    key_id TEXT,
    surface TEXT NOT NULL,
    operation TEXT NOT NULL,
    kind TEXT NOT NULL,
    uris TEXT NOT NULL DEFAULT '[]',
    outcome TEXT NOT NULL,
    request_id TEXT,
    duration_ms DOUBLE PRECISION
);
CREATE INDEX audit_log_account ON audit_log (account_id, seq);
CREATE INDEX audit_log_user ON audit_log (account_id, user_id, seq);
CREATE INDEX audit_log_ts ON audit_log (ts);
"""
