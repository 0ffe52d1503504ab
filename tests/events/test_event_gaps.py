"""On PostgreSQL an event's id is taken before its transaction commits, so a later id can be
visible first. Readers (the event list, the stream, the webhook dispatcher) stop short of such
a gap until it fills or is old enough to be a rolled-back id, so nothing is skipped."""

from __future__ import annotations

import json
import time
from typing import Any

import psycopg
import pytest

from openviking_mcp import ContextService
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.storage.event_log import settled_events

pytestmark = pytest.mark.anyio


@pytest.fixture
def storage_backend() -> str:
    return "postgres"


def test_settled_events_stops_at_a_recent_gap_only() -> None:
    now = 1000.0
    assert settled_events([(1, now), (2, now)], 0, now, 2.0) == (2, False)
    assert settled_events([(1, now), (3, now)], 0, now, 2.0) == (1, True)
    assert settled_events([(1, now), (3, now - 5)], 0, now, 2.0) == (3, False)
    assert settled_events([], 7, now, 2.0) == (7, False)


def _late_insert(dsn: str) -> tuple[psycopg.Connection[Any], int]:
    """An event row whose transaction stays open: its id is taken, the row not yet visible."""
    conn = psycopg.connect(dsn)
    row = conn.execute(
        "INSERT INTO event_log (ts, event_type, account_id, user_id, uris, payload) "
        "VALUES (%s, 'memory.changed', 'acme', 'ann', %s, '{}') RETURNING id",
        (time.time(), json.dumps(["viking://user/ann/memories/late.md"])),
    ).fetchone()
    assert row is not None
    return conn, int(row[0])


async def test_a_late_commit_is_not_skipped(service: ContextService, pg_dsn: str) -> None:
    made = await service.create_account(RequestContext.root(), "acme", "ann")
    ann = await service.auth.resolve_api_key(made["user_key"])
    start = (await service.list_events(ann, limit=1000))["next_after"]
    conn, late_id = _late_insert(pg_dsn)
    try:
        await service.write(ann, "viking://user/ann/memories/early.md", "Committed first.")
        page = await service.list_events(ann, after=start, limit=1000)
        assert page["events"] == []  # the committed later id waits behind the open gap
        assert page["next_after"] == start
        conn.commit()
    finally:
        conn.close()
    page = await service.list_events(ann, after=start, limit=1000)
    ids = [e["id"] for e in page["events"]]
    assert ids[0] == late_id
    assert ids == sorted(ids)
    assert [e["uris"][0].rsplit("/", 1)[1] for e in page["events"]] == ["late.md", "early.md"]
