"""Multi-tenant administration: accounts, users, roles and keys.

ROOT manages every account; an account's ADMIN manages the users of its own account (but cannot
change roles, which is ROOT's, as in seed 000). Deleting an account or a user removes its data.
"""

from __future__ import annotations

from typing import Any

from openviking_mcp.contract.errors import NotFoundError, PermissionDeniedError
from openviking_mcp.contract.identity import RequestContext, Role, validate_identifier
from openviking_mcp.ops.base import ServiceCore
from openviking_mcp.storage.index import IndexFilter

__all__ = ["AdminOps"]


def _require_root(ctx: RequestContext) -> None:
    if not ctx.is_root:
        raise PermissionDeniedError("This operation needs the ROOT role", {"required": "root"})


def _require_admin_of(ctx: RequestContext, account_id: str) -> None:
    if ctx.is_root:
        return
    if ctx.role is Role.ADMIN and ctx.account_id == account_id:
        return
    raise PermissionDeniedError(
        f"Only ROOT or an ADMIN of account '{account_id}' may do this",
        {"required": "admin", "account_id": account_id},
    )


class AdminOps(ServiceCore):
    async def create_account(
        self, ctx: RequestContext, account_id: str, admin_user_id: str
    ) -> dict[str, Any]:
        """A new account with its first ADMIN user; returns that user's key (shown once)."""
        _require_root(ctx)
        self._require_open()
        validate_identifier(account_id, "account_id")
        validate_identifier(admin_user_id, "user_id")
        await self.accounts.create_account(account_id)
        key = await self.accounts.create_user(account_id, admin_user_id, Role.ADMIN)
        await self._ensure_layout(account_id, admin_user_id)
        return {"account_id": account_id, "admin_user_id": admin_user_id, "user_key": key}

    async def list_accounts(self, ctx: RequestContext) -> list[dict[str, Any]]:
        _require_root(ctx)
        self._require_open()
        return await self.accounts.list_accounts()

    async def delete_account(self, ctx: RequestContext, account_id: str) -> dict[str, Any]:
        """Delete an account, its users and all its data."""
        _require_root(ctx)
        self._require_open()
        if not await self.accounts.account_exists(account_id):
            raise NotFoundError(account_id, "account")
        async with self.locks.lock((account_id,)):
            if await self.store.exists(account_id):
                await self.store.remove(account_id, recursive=True)
            if self._index_error is None:
                await self.index.delete(IndexFilter(account_id=account_id))
            await self.accounts.delete_account(account_id)
        return {"account_id": account_id, "deleted": True}

    async def create_user(
        self, ctx: RequestContext, account_id: str, user_id: str, role: str = "user"
    ) -> dict[str, Any]:
        _require_admin_of(ctx, account_id)
        self._require_open()
        key = await self.accounts.create_user(account_id, user_id, role)
        await self._ensure_layout(account_id, user_id)
        return {"account_id": account_id, "user_id": user_id, "role": role, "user_key": key}

    async def list_users(self, ctx: RequestContext, account_id: str) -> list[dict[str, Any]]:
        _require_admin_of(ctx, account_id)
        self._require_open()
        return [u.to_dict() for u in await self.accounts.list_users(account_id)]

    async def delete_user(
        self, ctx: RequestContext, account_id: str, user_id: str
    ) -> dict[str, Any]:
        """Remove a user and their private space."""
        _require_admin_of(ctx, account_id)
        self._require_open()
        await self.accounts.get_user(account_id, user_id)
        space = (account_id, "user", user_id)
        async with self.locks.lock(space):
            key = "/".join(space)
            if await self.store.exists(key):
                await self.store.remove(key, recursive=True)
            if self._index_error is None:
                await self.index.delete(
                    IndexFilter(account_id=account_id, uri_prefixes=(f"viking://user/{user_id}",))
                )
            await self.accounts.delete_user(account_id, user_id)
        return {"account_id": account_id, "user_id": user_id, "deleted": True}

    async def set_user_role(
        self, ctx: RequestContext, account_id: str, user_id: str, role: str
    ) -> dict[str, Any]:
        _require_root(ctx)
        self._require_open()
        record = await self.accounts.set_role(account_id, user_id, role)
        return {"account_id": account_id, "user_id": user_id, "role": record.role.value}

    async def regenerate_user_key(
        self, ctx: RequestContext, account_id: str, user_id: str
    ) -> dict[str, Any]:
        """A new key for the user; the old key stops working at once."""
        _require_admin_of(ctx, account_id)
        self._require_open()
        return {"user_key": await self.accounts.regenerate_key(account_id, user_id)}
