from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from openviking_mcp.contract.errors import FailedPreconditionError
from openviking_mcp.storage import MetadataDB
from openviking_mcp.storage.metadata import MIGRATIONS


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

        def failing(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO accounts VALUES ('a', 'now')")
            raise RuntimeError("abort")

        with pytest.raises(RuntimeError):
            db.run(failing)
        assert db.run(lambda c: c.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]) == 0
    finally:
        db.close()
