"""The admin service: accounts, users, roles, keys and user groups.

ROOT manages every account; an account's ADMIN manages the users and groups of its own account
and may promote its users to ADMIN (demotion to USER is ROOT's). Deleting an account or a user
removes its content, its index rows and its paths' tags under the account's (or the user
space's) lock, and its groups or memberships with it; the answer's ``status`` is ``deleted``
(nothing is left to clean up later).

User groups are named sets of an account's users. They are stored and listed only: no access
rule reads them, since this server has no access control lists.
"""

from __future__ import annotations

from openviking_mcp.admin.keys import check_manager, create_key, key_info
from openviking_mcp.contract.admin import (
    AccountInfo,
    AccountRequest,
    CreateAccountRequest,
    CreateAccountResult,
    CreateUserRequest,
    CreateUserResult,
    DeleteAccountResult,
    DeleteUserResult,
    GroupDeleted,
    GroupInfo,
    GroupMemberAdded,
    GroupMemberRemoved,
    GroupMemberRequest,
    GroupMembers,
    GroupRequest,
    SetUserRoleRequest,
    SetUserRoleResult,
    UserInfo,
    UserKeyResult,
    UserMembership,
    UserRequest,
)
from openviking_mcp.contract.base import Empty
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from openviking_mcp.contract.identity import RequestContext, Role, validate_identifier
from openviking_mcp.contract.keys import (
    ApiKeyInfo,
    CreateApiKeyRequest,
    CreatedApiKey,
    CreateMyApiKeyRequest,
    MyApiKeyRequest,
    RevokedApiKey,
    UserApiKeyRequest,
    UserApiKeysRequest,
)
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.storage.index import IndexFilter
from openviking_mcp.store import Store

__all__ = ["AdminService"]


def _require_root(ctx: RequestContext) -> None:
    if not ctx.is_root:
        raise PermissionDeniedError("This operation needs the ROOT role", {"required": "root"})


def _require_admin_of(ctx: RequestContext, account_id: str) -> None:
    if ctx.is_root:
        return
    if ctx.is_admin and ctx.account_id == account_id:
        return
    raise PermissionDeniedError(
        f"Only ROOT or an ADMIN of account '{account_id}' may do this",
        {"required": "admin", "account_id": account_id},
    )


def _check_role_change(ctx: RequestContext, role: str) -> None:
    """An ADMIN may only promote (to ``admin``); ROOT may also demote (to ``user``)."""
    if ctx.is_root or role == Role.ADMIN.value:
        return
    if role == Role.USER.value:
        raise PermissionDeniedError(
            "Demoting a user to 'user' needs the ROOT role; an account's ADMIN may only "
            "promote to 'admin'",
            {"required": "root", "role": role},
        )
    raise InvalidArgumentError(
        "set_user_role only supports promotion to admin", {"field": "role", "role": role}
    )


