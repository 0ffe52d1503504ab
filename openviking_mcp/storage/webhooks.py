"""The webhook tables: the accounts' webhooks, their delivery attempts, and the dispatcher.

* ``webhooks``: one row per endpoint, with its event filter (JSON), signing secret, state and
  ``since_event_id`` (the newest event when it was created or last enabled: it is sent only
  what comes after).
* ``webhook_deliveries``: one row per attempt to deliver one event, pruned after the retention.
* ``webhook_cursor``: the id of the last event the dispatcher turned into deliveries.

:meth:`WebhookStore.dispatch` reads the events after the cursor and, in one transaction,
queues a delivery task for every enabled webhook that wants each one and moves the cursor: a
crash leaves either both or neither, so no event is lost or queued twice. The cursor row is
locked for the transaction (SQLite's write lock; ``FOR UPDATE`` on PostgreSQL), so several
processes dispatching at once take turns. The same SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from openviking_mcp.contract.errors import NotFoundError
from openviking_mcp.storage._log_tables import prune_older_than
from openviking_mcp.storage.event_log import settled_events
from openviking_mcp.storage.metadata import Connection, MetadataBackend, Row

__all__ = [
    "DeliveryAttempt",
    "DispatchOutcome",
    "Stager",
    "WebhookRecord",
    "WebhookStore",
    "settled_events",
]

_COLUMNS = (
    "webhook_id, account_id, url, events, description, secret, enabled, since_event_id, "
    "created_by, created_role, created_at, updated_at, last_delivery_at, last_status"
)
_ATTEMPT_COLUMNS = (
    "ts, webhook_id, account_id, delivery_id, event_id, event_type, attempt, outcome, "
    "status_code, error, duration_ms"
)
#: What an update may set.
_UPDATABLE = frozenset({"url", "events", "description", "secret", "enabled", "since_event_id"})


@dataclass(slots=True)
class WebhookRecord:
    """One webhook as stored."""

    webhook_id: str
    account_id: str
    url: str
    events: tuple[str, ...]
    description: str
    secret: str
    enabled: bool
    since_event_id: int
    created_by: str
    created_role: str
    created_at: float
    updated_at: float
    last_delivery_at: float | None = None
    last_status: str | None = None

    def wants(self, event_type: str, event_id: int) -> bool:
        """Whether an event is this webhook's to receive (state aside)."""
        return event_id > self.since_event_id and (not self.events or event_type in self.events)

    def row(self) -> tuple[Any, ...]:
        return (
            self.webhook_id,
            self.account_id,
            self.url,
            json.dumps(list(self.events)),
            self.description,
            self.secret,
            int(self.enabled),
            self.since_event_id,
            self.created_by,
            self.created_role,
            self.created_at,
            self.updated_at,
            self.last_delivery_at,
            self.last_status,
        )


