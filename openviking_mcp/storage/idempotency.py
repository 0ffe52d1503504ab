"""The ``idempotency_keys`` table of the metadata database: one record per caller and key.

A request with an ``Idempotency-Key`` first *claims* its key: an ``INSERT`` that does nothing
when the key is taken, so of several requests racing for one key (in one process or on several
servers sharing a PostgreSQL database) exactly one wins. The winner runs and then either
*completes* the record (its response, replayed to later requests with the key) or *releases* it
(the record is deleted, so a retry runs again). A record is ``running`` until completed; one
whose request outlived its lease (its server died) may be taken over by the next claim.
Records expire ``ttl`` seconds after their claim; each claim also deletes a bounded batch of
expired records.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Literal

from openviking_mcp.storage.metadata import Connection, MetadataBackend

__all__ = ["Claim", "IdempotencyRecords", "StoredResponse"]

_PURGE_BATCH = 100
_KEY = "account_id = ? AND user_id = ? AND idem_key = ?"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A recorded response: its status, raw headers (latin-1 name/value pairs) and body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of :meth:`IdempotencyRecords.claim`.

    ``claimed``: this request holds the key and must complete or release it. ``mismatch``: the
    key belongs to a different request. ``running``: the same request is in progress
    elsewhere. ``done``: its ``response`` is recorded."""

    outcome: Literal["claimed", "mismatch", "running", "done"]
    response: StoredResponse | None = None


def _decode_headers(raw: object) -> list[tuple[str, str]]:
    try:
        pairs = json.loads(str(raw or "[]"))
    except json.JSONDecodeError:
        return []
    return [(str(p[0]), str(p[1])) for p in pairs if isinstance(p, list) and len(p) == 2]


class IdempotencyRecords:
    """The ``idempotency_keys`` records of one metadata database."""

    def __init__(self, db: MetadataBackend) -> None:
        self._db = db

    async def claim(
        self,
        scope: tuple[str, str, str],
        fingerprint: str,
        *,
        ttl: float,
        lease: float,
    ) -> Claim:
        """Claim ``scope`` (account, user, key) for the request ``fingerprint``."""
        now = time.time()

        def run(conn: Connection) -> Claim:
            _purge(conn, now)
            conn.execute(
                f"DELETE FROM idempotency_keys WHERE {_KEY} AND expires_at <= ?", (*scope, now)
            )
            inserted = conn.execute(
                "INSERT INTO idempotency_keys (account_id, user_id, idem_key, fingerprint, "
                "state, claimed_at, expires_at) VALUES (?, ?, ?, ?, 'running', ?, ?) "
                "ON CONFLICT (account_id, user_id, idem_key) DO NOTHING",
                (*scope, fingerprint, now, now + ttl),
            )
            if inserted.rowcount == 1:
                return Claim("claimed")
            return _existing(conn, scope, fingerprint, now, lease)

        return await self._db.transaction(run)

    async def complete(self, scope: tuple[str, str, str], response: StoredResponse) -> None:
        """Record the response of the claimed request (replayed until the record expires)."""
        headers = json.dumps([list(pair) for pair in response.headers])
        await self._db.transaction(
            lambda conn: conn.execute(
                "UPDATE idempotency_keys SET state = 'done', status = ?, headers = ?, body = ? "
                f"WHERE {_KEY} AND state = 'running'",
                (response.status, headers, response.body, *scope),
            )
        )

    async def release(self, scope: tuple[str, str, str]) -> None:
        """Forget the claimed request (its response is not recorded; a retry runs again)."""
        await self._db.transaction(
            lambda conn: conn.execute(
                f"DELETE FROM idempotency_keys WHERE {_KEY} AND state = 'running'", scope
            )
        )

    async def count(self) -> int:
        """How many records the table holds (expired ones not yet purged included)."""
        row = await self._db.fetchone("SELECT COUNT(*) FROM idempotency_keys")
        return int(row[0]) if row is not None else 0


def _purge(conn: Connection, now: float) -> None:
    """Delete at most :data:`_PURGE_BATCH` expired records."""
    conn.execute(
        "DELETE FROM idempotency_keys WHERE (account_id, user_id, idem_key) IN ("
        "SELECT account_id, user_id, idem_key FROM idempotency_keys WHERE expires_at <= ? "
        "LIMIT ?)",
        (now, _PURGE_BATCH),
    )


def _existing(
    conn: Connection, scope: tuple[str, str, str], fingerprint: str, now: float, lease: float
) -> Claim:
    """The claim outcome when the key is taken: a stale ``running`` record of the same request
    is taken over (an ``UPDATE`` guarded by its claim time, so one taker wins)."""
    row = conn.execute(
        "SELECT fingerprint, state, claimed_at, status, headers, body FROM idempotency_keys "
        f"WHERE {_KEY}",
        scope,
    ).fetchone()
    if row is None:  # released between the insert and this read: the caller claims again
        return Claim("running")
    if str(row["fingerprint"]) != fingerprint:
        return Claim("mismatch")
    if row["state"] == "done":
        body = row["body"]
        stored = StoredResponse(
            int(row["status"]), _decode_headers(row["headers"]), bytes(body or b"")
        )
        return Claim("done", stored)
    if float(row["claimed_at"]) + lease <= now:
        taken = conn.execute(
            f"UPDATE idempotency_keys SET claimed_at = ? WHERE {_KEY} AND state = 'running' "
            "AND claimed_at = ?",
            (now, *scope, row["claimed_at"]),
        )
        if taken.rowcount == 1:
            return Claim("claimed")
    return Claim("running")
