"""The metadata rows a pack does not carry, copied table by table for one account.

Accounts, users (salted key hashes and roles as they are, so users keep their API keys),
user groups and their members, path owners, path tags and the bot's answers. Tasks and
upload tickets stay behind (a migrated account starts with an idle queue). The SQL uses
``?`` placeholders and plain column lists, so it runs on both metadata backends.
"""

from __future__ import annotations

from typing import Any

from openviking_mcp.storage.metadata import Connection, MetadataBackend

__all__ = ["TABLES", "busy_tasks", "copy_rows", "count_rows", "fetch_rows"]

#: Copied in this order (foreign keys: accounts first, members after users and groups).
TABLES = (
    "accounts",
    "users",
    "user_groups",
    "group_members",
    "path_owners",
    "path_tags",
    "chat_responses",
)

Rows = list[tuple[list[str], tuple[Any, ...]]]


async def fetch_rows(db: MetadataBackend, table: str, account_id: str) -> Rows:
    """Every row of ``table`` for ``account_id``: its column names and values."""
    rows = await db.fetchall(f"SELECT * FROM {table} WHERE account_id=?", (account_id,))
    return [(list(row.keys()), tuple(row)) for row in rows]


async def copy_rows(db: MetadataBackend, tables: dict[str, Rows]) -> dict[str, int]:
    """Insert ``tables`` (in :data:`TABLES` order) in one transaction; rows per table."""

    def insert(conn: Connection) -> dict[str, int]:
        counts: dict[str, int] = {}
        for table in TABLES:
            rows = tables.get(table, [])
            counts[table] = len(rows)
            by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
            for names, values in rows:
                by_columns.setdefault(tuple(names), []).append(values)
            for columns, batch in by_columns.items():
                marks = ", ".join("?" for _ in columns)
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                conn.executemany(sql, batch)
        return counts

    return await db.transaction(insert)


async def count_rows(db: MetadataBackend, account_id: str) -> dict[str, int]:
    """Rows per table of :data:`TABLES` for ``account_id``."""
    counts: dict[str, int] = {}
    for table in TABLES:
        row = await db.fetchone(
            f"SELECT COUNT(*) AS n FROM {table} WHERE account_id=?", (account_id,)
        )
        counts[table] = int(row[0]) if row is not None else 0
    return counts


async def busy_tasks(db: MetadataBackend, account_id: str) -> int:
    """The account's pending or running tasks."""
    row = await db.fetchone(
        "SELECT COUNT(*) AS n FROM tasks WHERE account_id=? AND status IN ('pending','running')",
        (account_id,),
    )
    return int(row[0]) if row is not None else 0