def _record(row: Row) -> WebhookRecord:
    return WebhookRecord(
        webhook_id=str(row["webhook_id"]),
        account_id=str(row["account_id"]),
        url=str(row["url"]),
        events=tuple(json.loads(row["events"] or "[]")),
        description=str(row["description"]),
        secret=str(row["secret"]),
        enabled=bool(row["enabled"]),
        since_event_id=int(row["since_event_id"]),
        created_by=str(row["created_by"]),
        created_role=str(row["created_role"]),
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
        last_delivery_at=row["last_delivery_at"],
        last_status=row["last_status"],
    )


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One attempt to deliver one event (``id`` is set once stored)."""

    webhook_id: str
    account_id: str
    delivery_id: str
    event_id: int | None
    event_type: str
    attempt: int
    outcome: str
    status_code: int | None
    error: str | None
    duration_ms: float
    ts: float = field(default_factory=time.time)
    id: int = 0

    def row(self) -> tuple[Any, ...]:
        return (
            self.ts,
            self.webhook_id,
            self.account_id,
            self.delivery_id,
            self.event_id,
            self.event_type,
            self.attempt,
            self.outcome,
            self.status_code,
            self.error,
            self.duration_ms,
        )


@dataclass(frozen=True, slots=True)
class DispatchOutcome:
    """What one :meth:`WebhookStore.dispatch` did: deliveries queued, events passed, and
    whether more events wait (a full batch) or a missing id held the cursor back."""

    queued: int
    scanned: int
    more: bool
    waiting: bool


#: Queues one delivery inside the dispatch transaction: ``(conn, webhook, event id, type)``.
Stager = Callable[[Connection, WebhookRecord, int, str], None]


def _newest_event(conn: Connection) -> int:
    row = conn.execute("SELECT COALESCE(MAX(id), 0) AS top FROM event_log").fetchone()
    return int(row["top"])


def _skip_idle_cursor(conn: Connection, newest: int) -> None:
    """With no webhook enabled the dispatcher does not run: move its cursor to ``newest``
    so that the first webhook does not wait for it to pass the events before it."""
    conn.execute(
        "UPDATE webhook_cursor SET last_event_id = ? WHERE name = 'dispatch' "
        "AND last_event_id < ? AND NOT EXISTS (SELECT 1 FROM webhooks WHERE enabled = 1)",
        (newest, newest),
    )


class WebhookStore:
    """The webhook tables' queries (module docs)."""

    def __init__(self, db: MetadataBackend) -> None:
        self._db = db
        self._lock_row = " FOR UPDATE" if db.dialect == "postgres" else ""

    # -- webhooks ----------------------------------------------------------------------------

    async def create(self, record: WebhookRecord) -> WebhookRecord:
        """Store ``record`` with ``since_event_id`` set to the newest event."""

        def insert(conn: Connection) -> None:
            record.since_event_id = _newest_event(conn)
            _skip_idle_cursor(conn, record.since_event_id)
            marks = ", ".join("?" * len(record.row()))
            conn.execute(f"INSERT INTO webhooks ({_COLUMNS}) VALUES ({marks})", record.row())

        await self._db.transaction(insert)
        return record

    async def get(self, account_id: str, webhook_id: str) -> WebhookRecord:
        """The account's webhook; ``NOT_FOUND`` for an unknown one or another account's."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM webhooks WHERE webhook_id = ? AND account_id = ?",
            (webhook_id, account_id),
        )
        if row is None:
            raise NotFoundError(webhook_id, "webhook")
        return _record(row)

    async def find(self, webhook_id: str) -> WebhookRecord | None:
        """Any account's webhook, or ``None`` (the delivery task's lookup)."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM webhooks WHERE webhook_id = ?", (webhook_id,)
        )
        return _record(row) if row is not None else None

    async def all_of(self, account_id: str) -> list[WebhookRecord]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM webhooks WHERE account_id = ? ORDER BY created_at, webhook_id",
            (account_id,),
        )
        return [_record(r) for r in rows]

    async def update(self, account_id: str, webhook_id: str, **values: Any) -> WebhookRecord:
        """Set ``values`` (columns of :data:`_UPDATABLE`; ``since_event_id=None`` means the
        newest event); the updated webhook."""
        unknown = set(values) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        values = {k: json.dumps(list(v)) if k == "events" else v for k, v in values.items()}
        values = {k: int(v) if k == "enabled" else v for k, v in values.items()}

        def update(conn: Connection) -> int:
            if "since_event_id" in values and values["since_event_id"] is None:
                newest = _newest_event(conn)
                _skip_idle_cursor(conn, newest)
                values["since_event_id"] = newest
            sets = ", ".join(f"{k} = ?" for k in (*values, "updated_at"))
            return conn.execute(
                f"UPDATE webhooks SET {sets} WHERE webhook_id = ? AND account_id = ?",
                (*values.values(), time.time(), webhook_id, account_id),
            ).rowcount

        if not await self._db.transaction(update):
            raise NotFoundError(webhook_id, "webhook")
        return await self.get(account_id, webhook_id)

    async def delete(self, account_id: str, webhook_id: str) -> WebhookRecord:
        record = await self.get(account_id, webhook_id)
        await self._db.transaction(
            lambda conn: conn.execute(
                "DELETE FROM webhooks WHERE webhook_id = ? AND account_id = ?",
                (webhook_id, account_id),
            )
        )
        return record

    # -- delivery attempts -------------------------------------------------------------------

    async def log_attempt(self, attempt: DeliveryAttempt) -> None:
        """Record one attempt and, on its webhook, when and how the last one ended."""
        status = "delivered" if attempt.outcome == "delivered" else attempt.error or "failed"

        def write(conn: Connection) -> None:
            marks = ", ".join("?" * len(attempt.row()))
            conn.execute(
                f"INSERT INTO webhook_deliveries ({_ATTEMPT_COLUMNS}) VALUES ({marks})",
                attempt.row(),
            )
            conn.execute(
                "UPDATE webhooks SET last_delivery_at = ?, last_status = ? WHERE webhook_id = ?",
                (attempt.ts, status[:500], attempt.webhook_id),
            )

        await self._db.transaction(write)

    async def attempts(
        self, webhook_id: str, before: int | None, limit: int
    ) -> list[DeliveryAttempt]:
        """The webhook's attempts, newest first, with an id below ``before`` when given."""
        clause, params = "webhook_id = ?", list[Any]([webhook_id])
        if before is not None:
            clause += " AND id < ?"
            params.append(before)
        rows = await self._db.fetchall(
            f"SELECT id, {_ATTEMPT_COLUMNS} FROM webhook_deliveries WHERE {clause} "
            "ORDER BY id DESC LIMIT ?",
            (*params, limit),
        )
        return [
            DeliveryAttempt(
                id=int(r["id"]),
                ts=float(r["ts"]),
                webhook_id=str(r["webhook_id"]),
                account_id=str(r["account_id"]),
                delivery_id=str(r["delivery_id"]),
                event_id=r["event_id"],
                event_type=str(r["event_type"]),
                attempt=int(r["attempt"]),
                outcome=str(r["outcome"]),
                status_code=r["status_code"],
                error=r["error"],
                duration_ms=float(r["duration_ms"]),
            )
            for r in rows
        ]

    async def prune(self, retention_days: float, now: float | None = None) -> int:
        """Delete attempts older than the retention (none when it is 0); the count."""
        if retention_days <= 0:
            return 0
        cutoff = (now if now is not None else time.time()) - retention_days * 86400
        return await prune_older_than(self._db, "webhook_deliveries", "id", cutoff)

    # -- dispatching -------------------------------------------------------------------------

    async def has_enabled(self) -> bool:
        row = await self._db.fetchone("SELECT 1 AS one FROM webhooks WHERE enabled = 1 LIMIT 1")
        return row is not None

    async def dispatch(
        self, stage: Stager, *, batch: int = 200, gap_wait: float = 2.0
    ) -> DispatchOutcome:
        """Queue the deliveries of the events after the cursor and move it (module docs)."""

        def run(conn: Connection) -> DispatchOutcome:
            row = conn.execute(
                "SELECT last_event_id FROM webhook_cursor WHERE name = 'dispatch'" + self._lock_row
            ).fetchone()
            cursor = int(row["last_event_id"]) if row is not None else 0
            events = conn.execute(
                "SELECT id, ts, event_type, account_id FROM event_log WHERE id > ? "
                "ORDER BY id LIMIT ?",
                (cursor, batch),
            ).fetchall()
            ids = [(int(e["id"]), float(e["ts"])) for e in events]
            new_cursor, waiting = settled_events(ids, cursor, time.time(), gap_wait)
            taken = [e for e in events if int(e["id"]) <= new_cursor]
            queued = self._queue_deliveries(conn, stage, taken)
            if new_cursor != cursor:
                conn.execute(
                    "UPDATE webhook_cursor SET last_event_id = ? WHERE name = 'dispatch'",
                    (new_cursor,),
                )
            return DispatchOutcome(queued, len(taken), len(events) == batch, waiting)

        return await self._db.transaction(run)

    @staticmethod
    def _queue_deliveries(conn: Connection, stage: Stager, events: Sequence[Row]) -> int:
        accounts = sorted({str(e["account_id"]) for e in events})
        if not accounts:
            return 0
        marks = ", ".join("?" * len(accounts))
        hooks = [
            _record(r)
            for r in conn.execute(
                f"SELECT {_COLUMNS} FROM webhooks WHERE enabled = 1 AND account_id IN ({marks}) "
                "ORDER BY webhook_id",
                accounts,
            ).fetchall()
        ]
        queued = 0
        for event in events:
            event_id, event_type = int(event["id"]), str(event["event_type"])
            for hook in hooks:
                if hook.account_id == event["account_id"] and hook.wants(event_type, event_id):
                    stage(conn, hook, event_id, event_type)
                    queued += 1
        return queued
