"""The metadata database on PostgreSQL: the API of :class:`~openviking_mcp.storage.metadata.
MetadataDB` over a synchronous psycopg pool, for every process of a deployment at once.

Callers' transaction callbacks are synchronous, so they run in worker threads
(:func:`asyncio.to_thread`), each :meth:`PgMetadataDB.run` in one transaction on one pooled
connection. The connection they get takes the callers' ``?`` placeholders (translated to
psycopg's ``%s``, a literal ``%`` escaped), its rows are :class:`PgRow` (by position, by
column name, and ``dict(row)``), and a unique or foreign-key violation raises the neutral
:data:`~openviking_mcp.storage.metadata.IntegrityError`. A transaction that PostgreSQL aborts
for a deadlock or a serialization failure is run again (a few times).

:meth:`PgMetadataDB.open` does not migrate: :class:`~._db.PgDatabase` migrates the whole
schema (the tables are in :mod:`._schema_metadata`) and is opened first.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import RowMaker
from psycopg_pool import ConnectionPool

from openviking_mcp.contract.errors import NotInitializedError
from openviking_mcp.storage.metadata import (
    Connection,
    Dialect,
    IntegrityError,
    MetadataCore,
    Row,
)
from openviking_mcp.storage.postgres._db import connection_options

__all__ = ["PgMetadataDB", "PgRow", "to_pyformat"]

T = TypeVar("T")

_CONNECT_TIMEOUT_S = 10.0
_RETRIES = 3
_RETRYABLE = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)


class PgRow:
    """One result row, like :class:`sqlite3.Row`: ``row[0]``, ``row["col"]``, ``keys()``,
    iteration over the values."""

    __slots__ = ("_index", "_names", "_values")

    def __init__(self, names: list[str], index: dict[str, int], values: Sequence[Any]) -> None:
        self._names = names
        self._index = index
        self._values = tuple(values)

    def __getitem__(self, key: int | str, /) -> Any:
        if isinstance(key, str):
            try:
                return self._values[self._index[key.lower()]]
            except KeyError:
                raise IndexError(f"No item with that key: {key!r}") from None
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._names)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PgRow):
            return self._names == other._names and self._values == other._values
        return NotImplemented

    def __hash__(self) -> int:
        return hash((tuple(self._names), self._values))

    def __repr__(self) -> str:
        return f"PgRow({dict(zip(self._names, self._values, strict=True))!r})"


def _row_factory(cursor: psycopg.Cursor[Any]) -> RowMaker[PgRow]:
    names = [column.name for column in cursor.description or ()]
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        index.setdefault(name.lower(), position)  # the first column of a name, as SQLite

    def make(values: Sequence[Any]) -> PgRow:
        return PgRow(names, index, values)

    return make


@functools.lru_cache(maxsize=1024)
def to_pyformat(sql: str) -> str:
    """``sql`` with its ``?`` placeholders as ``%s`` and every ``%`` doubled; a ``?`` inside a
    quoted literal or identifier is left alone."""
    out: list[str] = []
    quote: str | None = None
    for char in sql:
        if char == "%":
            out.append("%%")
            continue
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "?":
            out.append("%s")
            continue
        out.append(char)
    return "".join(out)


class _PgConnection:
    """A pooled connection seen through :class:`~openviking_mcp.storage.metadata.Connection`."""

    __slots__ = ("_conn",)

    def __init__(self, conn: psycopg.Connection[PgRow]) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[PgRow]:
        try:
            return self._conn.execute(to_pyformat(sql), tuple(parameters))
        except pg_errors.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    def executemany(
        self, sql: str, parameters: Iterable[Sequence[Any]], /
    ) -> psycopg.Cursor[PgRow]:
        cursor = self._conn.cursor()
        try:
            cursor.executemany(to_pyformat(sql), [tuple(p) for p in parameters])
        except pg_errors.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        return cursor


class PgMetadataDB(MetadataCore):
    """:class:`~openviking_mcp.storage.metadata.MetadataDB` on PostgreSQL (module docs)."""

    dialect: Dialect = "postgres"

    def __init__(
        self, dsn: str, *, pool_min: int = 1, pool_max: int = 8, statement_timeout_ms: int = 0
    ) -> None:
        self.dsn = dsn
        self._sizes = (pool_min, max(pool_min, pool_max))
        self._options = connection_options(statement_timeout_ms)
        self._pool: ConnectionPool[psycopg.Connection[PgRow]] | None = None

    @property
    def schema_version(self) -> int:
        """The version the database's schema was migrated to (``ov_schema``)."""
        row = self.run(lambda conn: conn.execute("SELECT max(version) FROM ov_schema").fetchone())
        return int(row[0]) if row is not None and row[0] is not None else 0

    def open(self) -> None:
        """Open the pool (the schema is migrated by ``PgDatabase.open``, which runs first)."""
        if self._pool is not None:
            return
        pool: ConnectionPool[psycopg.Connection[PgRow]] = ConnectionPool(
            self.dsn,
            min_size=self._sizes[0],
            max_size=self._sizes[1],
            open=False,
            kwargs={"autocommit": True, "row_factory": _row_factory, **self._options},
            connection_class=psycopg.Connection[PgRow],
            name="openviking-metadata",
        )
        pool.open(wait=True, timeout=_CONNECT_TIMEOUT_S)
        self._pool = pool

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def _opened(self) -> ConnectionPool[psycopg.Connection[PgRow]]:
        if self._pool is None:
            raise NotInitializedError("Metadata database is not open")
        return self._pool

    def run(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one transaction (synchronously); again after a deadlock or a
        serialization failure, which roll it back."""
        pool = self._opened()
        for attempt in range(_RETRIES):
            try:
                with pool.connection() as conn, conn.transaction():
                    return fn(_PgConnection(conn))
            except _RETRYABLE:
                if attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        def query() -> list[Row]:
            with self._opened().connection() as conn:
                rows: list[Row] = list(_PgConnection(conn).execute(sql, params).fetchall())
                return rows

        return await asyncio.to_thread(query)
