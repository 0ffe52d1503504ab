"""Multi-tenant administration: accounts, users, roles, keys and user groups.

ROOT manages every account; an account's ADMIN manages the users and groups of its own account
and may promote its users to ADMIN (demotion is ROOT's). User groups are kept and listed only: no
access rule reads them (this server has no access control lists). Keys are shown once (``user_key``)
and never stored in clear. Deleting an account or a user removes its data and its index rows
at once: the answer's ``status`` is always ``deleted``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from openviking_mcp.contract.base import Empty, Request, Result
from openviking_mcp.contract.operations import Operation, Route

__all__ = [
    "OPERATIONS",
    "AccountInfo",
    "AccountRequest",
    "CreateAccountRequest",
    "CreateAccountResult",
    "CreateUserRequest",
    "CreateUserResult",
    "DeleteAccountResult",
    "DeleteUserResult",
    "GroupDeleted",
    "GroupInfo",
    "GroupMemberAdded",
    "GroupMemberRemoved",
    "GroupMemberRequest",
    "GroupMembers",
    "GroupRequest",
    "SetUserRoleRequest",
    "SetUserRoleResult",
    "UserInfo",
    "UserKeyResult",
    "UserMembership",
    "UserRequest",
]


class CreateAccountRequest(Request):
    """A new account with its first ADMIN user (ROOT)."""

    account_id: str = Field(description="The new account (workspace).")
    admin_user_id: str = Field(description="Its first user, who becomes its ADMIN.")


class CreateAccountResult(Result):
    account_id: str
    admin_user_id: str
    user_key: str


class AccountInfo(Result):
    account_id: str
    created_at: str
    user_count: int


class AccountRequest(Request):
    account_id: str


class DeleteAccountResult(Result):
    account_id: str
    status: Literal["deleted"] = Field(
        description="Always 'deleted': the account's data is gone when this answers."
    )
    deleted: bool


class CreateUserRequest(Request):
    """Register a user of an account (ROOT or the account's ADMIN)."""

    account_id: str
    user_id: str
    role: str = Field(default="user", description="'user' or 'admin'.")


class CreateUserResult(Result):
    account_id: str
    user_id: str
    role: str
    user_key: str


class UserInfo(Result):
    account_id: str
    user_id: str
    role: str
    key_prefix: str | None
    created_at: str


class UserRequest(Request):
    account_id: str
    user_id: str


class DeleteUserResult(Result):
    account_id: str
    user_id: str
    status: Literal["deleted"] = Field(
        description="Always 'deleted': the user's space is gone when this answers."
    )
    deleted: bool


class SetUserRoleRequest(Request):
    """Promote a user to ``admin`` (ROOT or the account's ADMIN) or demote one to ``user``
    (ROOT only)."""

    account_id: str
    user_id: str
    role: str = Field(description="'admin' (promotion) or 'user' (demotion, ROOT only).")


class SetUserRoleResult(Result):
    account_id: str
    user_id: str
    role: str


class UserKeyResult(Result):
    user_key: str


class UserMembership(Result):
    """One user of an account: the id and role only (never a key or its prefix)."""

    user_id: str
    role: str


class GroupRequest(Request):
    account_id: str
    group_id: str = Field(description="A group id ([A-Za-z0-9_.@-], at most 128).")


class GroupInfo(Result):
    group_id: str
    member_count: int


class GroupDeleted(Result):
    deleted: bool


class GroupMembers(Result):
    group_id: str
    members: list[str] = Field(description="User ids, sorted.")


class GroupMemberRequest(Request):
    account_id: str
    group_id: str
    user_id: str


class GroupMemberAdded(Result):
    added: bool


class GroupMemberRemoved(Result):
    removed: bool = Field(description="False if the user was not in the group.")


_A = "/api/v1/admin/accounts"
_ACCOUNT = _A + "/{account_id}"
_USER = _ACCOUNT + "/users/{user_id}"
_GROUPS = _ACCOUNT + "/groups"
_GROUP = _GROUPS + "/{group_id}"
_GROUPS_DOC = " Groups have no effect on access (this server has no access control lists)."

OPERATIONS = (
    Operation(
        "create_account",
        "admin.create_account",
        CreateAccountRequest,
        CreateAccountResult,
        ("account_id", "admin_user_id"),
        Route("POST", _A),
        doc="A new account with its first ADMIN user; returns that user's key (shown once).",
    ),
    Operation(
        "list_accounts",
        "admin.list_accounts",
        Empty,
        list[AccountInfo],
        (),
        Route("GET", _A),
        doc="Every account with its user count (ROOT).",
    ),
    Operation(
        "delete_account",
        "admin.delete_account",
        AccountRequest,
        DeleteAccountResult,
        ("account_id",),
        Route("DELETE", _ACCOUNT),
        doc="Delete an account, its users and all its data (ROOT).",
    ),
    Operation(
        "create_user",
        "admin.create_user",
        CreateUserRequest,
        CreateUserResult,
        ("account_id", "user_id", "role"),
        Route("POST", _ACCOUNT + "/users"),
        doc="Register a user; returns the user's key (shown once).",
    ),
    Operation(
        "list_users",
        "admin.list_users",
        AccountRequest,
        list[UserInfo],
        ("account_id",),
        Route("GET", _ACCOUNT + "/users"),
        doc="The users of an account (ROOT or the account's ADMIN).",
    ),
    Operation(
        "get_user",
        "admin.get_user",
        UserRequest,
        UserMembership,
        ("account_id", "user_id"),
        Route("GET", _USER),
        doc="One user's id and role, without key (ROOT or the account's ADMIN).",
    ),
    Operation(
        "delete_user",
        "admin.delete_user",
        UserRequest,
        DeleteUserResult,
        ("account_id", "user_id"),
        Route("DELETE", _USER),
        doc="Remove a user and their private space.",
    ),
    Operation(
        "set_user_role",
        "admin.set_user_role",
        SetUserRoleRequest,
        SetUserRoleResult,
        ("account_id", "user_id", "role"),
        Route("PUT", _USER + "/role"),
        doc="Promote a user to 'admin' (ROOT or the account's ADMIN); demoting to 'user' is "
        "ROOT's.",
    ),
    Operation(
        "regenerate_user_key",
        "admin.regenerate_user_key",
        UserRequest,
        UserKeyResult,
        ("account_id", "user_id"),
        Route("POST", _USER + "/key"),
        doc="A new key for the user; the old key stops working at once.",
    ),
    Operation(
        "create_group",
        "admin.create_group",
        GroupRequest,
        GroupInfo,
        ("account_id", "group_id"),
        Route("POST", _GROUPS),
        doc="A new, empty user group of an account (ROOT or the account's ADMIN)." + _GROUPS_DOC,
    ),
    Operation(
        "list_groups",
        "admin.list_groups",
        AccountRequest,
        list[GroupInfo],
        ("account_id",),
        Route("GET", _GROUPS),
        doc="The account's user groups with their member counts, by id.",
    ),
    Operation(
        "delete_group",
        "admin.delete_group",
        GroupRequest,
        GroupDeleted,
        ("account_id", "group_id"),
        Route("DELETE", _GROUP),
        doc="Delete a user group (its users stay).",
    ),
    Operation(
        "list_group_members",
        "admin.list_group_members",
        GroupRequest,
        GroupMembers,
        ("account_id", "group_id"),
        Route("GET", _GROUP + "/members"),
        doc="The user ids in a group, sorted.",
    ),
    Operation(
        "add_group_member",
        "admin.add_group_member",
        GroupMemberRequest,
        GroupMemberAdded,
        ("account_id", "group_id", "user_id"),
        Route("PUT", _GROUP + "/members/{user_id}"),
        doc="Put a user of the account into a group (again: no change).",
    ),
    Operation(
        "remove_group_member",
        "admin.remove_group_member",
        GroupMemberRequest,
        GroupMemberRemoved,
        ("account_id", "group_id", "user_id"),
        Route("DELETE", _GROUP + "/members/{user_id}"),
        doc="Take a user out of a group; ``removed`` is false if they were not in it.",
    ),
)
