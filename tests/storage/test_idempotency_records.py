"""The ``idempotency_keys`` records on both backends: one claim wins, replays, expiry."""

from __future__ import annotations

import asyncio

import pytest

from openviking_mcp.storage.idempotency import IdempotencyRecords, StoredResponse
from openviking_mcp.storage.metadata import MetadataBackend
from tests.storage.conftest import pg_metadata

pytestmark = pytest.mark.anyio

ANN = ("acme", "ann", "key-1")
BOB = ("acme", "bob", "key-1")
DAY = 86400.0
RESPONSE = StoredResponse(201, [("content-type", "application/json")], b'{"status":"ok"}\xff')


async def test_claim_complete_replay_and_mismatch(db: MetadataBackend) -> None:
    records = IdempotencyRecords(db)
    assert (await records.claim(ANN, "fp-a", ttl=DAY, lease=60)).outcome == "claimed"
    assert (await records.claim(ANN, "fp-a", ttl=DAY, lease=60)).outcome == "running"
    assert (await records.claim(ANN, "fp-b", ttl=DAY, lease=60)).outcome == "mismatch"
    assert (await records.claim(BOB, "fp-b", ttl=DAY, lease=60)).outcome == "claimed"
    await records.complete(ANN, RESPONSE)
    replay = await records.claim(ANN, "fp-a", ttl=DAY, lease=60)
    assert (replay.outcome, replay.response) == ("done", RESPONSE)
    assert (await records.claim(ANN, "fp-b", ttl=DAY, lease=60)).outcome == "mismatch"


async def test_a_released_key_runs_again(db: MetadataBackend) -> None:
    records = IdempotencyRecords(db)
    assert (await records.claim(ANN, "fp", ttl=DAY, lease=60)).outcome == "claimed"
    await records.release(ANN)
    assert await records.count() == 0
    assert (await records.claim(ANN, "other", ttl=DAY, lease=60)).outcome == "claimed"


async def test_expired_records_are_replaced_and_purged(db: MetadataBackend) -> None:
    records = IdempotencyRecords(db)
    for n in range(5):
        await records.claim(("acme", "ann", f"old-{n}"), "fp", ttl=0.05, lease=60)
    await records.complete(("acme", "ann", "old-0"), RESPONSE)
    await asyncio.sleep(0.1)
    assert (await records.claim(("acme", "ann", "old-0"), "new", ttl=DAY, lease=60)).outcome == (
        "claimed"
    )
    assert await records.count() == 1


async def test_a_stale_running_claim_is_taken_over_once(db: MetadataBackend) -> None:
    records = IdempotencyRecords(db)
    assert (await records.claim(ANN, "fp", ttl=DAY, lease=0.05)).outcome == "claimed"
    await asyncio.sleep(0.1)
    taken = [await records.claim(ANN, "fp", ttl=DAY, lease=0.05) for _ in range(2)]
    assert [t.outcome for t in taken] == ["claimed", "running"]


async def test_concurrent_claims_have_one_winner(db: MetadataBackend) -> None:
    records = IdempotencyRecords(db)
    claims = await asyncio.gather(*(records.claim(ANN, "fp", ttl=DAY, lease=60) for _ in range(8)))
    assert sorted(c.outcome for c in claims) == ["claimed"] + ["running"] * 7


async def test_two_servers_on_one_postgres_have_one_winner(pg_dsn: str) -> None:
    async with pg_metadata(pg_dsn, instances=2) as (one, two):
        claims = await asyncio.gather(
            *(IdempotencyRecords(db).claim(ANN, "fp", ttl=DAY, lease=60) for db in (one, two) * 4)
        )
        assert sorted(c.outcome for c in claims) == ["claimed"] + ["running"] * 7
