"""The admin and auth services' typed surface: results as models, wire shapes as before."""

from __future__ import annotations

import pytest

from openviking_mcp import ContextService
from openviking_mcp.auth.credentials import Credentials
from openviking_mcp.contract.admin import (
    AccountRequest,
    CreateAccountRequest,
    CreateUserRequest,
    SetUserRoleRequest,
    UserInfo,
    UserRequest,
)
from openviking_mcp.contract.base import Empty, to_wire
from openviking_mcp.contract.errors import InvalidArgumentError, PermissionDeniedError
from openviking_mcp.contract.identity import RequestContext, Role

pytestmark = [pytest.mark.anyio, pytest.mark.both_backends]


async def test_accounts_and_users_round_trip(service: ContextService) -> None:
    root = RequestContext.root("default")
    admin = service.admin
    created = await admin.create_account(
        root, CreateAccountRequest(account_id="acme", admin_user_id="ann")
    )
    assert set(to_wire(created)) == {"account_id", "admin_user_id", "user_key"}
    ann = await service.auth.resolve_api_key(created.user_key)
    assert (ann.account_id, ann.user_id, ann.role) == ("acme", "ann", Role.ADMIN)
    ben = await admin.create_user(ann, CreateUserRequest(account_id="acme", user_id="ben"))
    assert ben.role == "user"
    users = await admin.list_users(ann, AccountRequest(account_id="acme"))
    assert all(isinstance(u, UserInfo) for u in users)
    assert [u.user_id for u in users] == ["ann", "ben"]
    promoted = await admin.set_user_role(
        ann, SetUserRoleRequest(account_id="acme", user_id="ben", role="admin")
    )
    assert to_wire(promoted) == {"account_id": "acme", "user_id": "ben", "role": "admin"}
    accounts = to_wire(await admin.list_accounts(root, Empty()))
    assert {a["account_id"]: a["user_count"] for a in accounts}["acme"] == 2
    gone = await admin.delete_user(ann, UserRequest(account_id="acme", user_id="ben"))
    assert to_wire(gone) == {
        "account_id": "acme",
        "user_id": "ben",
        "status": "deleted",
        "deleted": True,
    }


async def test_an_admin_promotes_but_only_root_demotes(service: ContextService) -> None:
    root = RequestContext.root("default")
    admin = service.admin
    created = await admin.create_account(
        root, CreateAccountRequest(account_id="acme", admin_user_id="ann")
    )
    ann = await service.auth.resolve_api_key(created.user_key)
    await admin.create_user(ann, CreateUserRequest(account_id="acme", user_id="ben"))

    def role(name: str) -> SetUserRoleRequest:
        return SetUserRoleRequest(account_id="acme", user_id="ben", role=name)

    with pytest.raises(InvalidArgumentError, match="only supports promotion to admin"):
        await admin.set_user_role(ann, role("superuser"))
    with pytest.raises(InvalidArgumentError):
        await admin.set_user_role(ann, role("root"))
    assert (await admin.set_user_role(ann, role("admin"))).role == "admin"
    with pytest.raises(PermissionDeniedError, match="needs the ROOT role") as denied:
        await admin.set_user_role(ann, role("user"))
    assert denied.value.details == {"required": "root", "role": "user"}
    assert (await admin.get_user(ann, UserRequest(account_id="acme", user_id="ben"))).role == (
        "admin"
    )
    assert (await admin.set_user_role(root, role("user"))).role == "user"
    # an ADMIN of another account promotes nobody here
    other = await admin.create_account(
        root, CreateAccountRequest(account_id="other", admin_user_id="olga")
    )
    olga = await service.auth.resolve_api_key(other.user_key)
    with pytest.raises(PermissionDeniedError):
        await admin.set_user_role(olga, role("admin"))
    assert (await admin.get_user(root, UserRequest(account_id="acme", user_id="ben"))).role == (
        "user"
    )


async def test_deletes_drop_the_stored_tags(service: ContextService) -> None:
    root = RequestContext.root("default")
    admin = service.admin
    created = await admin.create_account(
        root, CreateAccountRequest(account_id="acme", admin_user_id="ann")
    )
    ann = await service.auth.resolve_api_key(created.user_key)
    await admin.create_user(ann, CreateUserRequest(account_id="acme", user_id="ben"))
    ben = RequestContext("acme", "ben", Role.USER)
    mine, shared = "viking://user/ben/notes/a.md", "viking://resources/shared.md"
    await service.write(ben, mine, "ben's note", mode="create", wait=True)
    await service.write(ann, shared, "a shared note", mode="create", wait=True)
    await service.set_tags(ben, mine, ["team=core"])
    await service.set_tags(ann, shared, ["team=all"])
    tags = service.store.tags
    assert await tags.get("acme", mine) == ["team=core"]

    await admin.delete_user(ann, UserRequest(account_id="acme", user_id="ben"))
    assert await tags.under("acme", "viking://user/ben") == {}
    assert await tags.get("acme", shared) == ["team=all"]  # outside the user space: kept

    result = await admin.delete_account(root, AccountRequest(account_id="acme"))
    assert to_wire(result) == {"account_id": "acme", "status": "deleted", "deleted": True}
    assert await tags.under("acme", "viking://") == {}


async def test_embedded_identities_come_from_the_auth_service(service: ContextService) -> None:
    assert service.dev_context() == service.auth.dev_context()
    first = await service.auth.local_context("team", "amy")
    later = await service.local_context("team", "bob")
    assert (first.role, later.role) == (Role.ADMIN, Role.USER)
    # dev mode: no headers is the default ADMIN, headers name (and create) a user
    assert await service.auth.authenticate(Credentials()) == service.dev_context()
    named = await service.auth.authenticate(Credentials(account_id="team", user_id="cy"))
    assert (named.account_id, named.user_id, named.role) == ("team", "cy", Role.USER)
