"""User groups of an account and their members, kept in the metadata database.

A group belongs to one account and holds users of that account. Deleting the account removes
its groups, and deleting a user removes their memberships (the tables cascade). Groups do not
grant or restrict access to anything: nothing reads them but the admin API.
"""

from __future__ import annotations

from datetime import UTC, datetime

from openviking_mcp.contract.errors import AlreadyExistsError, NotFoundError
from openviking_mcp.storage.metadata import Connection, IntegrityError, MetadataBackend

__all__ = ["GroupStore"]


def _require_account(conn: Connection, account_id: str) -> None:
    if conn.execute("SELECT 1 FROM accounts WHERE account_id=?", (account_id,)).fetchone() is None:
        raise NotFoundError(account_id, "account")


def _require_group(conn: Connection, account_id: str, group_id: str) -> None:
    _require_account(conn, account_id)
    found = conn.execute(
        "SELECT 1 FROM user_groups WHERE account_id=? AND group_id=?", (account_id, group_id)
    ).fetchone()
    if found is None:
        raise NotFoundError(group_id, "group")


def _require_user(conn: Connection, account_id: str, user_id: str) -> None:
    found = conn.execute(
        "SELECT 1 FROM users WHERE account_id=? AND user_id=?", (account_id, user_id)
    ).fetchone()
    if found is None:
        raise NotFoundError(user_id, "user")


class GroupStore:
    """The groups of each account; every call checks that the account exists."""

    def __init__(self, db: MetadataBackend) -> None:
        self._db = db

    async def create_group(self, account_id: str, group_id: str) -> None:
        """A new, empty group; :class:`AlreadyExistsError` if the account has one so named."""

        def insert(conn: Connection) -> None:
            _require_account(conn, account_id)
            try:
                conn.execute(
                    "INSERT INTO user_groups(account_id, group_id, created_at) VALUES (?, ?, ?)",
                    (account_id, group_id, datetime.now(UTC).isoformat()),
                )
            except IntegrityError as exc:
                raise AlreadyExistsError(group_id, "group") from exc

        await self._db.transaction(insert)

    async def list_groups(self, account_id: str) -> list[tuple[str, int]]:
        """``(group_id, member_count)`` of each group of the account, by id."""

        def select(conn: Connection) -> list[tuple[str, int]]:
            _require_account(conn, account_id)
            rows = conn.execute(
                "SELECT g.group_id, COUNT(m.user_id) FROM user_groups g "
                "LEFT JOIN group_members m "
                "ON m.account_id = g.account_id AND m.group_id = g.group_id "
                "WHERE g.account_id=? GROUP BY g.group_id ORDER BY g.group_id",
                (account_id,),
            ).fetchall()
            return [(str(r[0]), int(r[1])) for r in rows]

        return await self._db.transaction(select)

    async def delete_group(self, account_id: str, group_id: str) -> None:
        """Remove a group with its memberships; :class:`NotFoundError` if there is none."""

        def delete(conn: Connection) -> None:
            _require_group(conn, account_id, group_id)
            conn.execute(
                "DELETE FROM user_groups WHERE account_id=? AND group_id=?",
                (account_id, group_id),
            )

        await self._db.transaction(delete)

    async def members(self, account_id: str, group_id: str) -> list[str]:
        """The user ids in a group, sorted."""

        def select(conn: Connection) -> list[str]:
            _require_group(conn, account_id, group_id)
            rows = conn.execute(
                "SELECT user_id FROM group_members WHERE account_id=? AND group_id=? "
                "ORDER BY user_id",
                (account_id, group_id),
            ).fetchall()
            return [str(r[0]) for r in rows]

        return await self._db.transaction(select)

    async def add_member(self, account_id: str, group_id: str, user_id: str) -> None:
        """Put a user of the account into a group (nothing happens if already there)."""

        def insert(conn: Connection) -> None:
            _require_group(conn, account_id, group_id)
            _require_user(conn, account_id, user_id)
            conn.execute(
                "INSERT INTO group_members(account_id, group_id, user_id) "
                "VALUES (?, ?, ?) ON CONFLICT (account_id, group_id, user_id) DO NOTHING",
                (account_id, group_id, user_id),
            )

        await self._db.transaction(insert)

    async def remove_member(self, account_id: str, group_id: str, user_id: str) -> bool:
        """Take a user out of a group; ``False`` if they were not in it."""

        def delete(conn: Connection) -> bool:
            _require_group(conn, account_id, group_id)
            removed = conn.execute(
                "DELETE FROM group_members WHERE account_id=? AND group_id=? AND user_id=?",
                (account_id, group_id, user_id),
            ).rowcount
            return removed > 0

        return await self._db.transaction(delete)
