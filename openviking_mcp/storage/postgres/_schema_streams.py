"""PostgreSQL DDL for the bot's turn streams (one migration; see :mod:`._schema`).

``ov_streams`` holds one row per turn; the partial unique index lets each session
``(account_id, user_id, session_id)`` have at most one ``running`` turn, which is what makes
opening a turn atomic across servers. ``heartbeat`` is refreshed by the owning server while
the turn runs (database time, so hosts' clocks do not matter). ``ov_stream_events`` holds the
turn's events by ``(response_id, seq)``; ``seq`` is the SSE event id. ``json`` (not
``jsonb``) keeps the event's keys in the order they were written.
"""

from __future__ import annotations

__all__ = ["DDL"]

DDL = """
CREATE TABLE ov_streams (
    response_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'running'
        CHECK (state IN ('running', 'done', 'failed')),
    owner TEXT NOT NULL,
    started TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    heartbeat TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    finished TIMESTAMPTZ,
    result JSON
);
CREATE UNIQUE INDEX ov_streams_running ON ov_streams (account_id, user_id, session_id)
    WHERE state = 'running';
CREATE INDEX ov_streams_key ON ov_streams (account_id, user_id, session_id, started DESC);
CREATE INDEX ov_streams_finished ON ov_streams (finished) WHERE state <> 'running';
CREATE TABLE ov_stream_events (
    response_id TEXT NOT NULL REFERENCES ov_streams (response_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    data JSON,
    ts TEXT NOT NULL,
    PRIMARY KEY (response_id, seq)
);
"""
