"""Who may manage webhooks, which URLs they may point at (the URL-import guard), and the
checks on what they hold."""

from __future__ import annotations

import pytest

from openviking_mcp import ContextService
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotFoundError,
    OpenVikingError,
    PermissionDeniedError,
)
from openviking_mcp.contract.identity import RequestContext

pytestmark = pytest.mark.anyio

PUBLIC = "http://93.184.215.14/hook"  # a literal public address: nothing is resolved


async def _people(service: ContextService) -> tuple[RequestContext, RequestContext]:
    made = await service.create_account(RequestContext.root(), "acme", "ann")
    ann = await service.auth.resolve_api_key(made["user_key"])
    ben_key = (await service.create_user(ann, "acme", "ben"))["user_key"]
    return ann, await service.auth.resolve_api_key(ben_key)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
    ],
)
async def test_private_addresses_are_refused_unless_allowed(
    service: ContextService, url: str
) -> None:
    ann, _ = await _people(service)
    with pytest.raises(PermissionDeniedError) as refused:
        await service.create_webhook(ann, url)
    assert refused.value.details["cause"] == "non_public_address"
    hook = await service.create_webhook(ann, PUBLIC)
    with pytest.raises(PermissionDeniedError):
        await service.update_webhook(ann, hook["webhook_id"], url=url)
    assert (await service.get_webhook(ann, hook["webhook_id"]))["url"] == PUBLIC


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "ftp://93.184.215.14/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": PUBLIC, "events": ["memory.changed", "nope"]}, "events"),
        ({"url": PUBLIC, "description": "x" * 501}, "description"),
    ],
)
async def test_bad_webhooks_are_refused_and_nothing_is_stored(
    service: ContextService, fields: dict[str, object], field: str
) -> None:
    ann, _ = await _people(service)
    with pytest.raises(InvalidArgumentError) as refused:
        await service.create_webhook(ann, **fields)
    assert refused.value.details["field"] == field
    assert await service.list_webhooks(ann) == []


async def test_only_admins_and_root_manage_webhooks(service: ContextService) -> None:
    ann, ben = await _people(service)
    hook = await service.create_webhook(ann, PUBLIC, events=["memory.changed"])
    assert hook["events"] == ["memory.changed"]
    for call in (
        service.list_webhooks(ben),
        service.create_webhook(ben, PUBLIC),
        service.get_webhook(ben, hook["webhook_id"]),
        service.delete_webhook(ben, hook["webhook_id"]),
        service.ping_webhook(ben, hook["webhook_id"]),
    ):
        with pytest.raises(PermissionDeniedError):
            await call
    other = await service.create_account(RequestContext.root(), "globex", "gus")
    gus = await service.auth.resolve_api_key(other["user_key"])
    with pytest.raises(NotFoundError):
        await service.get_webhook(gus, hook["webhook_id"])
    with pytest.raises(PermissionDeniedError):
        await service.list_webhooks(gus, account_id="acme")
    root = RequestContext.root()
    listed = await service.list_webhooks(root, account_id="acme")
    assert [h["webhook_id"] for h in listed] == [hook["webhook_id"]]
    assert await service.list_webhooks(gus) == []


async def test_scoped_keys_need_admin_scope_and_no_prefix(service: ContextService) -> None:
    ann, _ = await _people(service)
    writer = await service.create_my_api_key(ann, name="writer", scopes=["read", "write"])
    prefixed = await service.create_my_api_key(
        ann,
        name="project",
        scopes=["read", "write", "admin"],
        uri_prefix="viking://resources/project-x/",
    )
    for made in (writer, prefixed):
        key_ctx = await service.auth.resolve_api_key(made["api_key"])
        with pytest.raises(PermissionDeniedError):
            await service.create_webhook(key_ctx, PUBLIC)
    admin = await service.create_my_api_key(ann, name="ops", scopes=["admin", "read", "write"])
    admin_ctx = await service.auth.resolve_api_key(admin["api_key"])
    assert (await service.create_webhook(admin_ctx, PUBLIC))["url"] == PUBLIC


async def test_unknown_webhooks_are_not_found(service: ContextService) -> None:
    ann, _ = await _people(service)
    for call in (
        service.get_webhook(ann, "wh_missing"),
        service.update_webhook(ann, "wh_missing", description="x"),
        service.enable_webhook(ann, "wh_missing"),
        service.delete_webhook(ann, "wh_missing"),
        service.list_webhook_deliveries(ann, "wh_missing"),
    ):
        with pytest.raises(NotFoundError):
            await call
    with pytest.raises(OpenVikingError):
        await service.list_webhook_deliveries(ann, "wh_missing", limit=0)
