"""The metadata database: one SQLite file for accounts, users, keys, tasks, tickets and tags.

Schema changes are numbered migrations, applied in order on open and recorded in
``PRAGMA user_version``; a database newer than this code is refused rather than guessed at.
WAL mode and a busy timeout let several processes share the file.

Callers are written against :class:`MetadataBackend` (this SQLite database, or the postgres
backend's ``PgMetadataDB``): their callbacks get a :class:`Connection` whose ``execute`` takes
``?`` placeholders and returns a :class:`Cursor` of :class:`Row` objects (``row[0]``,
``row["col"]``, ``dict(row)``); a unique or foreign-key violation raises
:data:`IntegrityError` on both. The few statements that must differ check
:attr:`MetadataBackend.dialect`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from openviking_mcp.contract.errors import FailedPreconditionError, NotInitializedError

__all__ = [
    "MIGRATIONS",
    "Connection",
    "Cursor",
    "Dialect",
    "IntegrityError",
    "MetadataBackend",
    "MetadataCore",
    "MetadataDB",
    "Row",
]

T = TypeVar("T")

Dialect = Literal["sqlite", "postgres"]

#: Raised by both backends for a unique or foreign-key violation (SQLite's own class; the
#: postgres backend raises it too).
IntegrityError = sqlite3.IntegrityError


class Row(Protocol):
    """One result row: by position (``row[0]``), by column name (``row["col"]``) and as a
    mapping (``dict(row)`` through :meth:`keys`)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    """The result of :meth:`Connection.execute`."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What a transaction callback gets: statements with ``?`` placeholders."""

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...


class MetadataBackend(Protocol):
    """The metadata database as its callers use it (SQLite or PostgreSQL)."""

    dialect: Dialect

    @property
    def schema_version(self) -> int: ...

    def open(self) -> None: ...

    def close(self) -> None: ...

    def run(self, fn: Callable[[Connection], T]) -> T: ...

    async def transaction(self, fn: Callable[[Connection], T]) -> T: ...

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    async def ping(self) -> None: ...