class AdminService:
    """See the module docs."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # -- accounts --------------------------------------------------------------------------

    async def create_account(
        self, ctx: RequestContext, req: CreateAccountRequest
    ) -> CreateAccountResult:
        """A new account with its first ADMIN user; returns that user's key (shown once)."""
        _require_root(ctx)
        store = self._store
        store.require_open()
        account_id = validate_identifier(req.account_id, "account_id")
        admin_user_id = validate_identifier(req.admin_user_id, "user_id")
        await store.accounts.create_account(account_id)
        key = await store.accounts.create_user(account_id, admin_user_id, Role.ADMIN)
        await store.ensure_layout(account_id, admin_user_id)
        return CreateAccountResult(account_id=account_id, admin_user_id=admin_user_id, user_key=key)

    async def list_accounts(self, ctx: RequestContext, req: Empty) -> list[AccountInfo]:
        _require_root(ctx)
        self._store.require_open()
        rows = await self._store.accounts.list_accounts()
        return [AccountInfo.model_validate(row) for row in rows]

    async def delete_account(self, ctx: RequestContext, req: AccountRequest) -> DeleteAccountResult:
        """Delete an account, its users and all its data."""
        _require_root(ctx)
        store = self._store
        store.require_open()
        account_id = req.account_id
        if not await store.accounts.account_exists(account_id):
            raise NotFoundError(account_id, "account")
        async with store.locks.lock((account_id,)):
            if await store.content.exists(account_id):
                await store.content.remove(account_id, recursive=True)
            if store.indexing_enabled:
                await store.index.delete(IndexFilter(account_id=account_id))
            await store.accounts.delete_account(account_id)
            await store.owners.account_deleted(account_id)
            await store.tags.account_deleted(account_id)
        return DeleteAccountResult(account_id=account_id, status="deleted", deleted=True)

    # -- users -----------------------------------------------------------------------------

    async def create_user(self, ctx: RequestContext, req: CreateUserRequest) -> CreateUserResult:
        _require_admin_of(ctx, req.account_id)
        store = self._store
        store.require_open()
        key = await store.accounts.create_user(req.account_id, req.user_id, req.role)
        await store.ensure_layout(req.account_id, req.user_id)
        return CreateUserResult(
            account_id=req.account_id, user_id=req.user_id, role=req.role, user_key=key
        )

    async def list_users(self, ctx: RequestContext, req: AccountRequest) -> list[UserInfo]:
        _require_admin_of(ctx, req.account_id)
        self._store.require_open()
        users = await self._store.accounts.list_users(req.account_id)
        return [UserInfo.model_validate(u.to_dict()) for u in users]

    async def get_user(self, ctx: RequestContext, req: UserRequest) -> UserMembership:
        """A user's id and role (never a key or key prefix); ``NOT_FOUND`` if absent."""
        _require_admin_of(ctx, req.account_id)
        self._store.require_open()
        record = await self._store.accounts.get_user(req.account_id, req.user_id)
        return UserMembership(user_id=record.user_id, role=record.role.value)

    async def delete_user(self, ctx: RequestContext, req: UserRequest) -> DeleteUserResult:
        """Remove a user and their private space."""
        account_id, user_id = req.account_id, req.user_id
        _require_admin_of(ctx, account_id)
        store = self._store
        store.require_open()
        await store.accounts.get_user(account_id, user_id)
        space = (account_id, "user", user_id)
        async with store.locks.lock(space):
            key = "/".join(space)
            if await store.content.exists(key):
                await store.content.remove(key, recursive=True)
            if store.indexing_enabled:
                await store.index.delete(
                    IndexFilter(account_id=account_id, uri_prefixes=(f"viking://user/{user_id}",))
                )
            await store.accounts.delete_user(account_id, user_id)
            await store.owners.user_deleted(account_id, user_id)
            await store.tags.removed(account_id, VikingURI("user", (user_id,)))
        return DeleteUserResult(
            account_id=account_id, user_id=user_id, status="deleted", deleted=True
        )

    async def set_user_role(
        self, ctx: RequestContext, req: SetUserRoleRequest
    ) -> SetUserRoleResult:
        """Promote a user to ``admin`` (ROOT or the account's ADMIN) or demote one to
        ``user`` (ROOT only)."""
        _require_admin_of(ctx, req.account_id)
        _check_role_change(ctx, req.role)
        self._store.require_open()
        record = await self._store.accounts.set_role(req.account_id, req.user_id, req.role)
        return SetUserRoleResult(
            account_id=req.account_id, user_id=req.user_id, role=record.role.value
        )

    async def regenerate_user_key(self, ctx: RequestContext, req: UserRequest) -> UserKeyResult:
        """A new key for the user; the old key stops working at once."""
        _require_admin_of(ctx, req.account_id)
        self._store.require_open()
        key = await self._store.accounts.regenerate_key(req.account_id, req.user_id)
        return UserKeyResult(user_key=key)

    # -- user groups (stored only: nothing grants access by group) ---------------------------

    async def create_group(self, ctx: RequestContext, req: GroupRequest) -> GroupInfo:
        """A new, empty group; ``ALREADY_EXISTS`` if the account has one of that id."""
        _require_admin_of(ctx, req.account_id)
        self._store.require_open()
        group_id = validate_identifier(req.group_id, "group_id")
        await self._store.accounts.groups.create_group(req.account_id, group_id)
        return GroupInfo(group_id=group_id, member_count=0)

    async def list_groups(self, ctx: RequestContext, req: AccountRequest) -> list[GroupInfo]:
        """``[{group_id, member_count}]`` sorted by id."""
        _require_admin_of(ctx, req.account_id)
        self._store.require_open()
        rows = await self._store.accounts.groups.list_groups(req.account_id)
        return [GroupInfo(group_id=group, member_count=count) for group, count in rows]

    async def delete_group(self, ctx: RequestContext, req: GroupRequest) -> GroupDeleted:
        """Remove a group and its memberships (the users stay); ``NOT_FOUND`` if missing."""
        _require_admin_of(ctx, req.account_id)
        self._store.require_open()
        await self._store.accounts.groups.delete_group(req.account_id, req.group_id)
        return GroupDeleted(deleted=True)

    async def list_group_members(self, ctx: RequestContext, req: GroupRequest) -> GroupMembers:
        """``{group_id, members}`` with the member ids sorted."""
        _require_admin_of(ctx, req.account_id)
        self._store.require_open()
        members = await self._store.accounts.groups.members(req.account_id, req.group_id)
        return GroupMembers(group_id=req.group_id, members=members)

    async def add_group_member(
        self, ctx: RequestContext, req: GroupMemberRequest
    ) -> GroupMemberAdded:
        """Put a user of the account into a group; ``NOT_FOUND`` if either is missing. Adding
        a member again changes nothing."""
        _require_admin_of(ctx, req.account_id)
        self._store.require_open()
        await self._store.accounts.groups.add_member(req.account_id, req.group_id, req.user_id)
        return GroupMemberAdded(added=True)

    async def remove_group_member(
        self, ctx: RequestContext, req: GroupMemberRequest
    ) -> GroupMemberRemoved:
        """Take a user out of a group; ``removed`` is false if they were not in it."""
        _require_admin_of(ctx, req.account_id)
        self._store.require_open()
        groups = self._store.accounts.groups
        removed = await groups.remove_member(req.account_id, req.group_id, req.user_id)
        return GroupMemberRemoved(removed=removed)

    # -- named API keys (scopes, URI prefix, expiry; see admin/keys.py) ----------------------

    async def create_api_key(self, ctx: RequestContext, req: CreateApiKeyRequest) -> CreatedApiKey:
        """A new named key for a user; the key is in the answer only."""
        self._store.require_open()
        return await create_key(self._store, ctx, req.account_id, req.user_id, req)

    async def list_api_keys(self, ctx: RequestContext, req: UserApiKeysRequest) -> list[ApiKeyInfo]:
        """A user's named keys, never their secrets."""
        check_manager(ctx, req.account_id, req.user_id)
        self._store.require_open()
        await self._store.accounts.get_user(req.account_id, req.user_id)
        records = await self._store.accounts.keys.list_keys(req.account_id, req.user_id)
        return [key_info(r) for r in records]

    async def revoke_api_key(self, ctx: RequestContext, req: UserApiKeyRequest) -> RevokedApiKey:
        """Revoke a named key: it stops working at once."""
        check_manager(ctx, req.account_id, req.user_id)
        self._store.require_open()
        await self._store.accounts.keys.revoke(req.account_id, req.user_id, req.key_id)
        return RevokedApiKey(key_id=req.key_id, revoked=True)

    async def create_my_api_key(
        self, ctx: RequestContext, req: CreateMyApiKeyRequest
    ) -> CreatedApiKey:
        """A new named key for the caller."""
        self._store.require_open()
        _require_user(ctx)
        return await create_key(self._store, ctx, ctx.account_id, ctx.user_id, req)

    async def list_my_api_keys(self, ctx: RequestContext, req: Empty) -> list[ApiKeyInfo]:
        """The caller's named keys."""
        _require_user(ctx)
        return await self.list_api_keys(
            ctx, UserApiKeysRequest(account_id=ctx.account_id, user_id=ctx.user_id)
        )

    async def revoke_my_api_key(self, ctx: RequestContext, req: MyApiKeyRequest) -> RevokedApiKey:
        """Revoke one of the caller's named keys."""
        _require_user(ctx)
        return await self.revoke_api_key(
            ctx,
            UserApiKeyRequest(account_id=ctx.account_id, user_id=ctx.user_id, key_id=req.key_id),
        )


def _require_user(ctx: RequestContext) -> None:
    if ctx.is_root:
        raise PermissionDeniedError(
            "ROOT has no keys of its own; use the admin form with an account and user",
            {"role": "root"},
        )
