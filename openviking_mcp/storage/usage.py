"""The usage log of analytics: reads, searches and their hits, written in batches.

:meth:`UsageLog.add` only queues rows in memory; a background task writes the queue in one
transaction every ``flush_interval`` seconds, or at once when ``buffer_max`` rows wait. The
queue is bounded: beyond ten times ``buffer_max`` (a database that stopped answering) new rows
are counted in :attr:`UsageLog.dropped` rather than held. :meth:`flush` writes what waits
(the queries call it first) and :meth:`close` writes the rest. Rows older than
``retention_days`` are deleted after a flush, at most once an hour, a bounded batch at a time.

A row is a ``read`` of ``uri``, a ``query`` (its text, hit count and best score) or a ``hit``
(one of a query's best URIs). No content is stored; the query text is. The aggregations are
plain SQL over a time window with a ``LIMIT``, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from openviking_mcp.storage._log_tables import BatchedWriter
from openviking_mcp.storage.metadata import MetadataBackend

__all__ = ["UsageLog", "UsageRecord"]

_log = logging.getLogger(__name__)

_IN_CHUNK = 500
_COLUMNS = (
    "ts",
    "account_id",
    "user_id",
    "surface",
    "kind",
    "operation",
    "uri",
    "query",
    "hit_count",
    "best_score",
)
_TABLE = "usage_log"
_READS = "SUM(CASE WHEN kind = 'read' THEN 1 ELSE 0 END)"
_HITS = "SUM(CASE WHEN kind = 'hit' THEN 1 ELSE 0 END)"
_ORDER = {
    "total": f"COUNT(*) DESC, {_READS} DESC",
    "reads": f"{_READS} DESC, {_HITS} DESC",
    "hits": f"{_HITS} DESC, {_READS} DESC",
}


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One row as it is written (``kind``: ``read``, ``query`` or ``hit``)."""

    ts: float
    account_id: str
    user_id: str
    surface: str
    kind: str
    operation: str
    uri: str | None = None
    query: str | None = None
    hit_count: int | None = None
    best_score: float | None = None

    def row(self) -> tuple[Any, ...]:
        return tuple(getattr(self, c) for c in _COLUMNS)


def _dicts(rows: list[Any]) -> list[dict[str, Any]]:
    return [dict(zip(r.keys(), r, strict=True)) for r in rows]


class UsageLog(BatchedWriter[UsageRecord]):
    """The buffered writer and the aggregations of the ``usage_log`` table (module docs)."""

    def __init__(
        self,
        db: MetadataBackend,
        *,
        retention_days: float = 30.0,
        flush_interval: float = 2.0,
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

    # -- aggregations ------------------------------------------------------------------------

    async def top(self, account: str, since: float, limit: int, by: str) -> list[dict[str, Any]]:
        """URIs by reads and hits since ``since``: ``{uri, reads, hits, last}``."""
        await self.flush()
        sql = (
            f"SELECT uri, {_READS} AS reads, {_HITS} AS hits, MAX(ts) AS last "
            "FROM usage_log WHERE account_id = ? AND kind IN ('read', 'hit') AND ts >= ? "
            f"GROUP BY uri ORDER BY {_ORDER[by]}, uri LIMIT ?"
        )
        return _dicts(await self._db.fetchall(sql, (account, since, limit)))

    async def last_access(self, account: str, uris: list[str]) -> dict[str, float]:
        """The last read or hit of each of ``uris`` (absent: never, within the retention)."""
        await self.flush()
        out: dict[str, float] = {}
        for start in range(0, len(uris), _IN_CHUNK):
            chunk = uris[start : start + _IN_CHUNK]
            sql = (
                "SELECT uri, MAX(ts) AS last FROM usage_log WHERE account_id = ? "
                f"AND kind IN ('read', 'hit') AND uri IN ({', '.join('?' * len(chunk))}) "
                "GROUP BY uri"
            )
            for row in await self._db.fetchall(sql, (account, *chunk)):
                out[row["uri"]] = float(row["last"])
        return out

    async def queries(self, account: str, since: float, limit: int) -> list[dict[str, Any]]:
        """The latest searches since ``since``, newest first."""
        await self.flush()
        sql = (
            "SELECT ts, user_id, surface, operation, query, hit_count, best_score "
            "FROM usage_log WHERE account_id = ? AND kind = 'query' AND ts >= ? "
            "ORDER BY seq DESC LIMIT ?"
        )
        return _dicts(await self._db.fetchall(sql, (account, since, limit)))

    async def misses(
        self, account: str, since: float, threshold: float, limit: int
    ) -> list[dict[str, Any]]:
        """Distinct query texts whose best score stayed under ``threshold`` every time they
        ran since ``since``: ``{query, count, best, last}``, the most asked first."""
        await self.flush()
        sql = (
            "SELECT query, COUNT(*) AS count, MAX(COALESCE(best_score, 0)) AS best, "
            "MAX(ts) AS last FROM usage_log WHERE account_id = ? AND kind = 'query' "
            "AND ts >= ? GROUP BY query HAVING MAX(COALESCE(best_score, 0)) < ? "
            "ORDER BY COUNT(*) DESC, MAX(ts) DESC LIMIT ?"
        )
        return _dicts(await self._db.fetchall(sql, (account, since, threshold, limit)))

    async def by_surface(self, account: str, since: float) -> list[dict[str, Any]]:
        """Reads and searches per surface since ``since`` (``{surface, kind, count}``), and
        the audit log's changes per surface (``kind`` ``change``)."""
        await self.flush()
        usage = (
            "SELECT surface, kind, COUNT(*) AS count FROM usage_log WHERE account_id = ? "
            "AND kind IN ('read', 'query') AND ts >= ? GROUP BY surface, kind"
        )
        audit = (
            "SELECT surface, 'change' AS kind, COUNT(*) AS count FROM audit_log "
            "WHERE account_id = ? AND kind = 'mutation' AND ts >= ? GROUP BY surface"
        )
        rows = await self._db.fetchall(usage, (account, since))
        rows += await self._db.fetchall(audit, (account, since))
        return _dicts(rows)
