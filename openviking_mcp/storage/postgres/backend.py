"""Everything a :class:`~openviking_mcp.store.Store` keeps in PostgreSQL, built from the
``storage.postgres`` settings: the database (pool and schema), the content tree, the
metadata database and task queue tables, the path locks and the bot's turn streams.

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
from openviking_mcp.storage.postgres.streams import PgStreamRegistry

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
            hnsw_ef_search=settings.hnsw_ef_search,
        )
        self.content = PgContentStore(self.database)
        self.metadata = PgMetadataDB(
            settings.dsn,
            pool_min=settings.pool_min,
            pool_max=settings.pool_max,
            statement_timeout_ms=timeout,
        )
        self.locks = PgPathLocks(settings.dsn, max_held=settings.pool_max)
        self._streams: PgStreamRegistry | None = None

    def streams(self, retention: float) -> PgStreamRegistry:
        """The bot's turn streams (built on first use, closed with the backend)."""
        if self._streams is None:
            self._streams = PgStreamRegistry(self.database, retention)
        return self._streams

    async def open(self) -> None:
        """Check and migrate the database, then open the lock pool."""
        await self.database.open()
        try:
            await self.locks.open()
        except BaseException:
            await self.database.close()
            raise

    async def close(self) -> None:
        streams, self._streams = self._streams, None
        if streams is not None:
            await streams.close()
        await self.locks.close()
        await self.database.close()
