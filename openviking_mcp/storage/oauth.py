"""The OAuth authorization server's records in the metadata database (both backends).

Three tables (SQLite migration 14, :mod:`openviking_mcp.storage.postgres._schema_oauth`):
``oauth_clients`` (dynamically registered clients), ``oauth_grants`` (pending approval
requests and authorization codes, both short-lived and single use) and ``oauth_tokens``
(access and refresh tokens). Secrets are never stored: client secrets, request ids, codes and
tokens are kept as their SHA-256 (:func:`secret_hash`). They are 256-bit random strings, so a
fast hash is enough (a slow salted hash protects guessable secrets) and it gives an indexed
lookup. Each approval starts a token ``family``: a refresh replaces the family's tokens, and
revoking one token revokes its family.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openviking_mcp.storage.metadata import Connection, MetadataBackend

__all__ = ["GrantKind", "OAuthStore", "TokenRecord", "TokenRow", "secret_hash"]

#: ``request`` (waiting for the user's approval) or ``code`` (an authorization code).
GrantKind = str


def secret_hash(secret: str) -> str:
    """The stored form of a random secret: its SHA-256, hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """One token to store (the caller hashed it)."""

    token_hash: str
    kind: str
    family_id: str
    client_id: str
    account_id: str
    user_id: str
    key_id: str | None
    key_digest: str | None
    scopes: tuple[str, ...]
    uri_prefix: str | None
    resource: str | None
    expires_at: float


@dataclass(frozen=True, slots=True)
class TokenRow:
    """A stored token with what its approval still depends on: the user's role and main key
    digest now, and whether the named key that approved it still exists (and until when)."""

    record: TokenRecord
    role: str
    user_digest: str | None
    key_alive: bool
    key_expires_at: str | None


_TOKEN_SELECT = (
    "SELECT t.token_hash, t.kind, t.family_id, t.client_id, t.account_id, t.user_id, "
    "t.key_id, t.key_digest, t.scopes, t.uri_prefix, t.resource, t.expires_at, u.role, "
    "u.key_digest AS user_digest, k.key_id AS live_key, k.expires_at AS key_expires "
    "FROM oauth_tokens t JOIN users u ON u.account_id = t.account_id "
    "AND u.user_id = t.user_id LEFT JOIN api_keys k ON k.key_id = t.key_id "
    "WHERE t.token_hash=? AND t.kind=?"
)


def _token_row(row: Any) -> TokenRow:
    record = TokenRecord(
        row["token_hash"],
        row["kind"],
        row["family_id"],
        row["client_id"],
        row["account_id"],
        row["user_id"],
        row["key_id"],
        row["key_digest"],
        tuple(s for s in row["scopes"].split(" ") if s),
        row["uri_prefix"],
        row["resource"],
        float(row["expires_at"]),
    )
    return TokenRow(
        record, row["role"], row["user_digest"], row["live_key"] is not None, row["key_expires"]
    )


