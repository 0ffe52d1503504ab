"""The metadata database: SQLite migrations, and what callers rely on from both backends
(transactions, rows, placeholders, integrity errors)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from openviking_mcp.contract.errors import FailedPreconditionError
from openviking_mcp.storage import MetadataDB
from openviking_mcp.storage.metadata import (
    MIGRATIONS,
    Connection,
    IntegrityError,
    MetadataBackend,
    Row,
)

pytestmark = pytest.mark.anyio


def test_fresh_database_is_at_the_latest_version(tmp_path: Path) -> None:
    db = MetadataDB(tmp_path / "m.sqlite3")
    db.open()
    try:
        assert db.schema_version == len(MIGRATIONS)
        tables = {
            r[0]
            for r in db.run(
                lambda c: c.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
            )
        }
        assert {"accounts", "users"} <= tables
    finally:
        db.close()


def test_migrations_apply_in_order_and_only_once(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    first = MetadataDB(path, ["CREATE TABLE t (x INTEGER)"])
    first.open()
    first.run(lambda c: c.execute("INSERT INTO t VALUES (1)"))
    first.close()
    second = MetadataDB(path, ["CREATE TABLE t (x INTEGER)", "ALTER TABLE t ADD COLUMN y TEXT"])
    second.open()
    try:
        assert second.schema_version == 2
        rows = second.run(lambda c: c.execute("SELECT x, y FROM t").fetchall())
        assert [tuple(r) for r in rows] == [(1, None)]
    finally:
        second.close()


def test_a_failed_migration_rolls_back(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    db = MetadataDB(path, ["CREATE TABLE t (x INTEGER)", "CREATE TABLE u (y); BROKEN SQL"])
    with pytest.raises(sqlite3.OperationalError):
        db.open()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "u" not in names
        assert "t" not in names
    finally:
        conn.close()


def test_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.close()
    with pytest.raises(FailedPreconditionError, match="newer than this version"):
        MetadataDB(path).open()


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = MetadataDB(tmp_path / "m.sqlite3")
    db.open()
    try:

        def failing(conn: Connection) -> None:
            conn.execute("INSERT INTO accounts VALUES ('a', 'now')")
            raise RuntimeError("abort")

        with pytest.raises(RuntimeError):
            db.run(failing)
        assert db.run(lambda c: c.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]) == 0
    finally:
        db.close()


# -- both backends ---------------------------------------------------------------------------


async def test_a_failed_transaction_leaves_nothing(db: MetadataBackend) -> None:
    def failing(conn: Connection) -> None:
        conn.execute("INSERT INTO accounts VALUES ('a', 'now')")
        raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        await db.transaction(failing)
    assert await db.fetchall("SELECT * FROM accounts") == []
    await db.transaction(lambda c: c.execute("INSERT INTO accounts VALUES ('a', 'now')"))
    assert [r["account_id"] for r in await db.fetchall("SELECT * FROM accounts")] == ["a"]


async def test_rows_read_by_position_name_and_as_mappings(db: MetadataBackend) -> None:
    await db.transaction(lambda c: c.execute("INSERT INTO accounts VALUES (?, ?)", ("a", "t0")))
    row = await db.fetchone(
        "SELECT account_id, created_at, COUNT(*) AS n FROM accounts GROUP BY account_id"
    )
    assert row is not None
    assert (row[0], row["created_at"], row["N"], row["n"]) == ("a", "t0", 1, 1)
    assert row.keys() == ["account_id", "created_at", "n"]
    assert dict(row) == {"account_id": "a", "created_at": "t0", "n": 1}
    assert tuple(row) == ("a", "t0", 1)
    with pytest.raises(IndexError):
        row["missing"]
    assert await db.fetchone("SELECT * FROM accounts WHERE account_id = ?", ("b",)) is None


async def test_placeholders_percent_signs_and_question_marks_in_literals(
    db: MetadataBackend,
) -> None:
    def write(conn: Connection) -> int:
        conn.execute("INSERT INTO accounts VALUES (?, '50% ?')", ("a",))
        return conn.execute(
            "UPDATE accounts SET created_at = created_at || ? WHERE created_at LIKE '50%'",
            ("!",),
        ).rowcount

    assert await db.transaction(write) == 1
    rows = await db.fetchall("SELECT created_at FROM accounts WHERE account_id LIKE 'a%'")
    assert [r[0] for r in rows] == ["50% ?!"]


async def test_executemany_and_rowcount(db: MetadataBackend) -> None:
    def write(conn: Connection) -> int:
        conn.executemany("INSERT INTO accounts VALUES (?, ?)", [(f"a{i}", "t") for i in range(5)])
        return conn.execute(
            "DELETE FROM accounts WHERE account_id IN (?, ?)", ("a1", "a3")
        ).rowcount

    assert await db.transaction(write) == 2
    rows: list[Row] = await db.fetchall("SELECT account_id FROM accounts ORDER BY account_id")
    assert [r[0] for r in rows] == ["a0", "a2", "a4"]


async def test_unique_and_foreign_key_violations_raise_integrity_error(
    db: MetadataBackend,
) -> None:
    await db.transaction(lambda c: c.execute("INSERT INTO accounts VALUES ('a', 't')"))
    with pytest.raises(IntegrityError):
        await db.transaction(lambda c: c.execute("INSERT INTO accounts VALUES ('a', 't')"))
    with pytest.raises(IntegrityError):
        await db.transaction(
            lambda c: c.execute(
                "INSERT INTO users(account_id, user_id, role, created_at) "
                "VALUES ('nobody', 'u', 'user', 't')"
            )
        )
    assert len(await db.fetchall("SELECT * FROM accounts")) == 1


async def test_text_keys_sort_bytewise(db: MetadataBackend) -> None:
    """``ORDER BY`` on identifiers is the same on both backends (SQLite's byte order)."""
    names = ["b", "B", "a-1", "a_1", "a", "Z", "é"]
    await db.transaction(
        lambda c: c.executemany("INSERT INTO accounts VALUES (?, 't')", [(n,) for n in names])
    )
    rows = await db.fetchall("SELECT account_id FROM accounts ORDER BY account_id")
    assert [r[0] for r in rows] == sorted(names, key=lambda n: n.encode())


async def test_the_schema_is_at_the_latest_version(db: MetadataBackend) -> None:
    await db.ping()
    if db.dialect == "sqlite":
        assert db.schema_version == len(MIGRATIONS)
    else:
        from openviking_mcp.storage.postgres._schema import MIGRATIONS as PG_MIGRATIONS

        assert db.dialect == "postgres"
        assert db.schema_version == len(PG_MIGRATIONS)
