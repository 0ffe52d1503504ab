"""Named API keys in the store (both backends): create, list, resolve, last use, expiry,
revocation, and the scope and prefix checks of the service."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from openviking_mcp import ContextService
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.storage import api_keys

pytestmark = [pytest.mark.anyio, pytest.mark.both_backends]


async def _ann(service: ContextService) -> tuple[str, RequestContext]:
    created = await service.create_account(RequestContext.root(), "acme", "ann")
    key = created["user_key"]
    return key, await service.auth.resolve_api_key(key)


async def test_create_list_resolve_revoke(service: ContextService) -> None:
    main, ann = await _ann(service)
    made = await service.call(
        ann,
        "create_my_api_key",
        {"name": "ci", "scopes": ["read"], "uri_prefix": "viking://resources/project-x/"},
    )
    assert made["uri_prefix"] == "viking://resources/project-x"
    key = made["api_key"]
    ctx = await service.auth.resolve_api_key(key)
    assert (ctx.account_id, ctx.user_id, ctx.key_id) == ("acme", "ann", made["key_id"])
    assert ctx.scopes == frozenset({"read"})
    assert not ctx.is_admin  # an ADMIN user's key without the admin scope
    listed = await service.call(ann, "list_my_api_keys", {})
    assert [k["name"] for k in listed] == ["ci"]
    assert "api_key" not in listed[0]
    assert key.split(".")[2] not in str(listed)
    assert listed[0]["key_prefix"] == "ak_" + made["key_id"]
    assert listed[0]["last_used_at"] is not None  # the resolve above
    # the main key is untouched and the secret is only stored hashed
    assert (await service.auth.resolve_api_key(main)).scopes is None
    dup = service.call(ann, "create_my_api_key", {"name": "ci"})
    with pytest.raises(Exception, match="ci"):
        await dup
    await service.call(ann, "revoke_my_api_key", {"key_id": made["key_id"]})
    with pytest.raises(UnauthenticatedError):
        await service.auth.resolve_api_key(key)
    assert await service.call(ann, "list_my_api_keys", {}) == []


async def test_last_used_is_written_at_most_once_a_minute(
    service: ContextService, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, ann = await _ann(service)
    made = await service.call(ann, "create_my_api_key", {"name": "k"})
    await service.auth.resolve_api_key(made["api_key"])
    first = (await service.call(ann, "list_my_api_keys", {}))[0]["last_used_at"]
    await service.auth.resolve_api_key(made["api_key"])
    assert (await service.call(ann, "list_my_api_keys", {}))[0]["last_used_at"] == first
    monkeypatch.setattr(api_keys, "LAST_USED_EVERY", 0.0)
    await asyncio.sleep(0.01)
    await service.auth.resolve_api_key(made["api_key"])
    assert (await service.call(ann, "list_my_api_keys", {}))[0]["last_used_at"] > first


async def test_expired_key_is_refused(service: ContextService) -> None:
    _, ann = await _ann(service)
    soon = datetime.now(UTC) + timedelta(seconds=1)
    made = await service.call(ann, "create_my_api_key", {"name": "t", "expires_at": soon})
    assert (await service.auth.resolve_api_key(made["api_key"])).key_id == made["key_id"]
    await asyncio.sleep(1.1)
    with pytest.raises(UnauthenticatedError, match="expired"):
        await service.auth.resolve_api_key(made["api_key"])
    past = datetime.now(UTC) - timedelta(days=1)
    with pytest.raises(InvalidArgumentError):
        await service.call(ann, "create_my_api_key", {"name": "p", "expires_at": past})


async def test_read_key_cannot_write_and_cannot_widen_itself(service: ContextService) -> None:
    _, ann = await _ann(service)
    made = await service.call(ann, "create_my_api_key", {"name": "r", "scopes": ["read"]})
    reader = await service.auth.resolve_api_key(made["api_key"])
    with pytest.raises(PermissionDeniedError, match="write"):
        await service.write(reader, "viking://resources/a.md", "x", mode="create")
    with pytest.raises(PermissionDeniedError):
        await service.call(reader, "create_my_api_key", {"name": "w", "scopes": ["write"]})
    with pytest.raises(PermissionDeniedError, match="admin"):
        await service.call(reader, "list_users", {"account_id": "acme"})
    assert [k["name"] for k in await service.call(ann, "list_my_api_keys", {})] == ["r"]
    stat = service.call(ann, "stat", {"uri": "viking://resources/a.md"})
    with pytest.raises(Exception, match=r"a\.md"):
        await stat


async def test_admin_form_and_who_may_use_it(service: ContextService) -> None:
    _, ann = await _ann(service)
    ben_key = (await service.create_user(ann, "acme", "ben"))["user_key"]
    ben = await service.auth.resolve_api_key(ben_key)
    args = {"account_id": "acme", "user_id": "ben", "name": "b", "scopes": ["read", "write"]}
    made = await service.call(ann, "create_api_key", args)
    assert made["user_id"] == "ben"
    listed = await service.call(ben, "list_my_api_keys", {})
    assert [k["key_id"] for k in listed] == [made["key_id"]]
    with pytest.raises(PermissionDeniedError):
        await service.call(ben, "list_api_keys", {"account_id": "acme", "user_id": "ann"})
    with pytest.raises(InvalidArgumentError):  # a USER's key cannot hold the admin scope
        await service.call(ann, "create_api_key", {**args, "name": "c", "scopes": ["admin"]})
    await service.call(ann, "delete_user", {"account_id": "acme", "user_id": "ben"})
    with pytest.raises(UnauthenticatedError):
        await service.auth.resolve_api_key(made["api_key"])
