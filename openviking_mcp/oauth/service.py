"""The OAuth service: approval of a client with an API key, codes, tokens, and the identity a
token carries.

An access token stands for the API key that approved it: the same account, user and role,
the key's scopes intersected with the scopes granted, and a named key's URI prefix. It never
outlives that key: its expiry is capped at the key's, and every use checks that the named key
still exists (or that the user's main key is still the one that approved it), so revoking or
rotating the key ends its tokens at once. ROOT's key cannot approve a client (ROOT has no
tenant data). The HTTP protocol (RFC 6749/7591/7009 and PKCE) is the MCP SDK's, driven by
:mod:`openviking_mcp.oauth.provider`; this module holds no HTTP and loads no SDK.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openviking_mcp._config_oauth import OAuthConfig
from openviking_mcp.contract.errors import (
    FailedPreconditionError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.storage.oauth import OAuthStore, TokenRecord, TokenRow, secret_hash
from openviking_mcp.store import Store

__all__ = [
    "ACCESS_PREFIX",
    "OAUTH_SCOPES",
    "REFRESH_PREFIX",
    "Grant",
    "IssuedTokens",
    "OAuthService",
    "is_access_token",
]

#: The scopes a client may ask for: those of the API keys.
OAUTH_SCOPES: tuple[str, ...] = ("read", "write", "admin")
#: Access tokens start with this (API keys never do: theirs is base64 of an identifier).
ACCESS_PREFIX = "ovat_"
REFRESH_PREFIX = "ovrt_"

KeyResolver = Callable[[str], Awaitable[RequestContext]]


def is_access_token(value: str | None) -> bool:
    """Whether a bearer credential is one of our access tokens (not an API key)."""
    return bool(value) and str(value).startswith(ACCESS_PREFIX)


@dataclass(frozen=True, slots=True)
class Grant:
    """An approved authorization: who approved it, with which key, for what."""

    account_id: str
    user_id: str
    key_id: str | None
    key_digest: str | None
    scopes: tuple[str, ...]
    uri_prefix: str | None
    key_expires_at: float | None
    resource: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "user_id": self.user_id,
            "key_id": self.key_id,
            "key_digest": self.key_digest,
            "scopes": list(self.scopes),
            "uri_prefix": self.uri_prefix,
            "key_expires_at": self.key_expires_at,
            "resource": self.resource,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Grant:
        return cls(
            data["account_id"],
            data["user_id"],
            data.get("key_id"),
            data.get("key_digest"),
            tuple(data.get("scopes") or ()),
            data.get("uri_prefix"),
            data.get("key_expires_at"),
            data.get("resource"),
        )


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """A new access token and refresh token, in clear (returned once, stored hashed)."""

    access_token: str
    refresh_token: str
    expires_in: int
    scopes: tuple[str, ...]


def _expiry(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.fromisoformat(text).timestamp()


class OAuthService:
    """See the module docs. ``resolve_key`` is the auth service's API-key resolver."""

    def __init__(self, store: Store, config: OAuthConfig, resolve_key: KeyResolver) -> None:
        self._store = store
        self.config = config
        self._resolve_key = resolve_key
        self._db: OAuthStore | None = None

    @property
    def db(self) -> OAuthStore:
        if self._db is None:
            self._db = OAuthStore(self._store.db)
        return self._db

    @property
    def active(self) -> bool:
        """Whether tokens are issued and accepted: enabled, in ``api_key`` or ``dev`` mode."""
        mode = self._store.config.server.effective_auth_mode
        return self.config.enabled and mode in ("api_key", "dev")

    # -- clients and approval requests --------------------------------------------------------

    async def register_client(self, client_id: str, secret: str | None, metadata: str) -> None:
        await self.db.save_client(client_id, secret_hash(secret) if secret else None, metadata)

    async def client(self, client_id: str) -> tuple[str, str | None] | None:
        """``(metadata JSON, secret hash)`` of a registered client."""
        return await self.db.get_client(client_id)

    async def start_request(self, client_id: str, params: dict[str, Any]) -> str:
        """Remember an authorization request until the user approves it; its id (for the
        approval page's URL)."""
        request_id = secrets.token_urlsafe(32)
        expires = time.time() + self.config.request_ttl_seconds
        payload = json.dumps(params)
        await self.db.save_grant("request", secret_hash(request_id), client_id, payload, expires)
        return request_id

    async def pending(self, request_id: str) -> tuple[str, dict[str, Any]] | None:
        """``(client_id, params)`` of an authorization request still waiting for approval."""
        found = await self.db.get_grant("request", secret_hash(request_id))
        return None if found is None else (found[0], json.loads(found[1]))

    async def deny(self, request_id: str) -> dict[str, Any] | None:
        """Drop a pending request; its params (``None`` when it was gone)."""
        found = await self.pending(request_id)
        await self.db.take_grant("request", secret_hash(request_id))
        return None if found is None else found[1]

    async def approve(self, request_id: str, api_key: str) -> tuple[dict[str, Any], str]:
        """Approve a pending request with the user's API key: ``(params, authorization code)``.

        :class:`UnauthenticatedError` for a wrong key (the request stays pending),
        :class:`PermissionDeniedError` for ROOT or when the key has none of the requested
        scopes, :class:`FailedPreconditionError` when the request expired or was used."""
        found = await self.pending(request_id)
        if found is None:
            raise FailedPreconditionError("This authorization request expired or was used")
        client_id, params = found
        ctx = await self._resolve_key(api_key)
        grant = await self._grant(ctx, params)
        if not await self.db.take_grant("request", secret_hash(request_id)):
            raise FailedPreconditionError("This authorization request expired or was used")
        code = secrets.token_urlsafe(32)
        expires = time.time() + self.config.code_ttl_seconds
        if grant.key_expires_at is not None:
            expires = min(expires, grant.key_expires_at)
        payload = json.dumps({**params, "grant": grant.to_json(), "expires_at": expires})
        await self.db.save_grant("code", secret_hash(code), client_id, payload, expires)
        return params, code

    async def _grant(self, ctx: RequestContext, params: dict[str, Any]) -> Grant:
        if ctx.is_root:
            raise PermissionDeniedError(
                "The root key cannot approve a client: use a user's key (main or named)"
            )
        requested = tuple(params.get("scopes") or OAUTH_SCOPES)
        scopes = tuple(s for s in OAUTH_SCOPES if s in requested and ctx.has_scope(s))
        if not scopes:
            raise PermissionDeniedError(
                f"This key has none of the requested scopes ({' '.join(requested)})",
                {"reason": "missing_scope"},
            )
        key_expires = None
        digest = None
        if ctx.key_id is not None:
            record = await self._store.accounts.keys.get(ctx.account_id, ctx.user_id, ctx.key_id)
            key_expires = _expiry(record.expires_at)
        else:
            digest = await self.db.user_key_digest(ctx.account_id, ctx.user_id)
        return Grant(
            ctx.account_id,
            ctx.user_id,
            ctx.key_id,
            digest,
            scopes,
            ctx.uri_prefix,
            key_expires,
            params.get("resource"),
        )

    # -- codes and tokens ----------------------------------------------------------------------

    async def load_code(self, code: str) -> tuple[str, dict[str, Any]] | None:
        """``(client_id, payload)`` of an unused authorization code."""
        found = await self.db.get_grant("code", secret_hash(code))
        return None if found is None else (found[0], json.loads(found[1]))

    async def exchange_code(self, client_id: str, code: str, grant: Grant) -> IssuedTokens | None:
        """Tokens for an authorization code, consumed in the same transaction; ``None`` when
        the code was already used."""
        return await self._issue(client_id, grant, code_hash=secret_hash(code))

    async def load_token(self, token: str, kind: str) -> TokenRow | None:
        """A live token whose approving key is still valid, or ``None``."""
        row = await self.db.token(secret_hash(token), kind)
        return row if row is not None and _still_approved(row) else None

    async def refresh(
        self, client_id: str, refresh_token: str, row: TokenRow, scopes: tuple[str, ...]
    ) -> IssuedTokens | None:
        """New tokens for a refresh token, which is replaced (with its family's access
        tokens); ``None`` when it was already used."""
        rec = row.record
        grant = Grant(
            rec.account_id,
            rec.user_id,
            rec.key_id,
            rec.key_digest,
            tuple(s for s in rec.scopes if s in scopes),
            rec.uri_prefix,
            _expiry(row.key_expires_at),
            rec.resource,
        )
        return await self._issue(
            client_id, grant, replaces=secret_hash(refresh_token), family=rec.family_id
        )

    async def _issue(
        self,
        client_id: str,
        grant: Grant,
        *,
        code_hash: str | None = None,
        replaces: str | None = None,
        family: str | None = None,
    ) -> IssuedTokens | None:
        now = time.time()
        cap = grant.key_expires_at if grant.key_expires_at is not None else float("inf")
        access_until = min(now + self.config.access_token_ttl_seconds, cap)
        refresh_until = min(now + self.config.refresh_token_ttl_seconds, cap)
        access = ACCESS_PREFIX + secrets.token_urlsafe(32)
        refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
        family = family or secrets.token_hex(16)
        records = [
            TokenRecord(
                secret_hash(token),
                kind,
                family,
                client_id,
                grant.account_id,
                grant.user_id,
                grant.key_id,
                grant.key_digest,
                grant.scopes,
                grant.uri_prefix,
                grant.resource,
                until,
            )
            for token, kind, until in (
                (access, "access", access_until),
                (refresh, "refresh", refresh_until),
            )
        ]
        if not await self.db.issue(records, code_hash=code_hash, replaces=replaces):
            return None
        return IssuedTokens(access, refresh, max(0, int(access_until - now)), grant.scopes)

    async def revoke(self, row: TokenRow) -> None:
        """Revoke a token and every token of its approval."""
        await self.db.revoke_family(row.record.family_id)

    # -- callers -------------------------------------------------------------------------------

    async def resolve(self, token: str) -> RequestContext:
        """The caller an access token stands for, or :class:`UnauthenticatedError`."""
        self._store.require_open()
        row = await self.load_token(token, "access") if self.active else None
        if row is None:
            raise UnauthenticatedError("Invalid or expired access token")
        rec = row.record
        return RequestContext(
            rec.account_id,
            rec.user_id,
            Role(row.role),
            scopes=frozenset(rec.scopes),
            uri_prefix=rec.uri_prefix,
            key_id=rec.key_id,
            oauth_token=True,
        )


def _still_approved(row: TokenRow) -> bool:
    """Whether the key that approved a token is still valid (exists, not expired, not
    rotated)."""
    rec = row.record
    if rec.key_id is not None:
        expires = _expiry(row.key_expires_at)
        return row.key_alive and (expires is None or expires > time.time())
    stored, current = rec.key_digest or "", row.user_digest or ""
    return bool(stored) and hmac.compare_digest(stored.encode(), current.encode())
