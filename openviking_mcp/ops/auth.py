"""Who is calling: credentials of a request → :class:`RequestContext`, per auth mode.

Every network surface (REST, MCP over HTTP, the bot) collects the same :class:`Credentials`
from its request and calls :meth:`AuthOps.authenticate`, so the modes behave identically:

* ``dev``: no key is checked; the caller is the default user (ADMIN of the default account) or
  the account/user named by the identity headers. Only served on loopback (``serve`` refuses
  otherwise).
* ``api_key``: a key is required. The root key gives ROOT, a user key its user; identity headers
  are ignored (a key cannot be combined with someone else's name).
* ``trusted``: a gateway asserts the identity in headers. With a root key configured every
  request must carry it; without one only loopback clients are trusted.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from openviking_mcp.config import is_loopback_host
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from openviking_mcp.contract.identity import RequestContext, Role, validate_identifier
from openviking_mcp.ops.base import ServiceCore

__all__ = ["AuthOps", "Credentials"]


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a request presented. Empty strings count as absent."""

    api_key: str | None = None
    account_id: str | None = None
    user_id: str | None = None
    role: str | None = None
    actor_peer_id: str | None = None
    client_host: str | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], client_host: str | None) -> Credentials:
        """Collect what an HTTP request presented (``headers`` must be case-insensitive).

        ``X-API-Key`` wins over ``Authorization: Bearer``; ``X-OpenViking-Account``/``-User``/
        ``-Role`` assert an identity (``dev`` and ``trusted`` modes only);
        ``X-OpenViking-Actor-Peer`` is a view filter.
        """
        key = headers.get("x-api-key")
        if not key:
            scheme, _, token = (headers.get("authorization") or "").partition(" ")
            if scheme.lower() == "bearer":
                key = token.strip()
        return cls(
            api_key=key or None,
            account_id=headers.get("x-openviking-account"),
            user_id=headers.get("x-openviking-user"),
            role=headers.get("x-openviking-role"),
            actor_peer_id=headers.get("x-openviking-actor-peer"),
            client_host=client_host,
        )


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


class AuthOps(ServiceCore):
    _known_users: set[tuple[str, str]]

    async def authenticate(self, creds: Credentials) -> RequestContext:
        """The caller's identity, or :class:`UnauthenticatedError` (401) /
        :class:`PermissionDeniedError` (403) / :class:`InvalidArgumentError` (400)."""
        self._require_open()
        mode = self.config.server.effective_auth_mode
        peer = _clean(creds.actor_peer_id)
        if peer is not None:
            validate_identifier(peer, "actor_peer_id")
        if mode == "api_key":
            key = _clean(creds.api_key)
            if key is None:
                raise UnauthenticatedError(
                    "Missing API Key: send it as 'X-API-Key: <key>' or "
                    "'Authorization: Bearer <key>'"
                )
            ctx = await self.resolve_api_key(key)
        elif mode == "trusted":
            ctx = await self._trusted(creds)
        else:
            ctx = await self._dev(creds)
        if peer is not None:
            ctx = RequestContext(ctx.account_id, ctx.user_id, ctx.role, peer)
        return ctx

    async def resolve_api_key(self, key: str) -> RequestContext:
        """The identity behind an API key: the root key gives ROOT, user keys their user."""
        self._require_open()
        if not key or not key.strip():
            raise UnauthenticatedError("Missing API Key")
        root = self.config.server.root_api_key
        if root and hmac.compare_digest(key.strip().encode(), root.encode()):
            return RequestContext.root(self.config.default_account)
        return await self.accounts.resolve_key(key.strip())

    async def _dev(self, creds: Credentials) -> RequestContext:
        account = _clean(creds.account_id)
        user = _clean(creds.user_id)
        if account is None and user is None:
            return RequestContext(self.config.default_account, self.config.default_user, Role.ADMIN)
        account = validate_identifier(account or self.config.default_account, "account_id")
        user = validate_identifier(user or self.config.default_user, "user_id")
        role = await self._known_role(account, user, None)
        return RequestContext(account, user, role)

    async def _trusted(self, creds: Credentials) -> RequestContext:
        root = self.config.server.root_api_key
        if root:
            key = _clean(creds.api_key) or ""
            if not hmac.compare_digest(key.encode(), root.encode()):
                raise UnauthenticatedError(
                    "Trusted mode: every request must carry the server's root key"
                )
        elif not is_loopback_host(creds.client_host or ""):
            raise PermissionDeniedError(
                "Trusted mode without a root key accepts loopback clients only",
                {"client": creds.client_host},
            )
        account, user = _clean(creds.account_id), _clean(creds.user_id)
        if account is None or user is None:
            raise InvalidArgumentError(
                "Trusted mode needs both X-OpenViking-Account and X-OpenViking-User headers",
                {"missing": [n for n, v in (("account", account), ("user", user)) if v is None]},
            )
        validate_identifier(account, "account_id")
        validate_identifier(user, "user_id")
        asserted = (_clean(creds.role) or "").lower() or None
        if asserted is not None and asserted not in (Role.USER.value, Role.ADMIN.value):
            raise PermissionDeniedError(
                "X-OpenViking-Role must be 'user' or 'admin'", {"role": creds.role}
            )
        role = await self._known_role(account, user, Role(asserted) if asserted else None)
        return RequestContext(account, user, role)

    async def _known_role(self, account: str, user: str, asserted: Role | None) -> Role:
        """Make sure the user and its space exist; the asserted role wins over the stored one.

        A new user of a new account becomes its ADMIN (as the embedded client does); later
        users are USERs unless a role is asserted.
        """
        try:
            stored = (await self.accounts.get_user(account, user)).role
        except NotFoundError:
            await self.accounts.ensure_account(account)
            first = not await self.accounts.list_users(account)
            stored = asserted or (Role.ADMIN if first else Role.USER)
            await self.accounts.ensure_user(account, user, stored)
            self._known_users.discard((account, user))
        if (account, user) not in self._known_users:
            await self._ensure_layout(account, user)
            self._known_users.add((account, user))
        return asserted or stored
