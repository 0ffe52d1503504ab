"""Everything a :class:`~openviking_mcp.store.Store` keeps in PostgreSQL, built from the
``storage.postgres`` settings: the database (pool and schema), the content tree, the
metadata database and task queue tables, and the path locks.

:meth:`PgBackend.open` checks the server first (a bad DSN, an unreachable server or a
missing pgvector extension is reported before anything else starts), migrates the schema,
then opens the lock pool; the metadata pool is opened by the store, as the SQLite database
is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openviking_mcp.storage.postgres._db import PgDatabase
from openviking_mcp.storage.postgres.content import PgContentStore
from openviking_mcp.storage.postgres.locks import PgPathLocks
from openviking_mcp.storage.postgres.metadata import PgMetadataDB

if TYPE_CHECKING:
    from openviking_mcp.config import PostgresConfig

__all__ = ["PgBackend"]


class PgBackend:
    """The PostgreSQL parts of one store (see the module docs)."""

    def __init__(self, settings: PostgresConfig) -> None:
        self.settings = settings
        timeout = settings.statement_timeout_ms
        self.database = PgDatabase(
            settings.dsn,
            min_size=settings.pool_min,
            max_size=settings.pool_max,
            statement_timeout_ms=timeout,
        )
        self.content = PgContentStore(self.database)
        self.metadata = PgMetadataDB(
            settings.dsn,
            pool_min=settings.pool_min,
            pool_max=settings.pool_max,
            statement_timeout_ms=timeout,
        )
        self.locks = PgPathLocks(settings.dsn, max_held=settings.pool_max)

    async def open(self) -> None:
        """Check and migrate the database, then open the lock pool."""
        await self.database.open()
        try:
            await self.locks.open()
        except BaseException:
            await self.database.close()
            raise

    async def close(self) -> None:
        await self.locks.close()
        await self.database.close()
