"""Named API keys: a user's extra keys, each with scopes, an optional URI prefix and expiry.

A named key is created for a user (its secret shown once), listed (never the secret) and
revoked. The admin form names the account and user (ROOT, the account's ADMIN, or the user
themselves); the self-service form acts on the caller's own keys. A key created by a named key
can never exceed it: its scopes are a subset, its prefix inside, its expiry no later.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from openviking_mcp.contract.base import Empty, Request, Result
from openviking_mcp.contract.operations import Operation, Route

__all__ = [
    "KEY_OPERATIONS",
    "OPERATIONS",
    "ApiKeyInfo",
    "CreateApiKeyRequest",
    "CreateMyApiKeyRequest",
    "CreatedApiKey",
    "MyApiKeyRequest",
    "RevokedApiKey",
    "UserApiKeyRequest",
    "UserApiKeysRequest",
]


class CreateMyApiKeyRequest(Request):
    """A new named key for the caller."""

    name: str = Field(description="A name for the key, unique among the user's keys.")
    scopes: list[str] = Field(
        default_factory=lambda: ["read"],
        description="Any of 'read', 'write', 'admin' ('admin' only for ADMIN users).",
    )
    uri_prefix: str | None = Field(
        default=None,
        description="Only this viking:// subtree is visible to the key (e.g. "
        "viking://resources/project-x/).",
    )
    expires_at: datetime | None = Field(
        default=None, description="When the key stops working (ISO 8601; UTC if no zone)."
    )


class CreateApiKeyRequest(CreateMyApiKeyRequest):
    """A new named key for a user of an account."""

    account_id: str
    user_id: str


class UserApiKeysRequest(Request):
    account_id: str
    user_id: str


class UserApiKeyRequest(Request):
    account_id: str
    user_id: str
    key_id: str


class MyApiKeyRequest(Request):
    key_id: str


class ApiKeyInfo(Result):
    """A named key as listed: never its secret."""

    key_id: str
    account_id: str
    user_id: str
    name: str
    scopes: list[str]
    uri_prefix: str | None
    expires_at: str | None
    created_at: str
    last_used_at: str | None
    key_prefix: str = Field(description="The start of the key's secret, to recognise it.")


class CreatedApiKey(ApiKeyInfo):
    api_key: str = Field(description="The key itself: shown once, never stored in clear.")


class RevokedApiKey(Result):
    key_id: str
    revoked: bool


_KEYS = "/api/v1/admin/accounts/{account_id}/users/{user_id}/keys"
_MY_KEYS = "/api/v1/keys"

OPERATIONS = (
    Operation(
        "create_api_key",
        "admin.create_api_key",
        CreateApiKeyRequest,
        CreatedApiKey,
        ("account_id", "user_id", "name"),
        Route("POST", _KEYS),
        doc="A new named key for a user, with scopes, URI prefix and expiry; the key is "
        "shown once.",
    ),
    Operation(
        "list_api_keys",
        "admin.list_api_keys",
        UserApiKeysRequest,
        list[ApiKeyInfo],
        ("account_id", "user_id"),
        Route("GET", _KEYS),
        doc="A user's named keys (never their secrets).",
    ),
    Operation(
        "revoke_api_key",
        "admin.revoke_api_key",
        UserApiKeyRequest,
        RevokedApiKey,
        ("account_id", "user_id", "key_id"),
        Route("DELETE", _KEYS + "/{key_id}"),
        doc="Revoke a user's named key; it stops working at once.",
    ),
    Operation(
        "create_my_api_key",
        "admin.create_my_api_key",
        CreateMyApiKeyRequest,
        CreatedApiKey,
        ("name",),
        Route("POST", _MY_KEYS),
        doc="A new named key for the caller; the key is shown once.",
    ),
    Operation(
        "list_my_api_keys",
        "admin.list_my_api_keys",
        Empty,
        list[ApiKeyInfo],
        (),
        Route("GET", _MY_KEYS),
        doc="The caller's named keys (never their secrets).",
    ),
    Operation(
        "revoke_my_api_key",
        "admin.revoke_my_api_key",
        MyApiKeyRequest,
        RevokedApiKey,
        ("key_id",),
        Route("DELETE", _MY_KEYS + "/{key_id}"),
        doc="Revoke one of the caller's named keys.",
    ),
)
#: The names of the key operations (the key service's own checks apply to them).
KEY_OPERATIONS = frozenset(op.name for op in OPERATIONS)