class OAuthStore:
    """Clients, grants and tokens of the authorization server."""

    def __init__(self, db: MetadataBackend) -> None:
        self._db = db

    # -- clients -----------------------------------------------------------------------------

    async def save_client(self, client_id: str, secret_digest: str | None, metadata: str) -> None:
        def insert(conn: Connection) -> None:
            conn.execute(
                "INSERT INTO oauth_clients(client_id, secret_hash, metadata, created_at) "
                "VALUES (?, ?, ?, ?)",
                (client_id, secret_digest, metadata, time.time()),
            )

        await self._db.transaction(insert)

    async def get_client(self, client_id: str) -> tuple[str, str | None] | None:
        """``(metadata JSON, secret hash)`` of a registered client, or ``None``."""
        row = await self._db.fetchone(
            "SELECT metadata, secret_hash FROM oauth_clients WHERE client_id=?", (client_id,)
        )
        return None if row is None else (row["metadata"], row["secret_hash"])

    # -- approval requests and authorization codes ---------------------------------------------

    async def save_grant(
        self, kind: GrantKind, grant_hash: str, client_id: str, payload: str, expires_at: float
    ) -> None:
        now = time.time()

        def insert(conn: Connection) -> None:
            conn.execute("DELETE FROM oauth_grants WHERE expires_at < ?", (now,))
            conn.execute(
                "INSERT INTO oauth_grants(grant_hash, kind, client_id, payload, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (grant_hash, kind, client_id, payload, expires_at),
            )

        await self._db.transaction(insert)

    async def get_grant(self, kind: GrantKind, grant_hash: str) -> tuple[str, str, float] | None:
        """``(client_id, payload, expires_at)`` of a live grant, or ``None``."""
        row = await self._db.fetchone(
            "SELECT client_id, payload, expires_at FROM oauth_grants "
            "WHERE grant_hash=? AND kind=? AND expires_at >= ?",
            (grant_hash, kind, time.time()),
        )
        return None if row is None else (row["client_id"], row["payload"], float(row["expires_at"]))

    async def take_grant(self, kind: GrantKind, grant_hash: str) -> bool:
        """Remove a grant; ``False`` when it was already gone (used once, or never existed)."""

        def delete(conn: Connection) -> int:
            return conn.execute(
                "DELETE FROM oauth_grants WHERE grant_hash=? AND kind=?", (grant_hash, kind)
            ).rowcount

        return bool(await self._db.transaction(delete))

    async def user_key_digest(self, account_id: str, user_id: str) -> str | None:
        """The digest of a user's main key now (a token approved with it dies when it changes)."""
        row = await self._db.fetchone(
            "SELECT key_digest FROM users WHERE account_id=? AND user_id=?", (account_id, user_id)
        )
        return None if row is None else row["key_digest"]

    # -- tokens ------------------------------------------------------------------------------

    async def issue(
        self,
        records: Sequence[TokenRecord],
        *,
        code_hash: str | None = None,
        replaces: str | None = None,
    ) -> bool:
        """Store ``records`` in one transaction that also consumes the authorization code
        ``code_hash`` or the refresh token ``replaces`` (with its family's other tokens).
        ``False`` (nothing stored) when that code or token was already used."""
        now = time.time()

        def write(conn: Connection) -> bool:
            if (
                code_hash is not None
                and not conn.execute(
                    "DELETE FROM oauth_grants WHERE grant_hash=? AND kind='code'", (code_hash,)
                ).rowcount
            ):
                return False
            if replaces is not None:
                row = conn.execute(
                    "SELECT family_id FROM oauth_tokens WHERE token_hash=? AND kind='refresh'",
                    (replaces,),
                ).fetchone()
                if row is None:
                    return False
                conn.execute("DELETE FROM oauth_tokens WHERE family_id=?", (row["family_id"],))
            conn.execute("DELETE FROM oauth_tokens WHERE expires_at < ?", (now,))
            conn.executemany(
                "INSERT INTO oauth_tokens(token_hash, kind, family_id, client_id, account_id, "
                "user_id, key_id, key_digest, scopes, uri_prefix, resource, expires_at, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.token_hash,
                        r.kind,
                        r.family_id,
                        r.client_id,
                        r.account_id,
                        r.user_id,
                        r.key_id,
                        r.key_digest,
                        " ".join(r.scopes),
                        r.uri_prefix,
                        r.resource,
                        r.expires_at,
                        now,
                    )
                    for r in records
                ],
            )
            return True

        return bool(await self._db.transaction(write))

    async def token(self, token_hash: str, kind: str) -> TokenRow | None:
        """A live (unexpired) token with its approval's current state, or ``None``."""
        row = await self._db.fetchone(_TOKEN_SELECT, (token_hash, kind))
        if row is None or float(row["expires_at"]) < time.time():
            return None
        return _token_row(row)

    async def revoke_family(self, family_id: str) -> None:
        def delete(conn: Connection) -> None:
            conn.execute("DELETE FROM oauth_tokens WHERE family_id=?", (family_id,))

        await self._db.transaction(delete)
