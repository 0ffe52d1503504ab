"""The audit log table: append-only entries, written in batches off the hot path.

:meth:`AuditLog.add` only queues an entry in memory; a background task writes the queue in
one transaction every ``flush_interval`` seconds, or at once when ``buffer_max`` entries wait.
The queue is bounded: beyond ten times ``buffer_max`` (a database that stopped answering) new
entries are counted in :attr:`AuditLog.dropped` and logged rather than held. :meth:`flush`
writes what waits (queries call it first, so a caller sees its own entries) and
:meth:`close` writes the rest. Entries older than ``retention_days`` are deleted after a flush,
at most once an hour and a bounded batch at a time (:meth:`prune`).

An entry holds who (account, user, role, key id), when, the surface, the operation, the URIs,
the outcome (``ok`` or an error code) and the request id: never content, messages or secrets.
The same SQL runs on SQLite and PostgreSQL (``uris`` is a JSON list as text).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from openviking_mcp.storage._log_tables import BatchedWriter
from openviking_mcp.storage.metadata import MetadataBackend

__all__ = ["AuditFilter", "AuditLog", "AuditRecord"]

_log = logging.getLogger(__name__)

_COLUMNS = (
    "ts",
    "account_id",
    "user_id",
    "role",
    "key_id",
    "surface",
    "operation",
    "kind",
    "uris",
    "outcome",
    "request_id",
    "duration_ms",
)
_TABLE = "audit_log"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One entry as it is written."""

    ts: float
    account_id: str
    user_id: str
    role: str
    key_id: str | None
    surface: str
    operation: str
    kind: str
    uris: tuple[str, ...]
    outcome: str
    request_id: str | None
    duration_ms: float | None = None

    def row(self) -> tuple[Any, ...]:
        uris = json.dumps(list(self.uris), ensure_ascii=False)
        return (
            self.ts,
            self.account_id,
            self.user_id,
            self.role,
            self.key_id,
            self.surface,
            self.operation,
            self.kind,
            uris,
            self.outcome,
            self.request_id,
            self.duration_ms,
        )


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries a query answers, newest first: ``before_seq`` is the paging cursor,
    ``outcome`` is ``ok``, ``error`` (any failure) or one error code."""

    account_id: str | None = None
    user_id: str | None = None
    operation: str | None = None
    uri_prefix: str | None = None
    since: float | None = None
    until: float | None = None
    outcome: str | None = None
    before_seq: int | None = None
    limit: int = 100


class AuditLog(BatchedWriter[AuditRecord]):
    """The buffered writer and the queries of the ``audit_log`` table (module docs)."""

    def __init__(
        self,
        db: MetadataBackend,
        *,
        retention_days: float = 90.0,
        flush_interval: float = 1.0,
        buffer_max: int = 1000,
    ) -> None:
        super().__init__(
            db,
            _TABLE,
            _COLUMNS,
            retention_days=retention_days,
            flush_interval=flush_interval,
            buffer_max=buffer_max,
        )

    async def query(self, where: AuditFilter) -> list[dict[str, Any]]:
        """The entries ``where`` selects, newest first (``seq`` included for paging)."""
        await self.flush()
        clauses, params = self._clauses(where)
        sql = (
            f"SELECT seq, {', '.join(_COLUMNS)} FROM audit_log"
            + (f" WHERE {' AND '.join(clauses)}" if clauses else "")
            + " ORDER BY seq DESC LIMIT ?"
        )
        rows = await self._db.fetchall(sql, (*params, where.limit))
        out = []
        for row in rows:
            entry = dict(zip(row.keys(), row, strict=True))
            entry["uris"] = json.loads(entry["uris"] or "[]")
            out.append(entry)
        return out

    def _clauses(self, where: AuditFilter) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("account_id", where.account_id),
            ("user_id", where.user_id),
            ("operation", where.operation),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        for clause, bound in (
            ("ts >= ?", where.since),
            ("ts < ?", where.until),
            ("seq < ?", where.before_seq),
        ):
            if bound is not None:
                clauses.append(clause)
                params.append(bound)
        if where.outcome == "error":
            clauses.append("outcome <> 'ok'")
        elif where.outcome is not None:
            clauses.append("outcome = ?")
            params.append(where.outcome)
        if where.uri_prefix:
            find = "instr(uris, ?)" if self._db.dialect == "sqlite" else "strpos(uris, ?)"
            clauses.append(f"{find} > 0")
            params.append(json.dumps(where.uri_prefix, ensure_ascii=False)[:-1])
        return clauses, params