class MetadataCore(ABC):
    """What both metadata databases (SQLite, PostgreSQL) build on their own synchronous
    :meth:`run` and :meth:`fetchall`: the async :meth:`transaction`, :meth:`fetchone` and
    :meth:`ping`."""

    @abstractmethod
    def run(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one transaction (synchronously)."""

    @abstractmethod
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """The rows of one statement, read in a worker thread."""

    async def transaction(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one transaction, in a worker thread."""
        return await asyncio.to_thread(self.run, fn)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def ping(self) -> None:
        await self.fetchone("SELECT 1")


#: Migration N (1-based) brings the schema from version N-1 to N. Append only; never edit.
MIGRATIONS: list[str] = [
    # 1: accounts, users and their keys (only salted scrypt hashes are stored)
    """
    CREATE TABLE accounts (
        account_id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL
    );
    CREATE TABLE users (
        account_id TEXT NOT NULL REFERENCES accounts(account_id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
        key_salt TEXT,
        key_digest TEXT,
        key_prefix TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (account_id, user_id)
    );
    """,
    # 2: durable background tasks (ingestion, refreshes, reindex, later session commits)
    """
    CREATE TABLE tasks (
        task_id TEXT PRIMARY KEY,
        task_type TEXT NOT NULL,
        status TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 10,
        account_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        role TEXT NOT NULL,
        resource_id TEXT,
        payload TEXT NOT NULL DEFAULT '{}',
        state TEXT NOT NULL DEFAULT '{}',
        stage TEXT NOT NULL DEFAULT 'queued',
        progress TEXT NOT NULL DEFAULT '{}',
        result TEXT,
        error TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL DEFAULT 4,
        run_after REAL NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_until REAL,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX tasks_claim ON tasks(status, priority, run_after, created_at);
    CREATE INDEX tasks_owner ON tasks(account_id, user_id, created_at);
    CREATE INDEX tasks_resource ON tasks(resource_id)
    """,
    # 3: one-shot upload tickets (only the sha256 of the token is stored)
    """
    CREATE TABLE upload_tickets (
        token_hash TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        role TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL
    );
    CREATE INDEX upload_tickets_expiry ON upload_tickets(expires_at)
    """,
    # 4: the bot's answers, with the feedback given on them
    """
    CREATE TABLE chat_responses (
        response_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        mode TEXT NOT NULL,
        model TEXT,
        message TEXT NOT NULL DEFAULT '',
        citations TEXT NOT NULL DEFAULT '[]',
        token_usage TEXT NOT NULL DEFAULT '{}',
        error TEXT,
        feedback TEXT
    );
    CREATE INDEX chat_responses_session ON chat_responses(account_id, user_id, session_id)
    """,
    # 5: who created shared paths (viking://resources, viking://agent/skills): the owner rule
    """
    CREATE TABLE path_owners (
        account_id TEXT NOT NULL,
        uri TEXT NOT NULL,
        user_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (account_id, uri)
    )
    """,
    # 6: explicit k=v retrieval tags set on a file or directory (a JSON list per path)
    """
    CREATE TABLE path_tags (
        account_id TEXT NOT NULL,
        uri TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '[]',
        updated_at REAL NOT NULL,
        PRIMARY KEY (account_id, uri)
    )
    """,
    # 7: user groups of an account and their members
    """
    CREATE TABLE user_groups (
        account_id TEXT NOT NULL REFERENCES accounts(account_id) ON DELETE CASCADE,
        group_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (account_id, group_id)
    );
    CREATE TABLE group_members (
        account_id TEXT NOT NULL,
        group_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        PRIMARY KEY (account_id, group_id, user_id),
        FOREIGN KEY (account_id, group_id)
            REFERENCES user_groups(account_id, group_id) ON DELETE CASCADE,
        FOREIGN KEY (account_id, user_id)
            REFERENCES users(account_id, user_id) ON DELETE CASCADE
    )
    """,
    # 8: the audit log: who changed what, through which surface (never content or secrets)
    """
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        ts REAL NOT NULL,
        account_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        role TEXT NOT NULL,
        key_id TEXT,
        surface TEXT NOT NULL,
        operation TEXT NOT NULL,
        kind TEXT NOT NULL,
        uris TEXT NOT NULL DEFAULT '[]',
        outcome TEXT NOT NULL,
        request_id TEXT,
        duration_ms REAL
    );
    CREATE INDEX audit_log_account ON audit_log(account_id, seq);
    CREATE INDEX audit_log_user ON audit_log(account_id, user_id, seq);
    CREATE INDEX audit_log_ts ON audit_log(ts)
    """,
    # 9: Idempotency-Key records of the HTTP API: the first response to replay per key
    """
    CREATE TABLE idempotency_keys (
        account_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        idem_key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done')),
        claimed_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        status INTEGER,
        headers TEXT,
        body BLOB,
        PRIMARY KEY (account_id, user_id, idem_key)
    );
    CREATE INDEX idempotency_keys_expiry ON idempotency_keys(expires_at)
    """,
    # 10: users' named API keys (scopes, URI prefix, expiry; only salted scrypt hashes)
    """
    CREATE TABLE api_keys (
        key_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        scopes TEXT NOT NULL,
        uri_prefix TEXT,
        expires_at TEXT,
        created_at TEXT NOT NULL,
        last_used_at TEXT,
        key_salt TEXT NOT NULL,
        key_digest TEXT NOT NULL,
        key_prefix TEXT NOT NULL,
        UNIQUE (account_id, user_id, name),
        FOREIGN KEY (account_id, user_id)
            REFERENCES users(account_id, user_id) ON DELETE CASCADE
    )
    """,
    # 11: usage analytics: reads, searches (query text, hit count, best score) and their hits
    """
    CREATE TABLE usage_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        ts REAL NOT NULL,
        account_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        surface TEXT NOT NULL,
        kind TEXT NOT NULL,
        operation TEXT NOT NULL,
        uri TEXT,
        query TEXT,
        hit_count INTEGER,
        best_score REAL
    );
    CREATE INDEX usage_log_account ON usage_log(account_id, kind, ts);
    CREATE INDEX usage_log_uri ON usage_log(account_id, uri, ts);
    CREATE INDEX usage_log_ts ON usage_log(ts)
    """,
    # 12: the event log: what happened (resource.indexed, memory.changed...), never content
    """
    CREATE TABLE event_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts REAL NOT NULL,
        event_type TEXT NOT NULL,
        account_id TEXT NOT NULL,
        user_id TEXT,
        uris TEXT NOT NULL DEFAULT '[]',
        payload TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX event_log_account ON event_log(account_id, id);
    CREATE INDEX event_log_ts ON event_log(ts)
    """,
    # 13: webhooks, their delivery attempts and the dispatcher's place in the event log
    """
    CREATE TABLE webhooks (
        webhook_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(account_id) ON DELETE CASCADE,
        url TEXT NOT NULL,
        events TEXT NOT NULL DEFAULT '[]',
        description TEXT NOT NULL DEFAULT '',
        secret TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        since_event_id INTEGER NOT NULL DEFAULT 0,
        created_by TEXT NOT NULL,
        created_role TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        last_delivery_at REAL,
        last_status TEXT
    );
    CREATE INDEX webhooks_account ON webhooks(account_id);
    CREATE TABLE webhook_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts REAL NOT NULL,
        webhook_id TEXT NOT NULL REFERENCES webhooks(webhook_id) ON DELETE CASCADE,
        account_id TEXT NOT NULL,
        delivery_id TEXT NOT NULL,
        event_id INTEGER,
        event_type TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        status_code INTEGER,
        error TEXT,
        duration_ms REAL NOT NULL
    );
    CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, id);
    CREATE INDEX webhook_deliveries_ts ON webhook_deliveries(ts);
    CREATE TABLE webhook_cursor (
        name TEXT PRIMARY KEY,
        last_event_id INTEGER NOT NULL
    );
    INSERT INTO webhook_cursor(name, last_event_id)
        SELECT 'dispatch', COALESCE(MAX(id), 0) FROM event_log
    """,
    # 14: the OAuth authorization server: clients, approval requests and codes, tokens
    # (only SHA-256 hashes of client secrets, codes and tokens are stored)
    """
    CREATE TABLE oauth_clients (
        client_id TEXT PRIMARY KEY,
        secret_hash TEXT,
        metadata TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE oauth_grants (
        grant_hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        client_id TEXT NOT NULL REFERENCES oauth_clients(client_id) ON DELETE CASCADE,
        payload TEXT NOT NULL,
        expires_at REAL NOT NULL
    );
    CREATE INDEX oauth_grants_expiry ON oauth_grants(expires_at);
    CREATE TABLE oauth_tokens (
        token_hash TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        family_id TEXT NOT NULL,
        client_id TEXT NOT NULL REFERENCES oauth_clients(client_id) ON DELETE CASCADE,
        account_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        key_id TEXT,
        key_digest TEXT,
        scopes TEXT NOT NULL,
        uri_prefix TEXT,
        resource TEXT,
        expires_at REAL NOT NULL,
        created_at REAL NOT NULL,
        FOREIGN KEY (account_id, user_id)
            REFERENCES users(account_id, user_id) ON DELETE CASCADE
    );
    CREATE INDEX oauth_tokens_family ON oauth_tokens(family_id);
    CREATE INDEX oauth_tokens_expiry ON oauth_tokens(expires_at)
    """,
    # 15: the registry of MCP servers imported as skills (secret headers live in privacy configs)
    """
    CREATE TABLE mcp_servers (
        server_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(account_id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        transport TEXT NOT NULL,
        url TEXT,
        command TEXT,
        secret_names TEXT NOT NULL DEFAULT '{}',
        skills_root TEXT NOT NULL,
        source_id TEXT NOT NULL,
        refresh_seconds REAL NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        trusted INTEGER NOT NULL DEFAULT 0,
        created_by TEXT NOT NULL,
        created_role TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        next_refresh_at REAL,
        last_refresh_at REAL,
        last_status TEXT NOT NULL DEFAULT 'pending',
        last_error TEXT,
        tool_count INTEGER,
        duration_ms REAL,
        last_changes TEXT NOT NULL DEFAULT '{}',
        UNIQUE (account_id, skills_root, name),
        UNIQUE (account_id, skills_root, source_id)
    );
    CREATE INDEX mcp_servers_due ON mcp_servers(enabled, next_refresh_at)
    """,
]


class MetadataDB(MetadataCore):
    """A small synchronous SQLite core with async wrappers (work runs in a thread)."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path, migrations: Sequence[str] = MIGRATIONS) -> None:
        self.path = path
        self._migrations = list(migrations)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @property
    def schema_version(self) -> int:
        return int(self._connection().execute("PRAGMA user_version").fetchone()[0])

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise NotInitializedError("Metadata database is not open")
        return self._conn

    def open(self) -> None:
        if self._conn is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, timeout=30.0, check_same_thread=False, isolation_level=None
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        self._conn = conn
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _migrate(self) -> None:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then see it done
        try:
            current = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if current > len(self._migrations):
                raise FailedPreconditionError(
                    f"Metadata database {self.path} has schema version {current}, newer than this "
                    f"version of openviking-mcp supports ({len(self._migrations)}). Upgrade it.",
                    {"schema_version": current, "supported": len(self._migrations)},
                )
            for version in range(current + 1, len(self._migrations) + 1):
                for statement in _statements(self._migrations[version - 1]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def run(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one transaction (synchronously)."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        def query() -> list[Row]:
            with self._lock:
                rows: list[Row] = self._connection().execute(sql, params).fetchall()
                return rows

        return await asyncio.to_thread(query)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
