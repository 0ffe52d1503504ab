"""The key store: accounts, their users, roles and API keys, kept in the metadata database.

Only salted scrypt hashes of key secrets are stored. A verified key is cached in memory by its
SHA-256, and each cache hit is re-checked against the stored digest (a cheap indexed read), so a
key regenerated or a user deleted by another process stops working at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from openviking_mcp.contract.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from openviking_mcp.contract.identity import (
    KeyHash,
    RequestContext,
    Role,
    generate_key,
    hash_secret,
    named_key_id,
    parse_key,
    validate_identifier,
    verify_secret,
)
from openviking_mcp.storage.api_keys import ApiKeyStore
from openviking_mcp.storage.groups import GroupStore
from openviking_mcp.storage.metadata import Connection, IntegrityError, MetadataBackend

__all__ = ["AccountStore", "UserRecord"]


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class UserRecord:
    account_id: str
    user_id: str
    role: Role
    key_prefix: str | None
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "user_id": self.user_id,
            "role": self.role.value,
            "key_prefix": self.key_prefix,
            "created_at": self.created_at,
        }


def _account_role(value: str | Role) -> Role:
    try:
        role = Role(value)
    except ValueError as exc:
        raise InvalidArgumentError(
            f"Invalid role: {value!r}; must be 'admin' or 'user'", {"role": str(value)}
        ) from exc
    if role is Role.ROOT:
        raise PermissionDeniedError("The root role cannot be assigned to an account user")
    return role


class AccountStore:
    """Accounts and users; ``groups`` holds the accounts' user groups, ``keys`` the users'
    named API keys."""

    def __init__(self, db: MetadataBackend) -> None:
        self._db = db
        self.groups = GroupStore(db)
        self.keys = ApiKeyStore(db)
        self._verified: dict[str, tuple[str, str, str]] = {}  # sha256(key) -> (acct, user, digest)

    # -- accounts --------------------------------------------------------------------------

    async def ensure_account(self, account_id: str) -> bool:
        """Create the account if missing; True when it was created."""
        validate_identifier(account_id, "account_id")

        def ensure(conn: Connection) -> bool:
            cur = conn.execute(
                "INSERT INTO accounts(account_id, created_at) VALUES (?, ?) "
                "ON CONFLICT (account_id) DO NOTHING",
                (account_id, _now()),
            )
            return cur.rowcount > 0

        return await self._db.transaction(ensure)

    async def create_account(self, account_id: str) -> None:
        if not await self.ensure_account(account_id):
            raise AlreadyExistsError(account_id, "account")

    async def account_exists(self, account_id: str) -> bool:
        row = await self._db.fetchone("SELECT 1 FROM accounts WHERE account_id=?", (account_id,))
        return row is not None

    async def list_accounts(self) -> list[dict[str, Any]]:
        rows = await self._db.fetchall(
            "SELECT a.account_id, a.created_at, COUNT(u.user_id) AS user_count "
            "FROM accounts a LEFT JOIN users u ON u.account_id = a.account_id "
            "GROUP BY a.account_id ORDER BY a.account_id"
        )
        return [dict(r) for r in rows]

    async def delete_account(self, account_id: str) -> None:
        def delete(conn: Connection) -> int:
            return conn.execute("DELETE FROM accounts WHERE account_id=?", (account_id,)).rowcount

        if not await self._db.transaction(delete):
            raise NotFoundError(account_id, "account")
        self._forget(account_id)

    # -- users -----------------------------------------------------------------------------

    async def ensure_user(
        self, account_id: str, user_id: str, role: Role | str = Role.USER
    ) -> bool:
        """Create a key-less user if missing (dev mode and the embedded client); True if created."""
        validate_identifier(user_id, "user_id")
        role = _account_role(role)
        await self.ensure_account(account_id)

        def ensure(conn: Connection) -> bool:
            cur = conn.execute(
                "INSERT INTO users(account_id, user_id, role, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (account_id, user_id) DO NOTHING",
                (account_id, user_id, role.value, _now()),
            )
            return cur.rowcount > 0

        return await self._db.transaction(ensure)

    async def create_user(self, account_id: str, user_id: str, role: Role | str = Role.USER) -> str:
        """Register a user with a fresh key; returns the key (shown once, never stored)."""
        validate_identifier(user_id, "user_id")
        role = _account_role(role)
        if not await self.account_exists(account_id):
            raise NotFoundError(account_id, "account")
        key, secret = generate_key(account_id, user_id)
        hashed = await asyncio.to_thread(hash_secret, secret)

        def insert(conn: Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO users(account_id, user_id, role, key_salt, key_digest, "
                    "key_prefix, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        account_id,
                        user_id,
                        role.value,
                        hashed.salt,
                        hashed.digest,
                        hashed.prefix,
                        _now(),
                    ),
                )
            except IntegrityError as exc:
                raise AlreadyExistsError(f"{account_id}/{user_id}", "user") from exc

        await self._db.transaction(insert)
        return key

    async def get_user(self, account_id: str, user_id: str) -> UserRecord:
        row = await self._db.fetchone(
            "SELECT account_id, user_id, role, key_prefix, created_at FROM users "
            "WHERE account_id=? AND user_id=?",
            (account_id, user_id),
        )
        if row is None:
            raise NotFoundError(f"{account_id}/{user_id}", "user")
        return UserRecord(row[0], row[1], Role(row[2]), row[3], row[4])

    async def list_users(self, account_id: str) -> list[UserRecord]:
        if not await self.account_exists(account_id):
            raise NotFoundError(account_id, "account")
        rows = await self._db.fetchall(
            "SELECT account_id, user_id, role, key_prefix, created_at FROM users "
            "WHERE account_id=? ORDER BY user_id",
            (account_id,),
        )
        return [UserRecord(r[0], r[1], Role(r[2]), r[3], r[4]) for r in rows]

    async def delete_user(self, account_id: str, user_id: str) -> None:
        def delete(conn: Connection) -> int:
            return conn.execute(
                "DELETE FROM users WHERE account_id=? AND user_id=?", (account_id, user_id)
            ).rowcount

        if not await self._db.transaction(delete):
            raise NotFoundError(f"{account_id}/{user_id}", "user")
        self._forget(account_id, user_id)

    async def set_role(self, account_id: str, user_id: str, role: Role | str) -> UserRecord:
        role = _account_role(role)

        def update(conn: Connection) -> int:
            return conn.execute(
                "UPDATE users SET role=? WHERE account_id=? AND user_id=?",
                (role.value, account_id, user_id),
            ).rowcount

        if not await self._db.transaction(update):
            raise NotFoundError(f"{account_id}/{user_id}", "user")
        return await self.get_user(account_id, user_id)

    async def regenerate_key(self, account_id: str, user_id: str) -> str:
        """A new key for the user; the old one stops working immediately."""
        key, secret = generate_key(account_id, user_id)
        hashed = await asyncio.to_thread(hash_secret, secret)

        def update(conn: Connection) -> int:
            return conn.execute(
                "UPDATE users SET key_salt=?, key_digest=?, key_prefix=? "
                "WHERE account_id=? AND user_id=?",
                (hashed.salt, hashed.digest, hashed.prefix, account_id, user_id),
            ).rowcount

        if not await self._db.transaction(update):
            raise NotFoundError(f"{account_id}/{user_id}", "user")
        self._forget(account_id, user_id)
        return key

    # -- key resolution --------------------------------------------------------------------

    async def resolve_key(self, key: str) -> RequestContext:
        """The identity a user key stands for; :class:`UnauthenticatedError` if it is not valid."""
        fingerprint = hashlib.sha256(key.encode("utf-8")).hexdigest()
        parsed = parse_key(key)
        key_id = named_key_id(parsed.secret)
        if key_id is not None:
            return await self.keys.resolve(key, parsed, key_id)
        row = await self._db.fetchone(
            "SELECT role, key_salt, key_digest, key_prefix FROM users "
            "WHERE account_id=? AND user_id=?",
            (parsed.account_id, parsed.user_id),
        )
        if row is None or row["key_digest"] is None:
            raise UnauthenticatedError("Invalid API Key")
        cached = self._verified.get(fingerprint)
        if not (cached and hmac.compare_digest(cached[2], row["key_digest"])):
            stored = KeyHash(row["key_salt"], row["key_digest"], row["key_prefix"] or "")
            if not await asyncio.to_thread(verify_secret, parsed.secret, stored):
                raise UnauthenticatedError("Invalid API Key")
            self._verified[fingerprint] = (parsed.account_id, parsed.user_id, row["key_digest"])
        return RequestContext(parsed.account_id, parsed.user_id, Role(row["role"]))

    def _forget(self, account_id: str, user_id: str | None = None) -> None:
        for fp, (acct, user, _) in list(self._verified.items()):
            if acct == account_id and (user_id is None or user == user_id):
                del self._verified[fp]
