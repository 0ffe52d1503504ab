"""The check ``serve`` and ``worker`` run before they start on the postgres backend: the
server answers, pgvector is there, and the schema is migrated (or refused as too new).

Any failure is a :class:`~openviking_mcp.contract.errors.ConfigError` naming the reason, so
the command exits with status 2 and never leaves a half-started server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg

from openviking_mcp.contract.errors import ConfigError, OpenVikingError
from openviking_mcp.storage.postgres._db import PgDatabase

if TYPE_CHECKING:
    from openviking_mcp.config import PostgresConfig

__all__ = ["check_database"]


async def check_database(settings: PostgresConfig, *, migrate: bool = True) -> tuple[int, int]:
    """Open the database once and close it: ``(schema version, version this code writes)``.
    ``ConfigError`` if it is unusable (see the module docs). ``migrate=False`` only reads
    the version (``doctor``)."""
    database = PgDatabase(
        settings.dsn, min_size=1, max_size=1, statement_timeout_ms=settings.statement_timeout_ms
    )
    try:
        if not migrate:
            return await database.stored_version(), database.schema_version
        await database.open()
    except OpenVikingError as exc:
        raise ConfigError(
            f"storage.postgres: {exc.message}", {"backend": "postgres", **exc.details}
        ) from exc
    except (OSError, psycopg.Error) as exc:  # a pool that could not connect in time
        raise ConfigError(f"storage.postgres: the database is unreachable ({exc})") from exc
    try:
        return database.schema_version, database.schema_version
    finally:
        await database.close()
