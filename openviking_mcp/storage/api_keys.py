"""Users' named API keys in the metadata database (table ``api_keys``, both backends).

A named key's secret carries its id (:func:`openviking_mcp.contract.identity.named_key_id`), so
resolving it is one indexed read of its row joined to its user. Only a salted scrypt hash of the
secret is stored; a verified key is remembered by its SHA-256 with the digest it matched, and
each use still reads the row, so revocation, expiry and a deleted user take effect at once.
``last_used_at`` is written at most once per :data:`LAST_USED_EVERY` seconds per key.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from openviking_mcp.contract.errors import AlreadyExistsError, NotFoundError, UnauthenticatedError
from openviking_mcp.contract.identity import (
    KeyHash,
    ParsedKey,
    RequestContext,
    Role,
    generate_named_key,
    hash_secret,
    verify_secret,
)
from openviking_mcp.storage.metadata import Connection, IntegrityError, MetadataBackend

__all__ = ["LAST_USED_EVERY", "ApiKeyRecord", "ApiKeyStore"]

#: Seconds between two writes of a key's ``last_used_at``.
LAST_USED_EVERY = 60.0

_COLUMNS = (
    "key_id, account_id, user_id, name, scopes, uri_prefix, expires_at, created_at, "
    "last_used_at, key_prefix"
)


def _now() -> datetime:
    return datetime.now(UTC)


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """A named key as stored, without its hash."""

    key_id: str
    account_id: str
    user_id: str
    name: str
    scopes: tuple[str, ...]
    uri_prefix: str | None
    expires_at: str | None
    created_at: str
    last_used_at: str | None
    key_prefix: str

    @classmethod
    def from_row(cls, row: Any) -> ApiKeyRecord:
        return cls(
            row["key_id"],
            row["account_id"],
            row["user_id"],
            row["name"],
            tuple(s for s in row["scopes"].split(",") if s),
            row["uri_prefix"],
            row["expires_at"],
            row["created_at"],
            row["last_used_at"],
            row["key_prefix"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "account_id": self.account_id,
            "user_id": self.user_id,
            "name": self.name,
            "scopes": list(self.scopes),
            "uri_prefix": self.uri_prefix,
            "expires_at": self.expires_at,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
            "key_prefix": self.key_prefix,
        }


class ApiKeyStore:
    """Create, list, revoke and resolve named keys."""

    def __init__(self, db: MetadataBackend) -> None:
        self._db = db
        self._verified: dict[str, str] = {}  # sha256(key) -> the digest it matched

    async def create(
        self,
        account_id: str,
        user_id: str,
        name: str,
        scopes: tuple[str, ...],
        uri_prefix: str | None,
        expires_at: datetime | None,
    ) -> tuple[str, ApiKeyRecord]:
        """Store a new key; returns ``(full_key, record)``. The caller has checked the fields."""
        key, key_id, secret = generate_named_key(account_id, user_id)
        hashed = await asyncio.to_thread(hash_secret, secret)
        expires = expires_at.astimezone(UTC).isoformat() if expires_at else None
        values = (
            key_id,
            account_id,
            user_id,
            name,
            ",".join(scopes),
            uri_prefix,
            expires,
            _now().isoformat(),
            None,
            hashed.salt,
            hashed.digest,
            secret[: len("ak_") + len(key_id)],
        )

        def insert(conn: Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO api_keys(key_id, account_id, user_id, name, scopes, uri_prefix, "
                    "expires_at, created_at, last_used_at, key_salt, key_digest, key_prefix) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    values,
                )
            except IntegrityError as exc:
                raise AlreadyExistsError(f"{account_id}/{user_id}/{name}", "api key") from exc

        await self._db.transaction(insert)
        record = await self.get(account_id, user_id, key_id)
        return key, record

    async def get(self, account_id: str, user_id: str, key_id: str) -> ApiKeyRecord:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM api_keys WHERE key_id=? AND account_id=? AND user_id=?",
            (key_id, account_id, user_id),
        )
        if row is None:
            raise NotFoundError(key_id, "api key")
        return ApiKeyRecord.from_row(row)

    async def list_keys(self, account_id: str, user_id: str) -> list[ApiKeyRecord]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM api_keys WHERE account_id=? AND user_id=? "
            "ORDER BY created_at, key_id",
            (account_id, user_id),
        )
        return [ApiKeyRecord.from_row(r) for r in rows]

    async def revoke(self, account_id: str, user_id: str, key_id: str) -> None:
        def delete(conn: Connection) -> int:
            return conn.execute(
                "DELETE FROM api_keys WHERE key_id=? AND account_id=? AND user_id=?",
                (key_id, account_id, user_id),
            ).rowcount

        if not await self._db.transaction(delete):
            raise NotFoundError(key_id, "api key")

    async def resolve(self, key: str, parsed: ParsedKey, key_id: str) -> RequestContext:
        """The identity of a named key; :class:`UnauthenticatedError` when unknown, revoked,
        wrong or expired."""
        row = await self._db.fetchone(
            "SELECT k.key_salt, k.key_digest, k.key_prefix, k.scopes, k.uri_prefix, "
            "k.expires_at, k.last_used_at, u.role FROM api_keys k JOIN users u "
            "ON u.account_id = k.account_id AND u.user_id = k.user_id "
            "WHERE k.key_id=? AND k.account_id=? AND k.user_id=?",
            (key_id, parsed.account_id, parsed.user_id),
        )
        if row is None:
            raise UnauthenticatedError("Invalid API Key")
        fingerprint = hashlib.sha256(key.encode("utf-8")).hexdigest()
        cached = self._verified.get(fingerprint)
        if not (cached and hmac.compare_digest(cached, row["key_digest"])):
            stored = KeyHash(row["key_salt"], row["key_digest"], row["key_prefix"])
            if not await asyncio.to_thread(verify_secret, parsed.secret, stored):
                raise UnauthenticatedError("Invalid API Key")
            self._verified[fingerprint] = row["key_digest"]
        now = _now()
        expires = _parse_time(row["expires_at"])
        if expires is not None and expires <= now:
            raise UnauthenticatedError("API key expired", {"key_id": key_id})
        last = _parse_time(row["last_used_at"])
        if last is None or now - last >= timedelta(seconds=LAST_USED_EVERY):
            await self._touch(key_id, now)
        return RequestContext(
            parsed.account_id,
            parsed.user_id,
            Role(row["role"]),
            scopes=frozenset(s for s in row["scopes"].split(",") if s),
            uri_prefix=row["uri_prefix"],
            key_id=key_id,
        )

    async def _touch(self, key_id: str, now: datetime) -> None:
        def update(conn: Connection) -> None:
            conn.execute(
                "UPDATE api_keys SET last_used_at=? WHERE key_id=?", (now.isoformat(), key_id)
            )

        await self._db.transaction(update)
