"""Fixtures shared by the storage tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest

from openviking_mcp.storage.metadata import MetadataBackend, MetadataDB


@contextmanager
def sqlite_metadata(path: Path) -> Iterator[MetadataDB]:
    """An open SQLite metadata database at ``path``."""
    database = MetadataDB(path)
    database.open()
    try:
        yield database
    finally:
        database.close()


@asynccontextmanager
async def pg_metadata(dsn: str, instances: int = 1) -> AsyncIterator[list[MetadataBackend]]:
    """``instances`` open PostgreSQL metadata databases on ``dsn`` (separate pools, as
    separate processes have), after migrating the schema as the postgres backend does."""
    from openviking_mcp.storage.postgres import PgDatabase
    from openviking_mcp.storage.postgres.metadata import PgMetadataDB

    schema = PgDatabase(dsn, max_size=2)
    await schema.open()
    await schema.close()
    opened: list[MetadataBackend] = []
    try:
        for _ in range(instances):
            database = PgMetadataDB(dsn, pool_min=1, pool_max=4)
            database.open()
            opened.append(database)
        yield opened
    finally:
        for opened_db in opened:
            opened_db.close()


@pytest.fixture(params=["local", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MetadataBackend]:
    """An open metadata database: SQLite in ``tmp_path``, or a fresh PostgreSQL database."""
    if request.param == "local":
        with sqlite_metadata(tmp_path / "meta.sqlite3") as database:
            yield database
        return
    from tests.pg import fresh_database

    with fresh_database() as dsn:
        async with pg_metadata(dsn) as (pg,):
            yield pg
