"""One PostgreSQL database for a whole deployment: the connection pool and its schema.

:meth:`PgDatabase.open` checks the server before anything else uses it: it connects once
(so a bad DSN or an unreachable server is reported with PostgreSQL's own reason, which a pool
only logs), makes sure the ``vector`` extension exists (pgvector; a server without it is
refused with the reason), opens the pool with pgvector's adapter on every connection, and
migrates the schema. Migrations are numbered (:data:`~._schema.MIGRATIONS`), applied in order
under an advisory lock, so servers starting together do not race, and recorded in
``ov_schema``; a database newer than this code is refused rather than guessed at.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from pgvector.psycopg import register_vector_async
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from openviking_mcp.contract.errors import FailedPreconditionError, UnavailableError
from openviking_mcp.storage.postgres._schema import MIGRATIONS

__all__ = ["PgDatabase", "Row", "connection_options", "redacted"]

Row = dict[str, Any]

#: Advisory lock key held while migrating (any constant shared by every server).
_MIGRATION_LOCK = 0x6F76_6D69  # "ovmi"
_CONNECT_TIMEOUT_S = 10


def redacted(dsn: str) -> str:
    """``dsn`` without its password, for error messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparsable DSN>"
    info.pop("password", None)
    return psycopg.conninfo.make_conninfo("", **{k: v for k, v in info.items() if v is not None})


async def _ensure_vector(conn: psycopg.AsyncConnection[Any]) -> None:
    """Create the ``vector`` extension unless it exists (servers starting together take
    turns under an advisory lock); a clear error when the server cannot provide it."""
    found = await (
        await conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
    ).fetchone()
    if found is not None:
        return
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.errors.InsufficientPrivilege as exc:
        raise FailedPreconditionError(
            "The database user may not create the pgvector extension. Create it once as a "
            f"superuser (CREATE EXTENSION vector) and start again. ({exc})",
            {"extension": "vector"},
        ) from exc
    except psycopg.Error as exc:
        raise FailedPreconditionError(
            "The PostgreSQL server lacks the pgvector extension, which the postgres backend "
            f"needs (CREATE EXTENSION vector failed: {exc}). Install pgvector on the server, "
            "or ask your provider to enable it.",
            {"extension": "vector"},
        ) from exc


def connection_options(statement_timeout_ms: int, hnsw_ef_search: int = 0) -> dict[str, str]:
    """Connection keywords that apply ``storage.postgres`` settings to a session."""
    settings = []
    if statement_timeout_ms > 0:
        settings.append(f"-c statement_timeout={int(statement_timeout_ms)}")
    if hnsw_ef_search > 0:
        settings.append(f"-c hnsw.ef_search={int(hnsw_ef_search)}")
    return {"options": " ".join(settings)} if settings else {}


class PgDatabase:
    """The pool and schema of one PostgreSQL database (see the module docs)."""

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        statement_timeout_ms: int = 0,
        hnsw_ef_search: int = 0,
        migrations: Sequence[str] = MIGRATIONS,
    ) -> None:
        self.dsn = dsn
        #: Extra connection settings of every pooled connection.
        self.options = connection_options(statement_timeout_ms, hnsw_ef_search)
        self._sizes = (min_size, max_size)
        self._migrations = list(migrations)
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Row]] | None = None

    @property
    def schema_version(self) -> int:
        """The schema version this code writes."""
        return len(self._migrations)

    async def open(self) -> None:
        """Check the server, ensure pgvector, open the pool and migrate (module docs)."""
        async with self._probed():
            pass
        pool: AsyncConnectionPool[psycopg.AsyncConnection[Row]] = AsyncConnectionPool(
            self.dsn,
            min_size=self._sizes[0],
            max_size=self._sizes[1],
            open=False,
            configure=register_vector_async,
            kwargs={"autocommit": True, "row_factory": dict_row, **self.options},
            connection_class=psycopg.AsyncConnection[Row],
        )
        await pool.open(wait=True, timeout=_CONNECT_TIMEOUT_S)
        self._pool = pool
        try:
            await self._migrate()
        except BaseException:
            await self.close()
            raise

    async def stored_version(self) -> int:
        """Check the server (as :meth:`open` does) and read its schema version, changing
        nothing else: 0 for a database this code never opened."""
        async with self._probed() as conn:
            found = await (await conn.execute("SELECT to_regclass('ov_schema')")).fetchone()
            if found is None or found[0] is None:
                return 0
            row = await (await conn.execute("SELECT max(version) FROM ov_schema")).fetchone()
            return int(row[0]) if row is not None and row[0] is not None else 0

    @asynccontextmanager
    async def _probed(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """One plain connection, checked: a clear error for a bad DSN, an unreachable
        server or a server without pgvector."""
        try:
            conn = await psycopg.AsyncConnection.connect(
                self.dsn, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S
            )
        except psycopg.ProgrammingError as exc:
            raise FailedPreconditionError(
                f"storage.postgres.dsn is not a valid connection string: {exc}", {}
            ) from exc
        except psycopg.OperationalError as exc:
            raise UnavailableError(
                f"PostgreSQL at {redacted(self.dsn)} is unreachable: {exc}".strip(), {}
            ) from exc
        async with conn:
            await _ensure_vector(conn)
            yield conn

    async def _migrate(self) -> None:
        async with self.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            await conn.execute("CREATE TABLE IF NOT EXISTS ov_schema (version INTEGER NOT NULL)")
            row = await (await conn.execute("SELECT max(version) AS v FROM ov_schema")).fetchone()
            current = int(row["v"]) if row and row["v"] is not None else 0
            if current > len(self._migrations):
                raise FailedPreconditionError(
                    f"The database schema is version {current}, newer than this code "
                    f"({len(self._migrations)}): upgrade openviking-mcp.",
                    {"schema_version": current, "supported": len(self._migrations)},
                )
            for number in range(current + 1, len(self._migrations) + 1):
                await conn.execute(self._migrations[number - 1])
                await conn.execute("INSERT INTO ov_schema (version) VALUES (%s)", (number,))

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Row]]:
        """A pooled connection (autocommit; ``async with conn.transaction()`` for more)."""
        if self._pool is None:
            raise UnavailableError("The PostgreSQL database is not open", {})
        async with self._pool.connection() as conn:
            yield conn

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]:
        async with self.connection() as conn:
            return await (await conn.execute(sql, params)).fetchall()

    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Run one statement; the number of rows it touched."""
        async with self.connection() as conn:
            return (await conn.execute(sql, params)).rowcount

    async def ping(self) -> None:
        await self.fetchall("SELECT 1")
