"""The ``mcp_servers`` table: the registered MCP servers whose tools are imported as skills.

One row per server: how to reach it (``url`` or a JSON ``command``), the names of its secret
headers and environment variables (``secret_names``; the values live in the registering user's
privacy config, never here), the skills root its tools go to and the source id they carry, the
schedule (``refresh_seconds``, ``next_refresh_at``) and the health of the last refresh.

A scheduled refresh is claimed with one conditional ``UPDATE`` (:meth:`McpServerStore.claim`):
of several processes that see a server due, only the one whose update moves
``next_refresh_at`` past now refreshes it; the claim also leases the server until the refresh
ends (a process killed meanwhile leaves it to be claimed again after the lease). The same SQL
runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from openviking_mcp.contract.errors import AlreadyExistsError, NotFoundError
from openviking_mcp.storage.metadata import Connection, MetadataBackend, Row

__all__ = ["McpServerHealth", "McpServerRecord", "McpServerStore"]

_COLUMNS = (
    "server_id, account_id, name, transport, url, command, secret_names, skills_root, "
    "source_id, refresh_seconds, enabled, trusted, created_by, created_role, created_at, "
    "updated_at, next_refresh_at, last_refresh_at, last_status, last_error, tool_count, "
    "duration_ms, last_changes"
)
#: What an update may set.
_UPDATABLE = frozenset({"name", "secret_names", "refresh_seconds", "enabled", "next_refresh_at"})


@dataclass(slots=True)
class McpServerRecord:
    """One registered server as stored."""

    server_id: str
    account_id: str
    name: str
    transport: str
    url: str | None
    command: list[str] | None
    secret_names: dict[str, list[str]]
    skills_root: str
    source_id: str
    refresh_seconds: float
    enabled: bool
    trusted: bool
    created_by: str
    created_role: str
    created_at: float
    updated_at: float
    next_refresh_at: float | None = None
    last_refresh_at: float | None = None
    last_status: str = "pending"
    last_error: str | None = None
    tool_count: int | None = None
    duration_ms: float | None = None
    last_changes: dict[str, list[str]] = field(default_factory=dict)

    def row(self) -> tuple[Any, ...]:
        return (
            self.server_id,
            self.account_id,
            self.name,
            self.transport,
            self.url,
            json.dumps(self.command) if self.command is not None else None,
            json.dumps(self.secret_names, sort_keys=True),
            self.skills_root,
            self.source_id,
            self.refresh_seconds,
            int(self.enabled),
            int(self.trusted),
            self.created_by,
            self.created_role,
            self.created_at,
            self.updated_at,
            self.next_refresh_at,
            self.last_refresh_at,
            self.last_status,
            self.last_error,
            self.tool_count,
            self.duration_ms,
            json.dumps(self.last_changes, sort_keys=True),
        )


@dataclass(frozen=True, slots=True)
class McpServerHealth:
    """How one refresh ended: ``status`` ``ok`` or ``error`` (with ``error``), the number of
    tools listed, its duration and the changed skill names (``added``/``updated``/``removed``)."""

    status: str
    error: str | None
    tool_count: int | None
    duration_ms: float
    changes: dict[str, list[str]]
    at: float = field(default_factory=time.time)


def _record(row: Row) -> McpServerRecord:
    command = row["command"]
    return McpServerRecord(
        server_id=str(row["server_id"]),
        account_id=str(row["account_id"]),
        name=str(row["name"]),
        transport=str(row["transport"]),
        url=row["url"],
        command=json.loads(command) if command else None,
        secret_names=json.loads(row["secret_names"] or "{}"),
        skills_root=str(row["skills_root"]),
        source_id=str(row["source_id"]),
        refresh_seconds=float(row["refresh_seconds"]),
        enabled=bool(row["enabled"]),
        trusted=bool(row["trusted"]),
        created_by=str(row["created_by"]),
        created_role=str(row["created_role"]),
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
        next_refresh_at=row["next_refresh_at"],
        last_refresh_at=row["last_refresh_at"],
        last_status=str(row["last_status"]),
        last_error=row["last_error"],
        tool_count=row["tool_count"],
        duration_ms=row["duration_ms"],
        last_changes=json.loads(row["last_changes"] or "{}"),
    )


class McpServerStore:
    """The ``mcp_servers`` table's queries (module docs)."""

    def __init__(self, db: MetadataBackend) -> None:
        self._db = db

    async def create(self, record: McpServerRecord) -> McpServerRecord:
        """Store ``record``; ``ALREADY_EXISTS`` when its root already has a server of that
        name or that source."""

        def insert(conn: Connection) -> None:
            taken = conn.execute(
                "SELECT name, source_id FROM mcp_servers WHERE account_id = ? AND "
                "skills_root = ? AND (name = ? OR source_id = ?)",
                (record.account_id, record.skills_root, record.name, record.source_id),
            ).fetchone()
            if taken is not None:
                what = record.name if taken["name"] == record.name else record.source_id
                raise AlreadyExistsError(what, "MCP server")
            marks = ", ".join("?" * len(record.row()))
            conn.execute(f"INSERT INTO mcp_servers ({_COLUMNS}) VALUES ({marks})", record.row())

        await self._db.transaction(insert)
        return record

    async def find(self, server_id: str) -> McpServerRecord | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM mcp_servers WHERE server_id = ?", (server_id,)
        )
        return _record(row) if row is not None else None

    async def get(self, account_id: str, server_id: str) -> McpServerRecord:
        """The account's server; ``NOT_FOUND`` for an unknown one or another account's."""
        found = await self.find(server_id)
        if found is None or found.account_id != account_id:
            raise NotFoundError(server_id, "MCP server")
        return found

    async def all_of(self, account_id: str) -> list[McpServerRecord]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM mcp_servers WHERE account_id = ? "
            "ORDER BY skills_root, name, server_id",
            (account_id,),
        )
        return [_record(r) for r in rows]

    async def update(self, account_id: str, server_id: str, **values: Any) -> McpServerRecord:
        """Set ``values`` (columns of :data:`_UPDATABLE`); the updated server."""
        unknown = set(values) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        if "secret_names" in values:
            values["secret_names"] = json.dumps(values["secret_names"], sort_keys=True)
        if "enabled" in values:
            values["enabled"] = int(values["enabled"])

        def update(conn: Connection) -> int:
            current = conn.execute(
                "SELECT skills_root FROM mcp_servers WHERE server_id = ? AND account_id = ?",
                (server_id, account_id),
            ).fetchone()
            if current is None:
                return 0
            if "name" in values:
                taken = conn.execute(
                    "SELECT 1 AS one FROM mcp_servers WHERE account_id = ? AND skills_root = ? "
                    "AND name = ? AND server_id <> ?",
                    (account_id, current["skills_root"], values["name"], server_id),
                ).fetchone()
                if taken is not None:
                    raise AlreadyExistsError(str(values["name"]), "MCP server")
            sets = ", ".join(f"{k} = ?" for k in (*values, "updated_at"))
            return conn.execute(
                f"UPDATE mcp_servers SET {sets} WHERE server_id = ? AND account_id = ?",
                (*values.values(), time.time(), server_id, account_id),
            ).rowcount

        if not await self._db.transaction(update):
            raise NotFoundError(server_id, "MCP server")
        return await self.get(account_id, server_id)

    async def delete(self, account_id: str, server_id: str) -> McpServerRecord:
        record = await self.get(account_id, server_id)
        await self._db.transaction(
            lambda conn: conn.execute(
                "DELETE FROM mcp_servers WHERE server_id = ? AND account_id = ?",
                (server_id, account_id),
            )
        )
        return record

    # -- the schedule ------------------------------------------------------------------------

    async def due(self, now: float, limit: int = 50) -> list[str]:
        """Ids of enabled servers whose refresh is due, the longest waiting first."""
        rows = await self._db.fetchall(
            "SELECT server_id FROM mcp_servers WHERE enabled = 1 AND next_refresh_at IS NOT NULL "
            "AND next_refresh_at <= ? ORDER BY next_refresh_at LIMIT ?",
            (now, limit),
        )
        return [str(r["server_id"]) for r in rows]

    async def claim(self, server_id: str, now: float, lease_seconds: float) -> bool:
        """Take a due server for one refresh (module docs): ``True`` for the one caller whose
        update moved its ``next_refresh_at`` from the past to the end of the lease."""

        def take(conn: Connection) -> int:
            return conn.execute(
                "UPDATE mcp_servers SET next_refresh_at = ? WHERE server_id = ? AND enabled = 1 "
                "AND next_refresh_at IS NOT NULL AND next_refresh_at <= ?",
                (now + lease_seconds, server_id, now),
            ).rowcount

        return bool(await self._db.transaction(take))

    async def record_health(self, server_id: str, health: McpServerHealth) -> None:
        """Keep how a refresh ended and schedule the next one (``refresh_seconds`` after it;
        none for a server refreshed on demand only)."""

        def write(conn: Connection) -> None:
            conn.execute(
                "UPDATE mcp_servers SET last_refresh_at = ?, last_status = ?, last_error = ?, "
                "tool_count = COALESCE(?, tool_count), duration_ms = ?, last_changes = ?, "
                "next_refresh_at = CASE WHEN refresh_seconds > 0 THEN ? + refresh_seconds "
                "ELSE NULL END WHERE server_id = ?",
                (
                    health.at,
                    health.status,
                    health.error,
                    health.tool_count,
                    health.duration_ms,
                    json.dumps(health.changes, sort_keys=True),
                    health.at,
                    server_id,
                ),
            )

        await self._db.transaction(write)
