"""Multi-tenant administration: accounts, users, roles and keys.

ROOT manages every account; an account's ADMIN manages the users of its own account (but cannot
change roles, which is ROOT's). Keys are shown once (``user_key``) and never stored in clear.
Deleting an account or a user removes its data and its index rows.
"""

from __future__ import annotations

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
    "SetUserRoleRequest",
    "SetUserRoleResult",
    "UserInfo",
    "UserKeyResult",
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
    deleted: bool


class SetUserRoleRequest(Request):
    """Change a user's role (ROOT)."""

    account_id: str
    user_id: str
    role: str = Field(description="'user' or 'admin' (never 'root').")


class SetUserRoleResult(Result):
    account_id: str
    user_id: str
    role: str


class UserKeyResult(Result):
    user_key: str


_A = "/api/v1/admin/accounts"
_ACCOUNT = _A + "/{account_id}"
_USER = _ACCOUNT + "/users/{user_id}"

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
        doc="Change a user's role (ROOT).",
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
)
