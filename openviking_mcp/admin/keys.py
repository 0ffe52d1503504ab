"""Named API keys: who may manage whose keys, and what a new key may hold.

A user manages their own keys; ROOT and the account's ADMIN (through a key with the ``admin``
scope) manage any user's of the account. A key created by a named key never exceeds it: its
scopes are a subset of the creator's, its URI prefix lies inside the creator's, and it expires
no later than the creator's key.
"""

from __future__ import annotations

from datetime import UTC, datetime

from openviking_mcp.contract.access import can_read, key_prefix_uri
from openviking_mcp.contract.errors import InvalidArgumentError, PermissionDeniedError
from openviking_mcp.contract.identity import KEY_SCOPES, RequestContext, Role, validate_identifier
from openviking_mcp.contract.keys import ApiKeyInfo, CreatedApiKey, CreateMyApiKeyRequest
from openviking_mcp.contract.uri import parse_uri
from openviking_mcp.storage.api_keys import ApiKeyRecord
from openviking_mcp.store import Store

__all__ = ["check_manager", "create_key", "key_info"]


def check_manager(ctx: RequestContext, account_id: str, user_id: str) -> None:
    """403 unless ``ctx`` may manage the named keys of ``account_id/user_id``."""
    validate_identifier(account_id, "account_id")
    validate_identifier(user_id, "user_id")
    if ctx.is_root or (ctx.account_id == account_id and ctx.user_id == user_id):
        return
    if ctx.is_admin and ctx.account_id == account_id:
        return
    raise PermissionDeniedError(
        f"Only the user, an ADMIN of account '{account_id}' or ROOT may manage these keys",
        {"required": "admin", "account_id": account_id, "user_id": user_id},
    )


def key_info(record: ApiKeyRecord) -> ApiKeyInfo:
    return ApiKeyInfo.model_validate(record.to_dict())


def _scopes(requested: list[str], role: Role) -> tuple[str, ...]:
    unknown = sorted(set(requested) - set(KEY_SCOPES))
    if unknown or not requested:
        raise InvalidArgumentError(
            f"Key scopes must be a non-empty subset of {', '.join(KEY_SCOPES)}",
            {"field": "scopes", "invalid": unknown},
        )
    if "admin" in requested and role is not Role.ADMIN:
        raise InvalidArgumentError(
            "Only an ADMIN user's key may carry the 'admin' scope", {"field": "scopes"}
        )
    return tuple(s for s in KEY_SCOPES if s in requested)


def _prefix(raw: str | None, owner: RequestContext) -> str | None:
    if raw is None or not raw.strip():
        return None
    uri = parse_uri(raw.strip(), field="uri_prefix")
    if uri.scope in ("", "~", "session") or not can_read(owner, uri):
        raise InvalidArgumentError(
            "uri_prefix must be a full viking:// path below the root that the user may read "
            "(e.g. viking://resources/project-x/)",
            {"field": "uri_prefix", "value": raw},
        )
    return uri.uri


def _expiry(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    if value <= datetime.now(UTC):
        raise InvalidArgumentError("expires_at is in the past", {"field": "expires_at"})
    return value


async def _check_within_creator(
    store: Store,
    ctx: RequestContext,
    scopes: tuple[str, ...],
    prefix: str | None,
    expires: datetime | None,
) -> None:
    """A named key may only create keys it could itself act as."""
    if not ctx.is_scoped:
        return
    wider = set(scopes) - set(ctx.scopes or KEY_SCOPES)
    mine = key_prefix_uri(ctx)
    outside = mine is not None and (prefix is None or not mine.is_ancestor_of(parse_uri(prefix)))
    later = False
    if ctx.key_id is not None:
        own = await store.accounts.keys.get(ctx.account_id, ctx.user_id, ctx.key_id)
        if own.expires_at is not None:
            limit = datetime.fromisoformat(own.expires_at)
            later = expires is None or expires > limit
    if wider or outside or later:
        raise PermissionDeniedError(
            "A key created with a named key cannot exceed it (scopes, URI prefix, expiry)",
            {"reason": "exceeds_creator", "key_id": ctx.key_id},
        )


async def create_key(
    store: Store, ctx: RequestContext, account_id: str, user_id: str, req: CreateMyApiKeyRequest
) -> CreatedApiKey:
    """Check the request and store a new named key for ``account_id/user_id``. An OAuth
    access token may not create keys: a key would outlive the token and its client's grant."""
    if ctx.oauth_token:
        raise PermissionDeniedError(
            "An OAuth access token cannot create API keys; use an API key",
            {"reason": "oauth_token"},
        )
    check_manager(ctx, account_id, user_id)
    user = await store.accounts.get_user(account_id, user_id)
    name = req.name.strip()
    if not name or len(name) > 128:
        raise InvalidArgumentError("A key name is 1 to 128 characters", {"field": "name"})
    owner = RequestContext(account_id, user_id, user.role)
    scopes = _scopes(req.scopes, user.role)
    prefix = _prefix(req.uri_prefix, owner)
    expires = _expiry(req.expires_at)
    await _check_within_creator(store, ctx, scopes, prefix, expires)
    key, record = await store.accounts.keys.create(
        account_id, user_id, name, scopes, prefix, expires
    )
    return CreatedApiKey.model_validate({**record.to_dict(), "api_key": key})
