"""The auth service: who is calling, per auth mode, and the identities of embedded callers.

Every network surface (REST, MCP over HTTP, the bot) collects the same :class:`Credentials`
from its request and calls :meth:`AuthService.authenticate`, so the modes behave identically:

* ``dev``: no key is checked; the caller is the default user (ADMIN of the default account) or
  the account/user named by the identity headers. Only served on loopback (``serve`` refuses
  otherwise).
* ``api_key``: a key is required. The root key gives ROOT, a user key its user; identity headers
  are ignored (a key cannot be combined with someone else's name).
* ``trusted``: a gateway asserts the identity in headers. With a root key configured every
  request must carry it; without one only loopback clients are trusted.

Embedded callers (the Python client, the CLI, stdio MCP) take :meth:`dev_context` or
:meth:`local_context` instead: they run as the machine's own user.
"""

from __future__ import annotations

import dataclasses
import hmac

from openviking_mcp.auth.credentials import Credentials
from openviking_mcp.config import is_loopback_host
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from openviking_mcp.contract.identity import RequestContext, Role, validate_identifier
from openviking_mcp.store import Store

__all__ = ["AuthService", "Credentials"]


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


class AuthService:
    """See the module docs."""

    def __init__(self, store: Store) -> None:
        self._store = store
        # users whose space was checked since start-up (asserted identities create it once)
        self._known_users: set[tuple[str, str]] = set()

    # -- network callers -------------------------------------------------------------------

    async def authenticate(self, creds: Credentials) -> RequestContext:
        """The caller's identity, or :class:`UnauthenticatedError` (401) /
        :class:`PermissionDeniedError` (403) / :class:`InvalidArgumentError` (400)."""
        self._store.require_open()
        mode = self._store.config.server.effective_auth_mode
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
            ctx = dataclasses.replace(ctx, actor_peer_id=peer)
        return ctx

    async def resolve_api_key(self, key: str) -> RequestContext:
        """The identity behind an API key: the root key gives ROOT, user keys their user (a
        named key with its scopes and URI prefix)."""
        self._store.require_open()
        if not key or not key.strip():
            raise UnauthenticatedError("Missing API Key")
        config = self._store.config
        root = config.server.root_api_key
        if root and hmac.compare_digest(key.strip().encode(), root.encode()):
            return RequestContext.root(config.default_account)
        return await self._store.accounts.resolve_key(key.strip())

    async def _dev(self, creds: Credentials) -> RequestContext:
        config = self._store.config
        account = _clean(creds.account_id)
        user = _clean(creds.user_id)
        if account is None and user is None:
            return self.dev_context()
        account = validate_identifier(account or config.default_account, "account_id")
        user = validate_identifier(user or config.default_user, "user_id")
        role = await self._known_role(account, user, None)
        return RequestContext(account, user, role)

    def _check_trusted_source(self, creds: Credentials) -> None:
        """With a root key every request carries it; without one only loopback is trusted."""
        root = self._store.config.server.root_api_key
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

    async def _trusted(self, creds: Credentials) -> RequestContext:
        self._check_trusted_source(creds)
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
        accounts = self._store.accounts
        try:
            stored = (await accounts.get_user(account, user)).role
        except NotFoundError:
            await accounts.ensure_account(account)
            first = not await accounts.list_users(account)
            stored = asserted or (Role.ADMIN if first else Role.USER)
            await accounts.ensure_user(account, user, stored)
            self._known_users.discard((account, user))
        if (account, user) not in self._known_users:
            await self._store.ensure_layout(account, user)
            self._known_users.add((account, user))
        return asserted or stored

    # -- embedded callers ------------------------------------------------------------------

    def dev_context(self) -> RequestContext:
        """Identity of dev mode: the default user (ADMIN of the default account), never ROOT."""
        config = self._store.config
        return RequestContext(config.default_account, config.default_user, Role.ADMIN)

    async def local_context(
        self, account_id: str | None = None, user_id: str | None = None
    ) -> RequestContext:
        """Identity of an embedded client: the user is created on first use with its space.

        The first user of an account becomes its ADMIN; later ones are USERs.
        """
        store = self._store
        store.require_open()
        accounts = store.accounts
        account = validate_identifier(account_id or store.config.default_account, "account_id")
        user = validate_identifier(user_id or store.config.default_user, "user_id")
        await accounts.ensure_account(account)
        users = await accounts.list_users(account)
        role = Role.ADMIN if not users else Role.USER
        await accounts.ensure_user(account, user, role)
        await store.ensure_layout(account, user)
        record = await accounts.get_user(account, user)
        return RequestContext(account, user, record.role)
