"""`/api/v1/admin`: accounts, users, roles and keys over REST (api_key mode and dev mode)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import ContextService
from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.storage.index import IndexFilter
from tests.http_api._routes import api_key, config_for, error_of, result_of

BASE = "/api/v1/admin"
ROOT_KEY = "root-secret-key-for-admin-tests"


ROOT = api_key(ROOT_KEY)


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    with TestClient(create_app(config_for(workspace, root_api_key=ROOT_KEY))) as c:
        yield c


def _service(client: TestClient) -> ContextService:
    service: ContextService = client.app.state.service  # type: ignore[attr-defined]
    return service


def _create_account(client: TestClient, account: str = "acme", admin: str = "ann") -> str:
    created = result_of(
        client.post(
            f"{BASE}/accounts", json={"account_id": account, "admin_user_id": admin}, headers=ROOT
        )
    )
    assert created["account_id"] == account
    assert created["admin_user_id"] == admin
    key: str = created["user_key"]
    return key


def test_accounts_create_list_and_duplicates(client: TestClient) -> None:
    ann = _create_account(client)
    assert ann.count(".") == 2  # b64(account).b64(user).b64(secret)
    dup = error_of(
        client.post(
            f"{BASE}/accounts", json={"account_id": "acme", "admin_user_id": "x"}, headers=ROOT
        ),
        409,
    )
    assert dup["code"] == "ALREADY_EXISTS"
    listed = {a["account_id"]: a for a in result_of(client.get(f"{BASE}/accounts", headers=ROOT))}
    assert listed["acme"]["user_count"] == 1
    assert "default" in listed
    assert listed["acme"]["created_at"]
    # bad input
    bad = error_of(
        client.post(
            f"{BASE}/accounts", json={"account_id": "_sys", "admin_user_id": "x"}, headers=ROOT
        ),
        400,
    )
    assert bad["code"] == "INVALID_ARGUMENT"
    missing = error_of(client.post(f"{BASE}/accounts", json={"account_id": "z"}, headers=ROOT), 400)
    assert missing["details"]["validation_errors"][0]["loc"][-1] == "admin_user_id"
    extra = {"account_id": "z", "admin_user_id": "y", "seed": "s"}
    seeded = error_of(client.post(f"{BASE}/accounts", json=extra, headers=ROOT), 501)
    assert seeded["details"] == {"field": "seed"}  # keys are random, never derived from a seed
    # an account's ADMIN is not ROOT
    for response in (
        client.get(f"{BASE}/accounts", headers=api_key(ann)),
        client.post(
            f"{BASE}/accounts", json={"account_id": "b", "admin_user_id": "c"}, headers=api_key(ann)
        ),
        client.delete(f"{BASE}/accounts/acme", headers=api_key(ann)),
    ):
        assert error_of(response, 403)["code"] == "PERMISSION_DENIED"


def test_users_lifecycle_by_admin(client: TestClient) -> None:
    ann = api_key(_create_account(client))
    users = f"{BASE}/accounts/acme/users"
    bob = result_of(client.post(users, json={"user_id": "bob"}, headers=ann))
    assert bob["account_id"] == "acme"
    assert bob["user_id"] == "bob"
    assert bob["role"] == "user"
    assert bob["user_key"]
    result_of(client.post(users, json={"user_id": "bea", "role": "admin"}, headers=ann))
    result_of(client.post(users, json={"user_id": "carl"}, headers=ROOT))
    assert error_of(client.post(users, json={"user_id": "bob"}, headers=ann), 409)["code"] == (
        "ALREADY_EXISTS"
    )
    assert error_of(client.post(users, json={"user_id": "r", "role": "root"}, headers=ann), 403)
    assert error_of(client.post(users, json={"user_id": "r", "role": "boss"}, headers=ann), 400)

    listed = result_of(client.get(users, headers=ann))
    assert [u["user_id"] for u in listed] == ["ann", "bea", "bob", "carl"]
    assert all("user_key" not in u and u["key_prefix"] for u in listed)  # keys shown once only
    assert [
        u["user_id"] for u in result_of(client.get(users, params={"name": "b*"}, headers=ann))
    ] == [
        "bea",
        "bob",
    ]
    admins = result_of(client.get(users, params={"role": "admin"}, headers=ann))
    assert [u["user_id"] for u in admins] == ["ann", "bea"]
    assert len(result_of(client.get(users, params={"limit": 1}, headers=ann))) == 1
    error_of(client.get(users, params={"limit": 0}, headers=ann), 400)

    # a plain user cannot administer, and nobody administers another account
    bob_key = api_key(bob["user_key"])
    assert error_of(client.get(users, headers=bob_key), 403)["code"] == "PERMISSION_DENIED"
    other = _create_account(client, "other", "olga")
    error_of(client.get(users, headers=api_key(other)), 403)
    error_of(client.post(users, json={"user_id": "mole"}, headers=api_key(other)), 403)
    error_of(client.get(f"{BASE}/accounts/nope/users", headers=ROOT), 404)

    deleted = result_of(client.delete(f"{users}/bob", headers=ann))
    assert deleted == {"account_id": "acme", "user_id": "bob", "status": "deleted", "deleted": True}
    assert error_of(client.get("/api/v1/tasks", headers=bob_key), 401)["code"] == "UNAUTHENTICATED"
    error_of(client.delete(f"{users}/bob", headers=ann), 404)


def test_an_admin_promotes_and_root_also_demotes(client: TestClient) -> None:
    ann = api_key(_create_account(client))
    users = f"{BASE}/accounts/acme/users"
    result_of(client.post(users, json={"user_id": "bob"}, headers=ann))
    result_of(client.post(users, json={"user_id": "cat"}, headers=ann))
    refused = error_of(client.put(f"{users}/bob/role", json={"role": "boss"}, headers=ann), 400)
    assert refused["message"] == "set_user_role only supports promotion to admin"
    changed = result_of(client.put(f"{users}/bob/role", json={"role": "admin"}, headers=ann))
    assert changed == {"account_id": "acme", "user_id": "bob", "role": "admin"}
    demote = error_of(client.put(f"{users}/bob/role", json={"role": "user"}, headers=ann), 403)
    assert demote["details"]["required"] == "root"
    assert result_of(client.get(f"{users}/bob", headers=ann))["role"] == "admin"
    bob = result_of(client.get(f"{users}/bob", headers=ROOT))
    assert bob == {"user_id": "bob", "role": "admin"}
    demoted = result_of(client.put(f"{users}/bob/role", json={"role": "user"}, headers=ROOT))
    assert demoted["role"] == "user"
    other = api_key(_create_account(client, "other", "olga"))
    error_of(client.put(f"{users}/cat/role", json={"role": "admin"}, headers=other), 403)
    changed = result_of(client.put(f"{users}/bob/role", json={"role": "admin"}, headers=ROOT))
    assert changed == {"account_id": "acme", "user_id": "bob", "role": "admin"}
    assert error_of(client.put(f"{users}/bob/role", json={"role": "root"}, headers=ROOT), 403)
    assert error_of(client.put(f"{users}/bob/role", json={"role": "x"}, headers=ROOT), 400)
    assert error_of(client.put(f"{users}/bob/role", json={}, headers=ROOT), 400)
    assert error_of(client.put(f"{users}/zed/role", json={"role": "user"}, headers=ROOT), 404)


def test_regenerated_key_replaces_the_old_one(client: TestClient) -> None:
    ann = api_key(_create_account(client))
    users = f"{BASE}/accounts/acme/users"
    old = result_of(client.post(users, json={"user_id": "bob"}, headers=ann))["user_key"]
    result_of(client.get("/api/v1/tasks", headers=api_key(old)))
    new = result_of(client.post(f"{users}/bob/key", headers=ann))
    assert set(new) == {"user_key"}
    assert new["user_key"] != old
    assert error_of(client.get("/api/v1/tasks", headers=api_key(old)), 401)["code"] == (
        "UNAUTHENTICATED"
    )
    result_of(client.get("/api/v1/tasks", headers=api_key(new["user_key"])))
    again = result_of(client.post(f"{users}/bob/key", json={}, headers=ROOT))["user_key"]
    error_of(client.get("/api/v1/tasks", headers=api_key(new["user_key"])), 401)
    result_of(client.get("/api/v1/tasks", headers=api_key(again)))
    error_of(client.post(f"{users}/bob/key", json={"seed": "x"}, headers=ROOT), 501)
    error_of(client.post(f"{users}/ghost/key", headers=ROOT), 404)
    bob = api_key(again)
    error_of(client.post(f"{users}/ann/key", headers=bob), 403)


def test_delete_account_removes_data_and_vectors(client: TestClient) -> None:
    ann_key = _create_account(client)
    service = _service(client)
    for account, user in (("acme", "ann"), ("default", "default")):
        ctx = RequestContext(account, user, Role.ADMIN)
        write = functools.partial(
            service.write,
            ctx,
            "viking://resources/guide.md",
            "Roll back with the release tool.",
            mode="create",
            wait=True,
        )
        client.portal.call(write)  # type: ignore[union-attr]

    def vectors(account: str) -> int:
        count = functools.partial(service.store.index.count, IndexFilter(account_id=account))
        result: int = client.portal.call(count)  # type: ignore[union-attr]
        return result

    def stored(key: str) -> bool:
        result: bool = client.portal.call(service.store.content.exists, key)  # type: ignore[union-attr]
        return result

    assert vectors("acme") > 0
    assert stored("acme/resources/guide.md")
    kept = vectors("default")

    result = result_of(client.delete(f"{BASE}/accounts/acme", headers=ROOT))
    assert result == {"account_id": "acme", "status": "deleted", "deleted": True}
    assert vectors("acme") == 0
    assert not stored("acme")
    assert vectors("default") == kept > 0  # other accounts untouched
    assert stored("default/resources/guide.md")
    assert "acme" not in {
        a["account_id"] for a in result_of(client.get(f"{BASE}/accounts", headers=ROOT))
    }
    assert error_of(client.get("/api/v1/tasks", headers=api_key(ann_key)), 401)["code"] == (
        "UNAUTHENTICATED"
    )
    assert (
        error_of(client.delete(f"{BASE}/accounts/acme", headers=ROOT), 404)["code"] == "NOT_FOUND"
    )


def test_dev_mode_admin_is_the_default_accounts_admin(workspace: Path) -> None:
    with TestClient(create_app(config_for(workspace))) as client:
        denied = error_of(
            client.post(f"{BASE}/accounts", json={"account_id": "a", "admin_user_id": "b"}), 403
        )
        assert "server.root_api_key" in denied["message"]
        assert denied["details"]["auth_mode"] == "dev"
        assert "server.root_api_key" in error_of(client.get(f"{BASE}/accounts"), 403)["message"]
        users = f"{BASE}/accounts/default/users"
        created = result_of(client.post(users, json={"user_id": "eve"}))
        assert created["user_key"]  # dev mode: a key for later use in api_key mode
        assert [u["user_id"] for u in result_of(client.get(users))] == ["default", "eve"]
        assert result_of(client.put(f"{users}/eve/role", json={"role": "admin"}))["role"] == (
            "admin"
        )
        demote = error_of(client.put(f"{users}/eve/role", json={"role": "user"}), 403)
        assert demote["details"]["required"] == "root"
        assert result_of(client.post(f"{users}/eve/key"))["user_key"]
        assert result_of(client.delete(f"{users}/eve"))["deleted"] is True
        # another account is out of reach of the default account's admin
        error_of(client.get(f"{BASE}/accounts/elsewhere/users"), 403)


def test_get_user_shows_no_key(client: TestClient) -> None:
    ann = api_key(_create_account(client))
    users = f"{BASE}/accounts/acme/users"
    bob = result_of(client.post(users, json={"user_id": "bob"}, headers=ann))
    assert result_of(client.get(f"{users}/bob", headers=ann)) == {"user_id": "bob", "role": "user"}
    assert result_of(client.get(f"{users}/ann", headers=ROOT)) == {
        "user_id": "ann",
        "role": "admin",
    }
    assert error_of(client.get(f"{users}/ghost", headers=ann), 404)["code"] == "NOT_FOUND"
    error_of(client.get(f"{users}/ann", headers=api_key(bob["user_key"])), 403)
    other = api_key(_create_account(client, "other", "olga"))
    error_of(client.get(f"{users}/bob", headers=other), 403)


def test_groups_and_members(client: TestClient) -> None:
    ann = api_key(_create_account(client))
    users = f"{BASE}/accounts/acme/users"
    for user in ("bob", "bea"):
        result_of(client.post(users, json={"user_id": user}, headers=ann))
    groups = f"{BASE}/accounts/acme/groups"
    assert result_of(client.get(groups, headers=ann)) == []
    made = result_of(client.post(groups, json={"group_id": "eng"}, headers=ann))
    assert made == {"group_id": "eng", "member_count": 0}
    result_of(client.post(groups, json={"group_id": "art"}, headers=ROOT))
    assert error_of(client.post(groups, json={"group_id": "eng"}, headers=ann), 409)["code"] == (
        "ALREADY_EXISTS"
    )
    bad = error_of(client.post(groups, json={"group_id": "a/b"}, headers=ann), 400)
    assert bad["details"]["field"] == "group_id"
    error_of(client.post(groups, json={"group_id": "x", "members": []}, headers=ann), 400)
    error_of(client.post(groups, json={}, headers=ann), 400)

    members = f"{groups}/eng/members"
    assert result_of(client.put(f"{members}/bob", headers=ann)) == {"added": True}
    assert result_of(client.put(f"{members}/bob", headers=ann)) == {"added": True}  # idempotent
    result_of(client.put(f"{members}/ann", headers=ann))
    assert error_of(client.put(f"{members}/ghost", headers=ann), 404)["details"]["type"] == "user"
    assert error_of(client.put(f"{groups}/nope/members/bob", headers=ann), 404)
    listed = result_of(client.get(members, headers=ann))
    assert listed == {"group_id": "eng", "members": ["ann", "bob"]}
    assert result_of(client.get(groups, headers=ann)) == [
        {"group_id": "art", "member_count": 0},
        {"group_id": "eng", "member_count": 2},
    ]

    assert result_of(client.delete(f"{members}/ann", headers=ann)) == {"removed": True}
    assert result_of(client.delete(f"{members}/ann", headers=ann)) == {"removed": False}
    result_of(client.delete(f"{users}/bob", headers=ann))  # a deleted user leaves the group
    assert result_of(client.get(members, headers=ann))["members"] == []

    assert result_of(client.delete(f"{groups}/eng", headers=ann)) == {"deleted": True}
    error_of(client.delete(f"{groups}/eng", headers=ann), 404)
    error_of(client.get(f"{groups}/eng/members", headers=ann), 404)
    assert [g["group_id"] for g in result_of(client.get(groups, headers=ann))] == ["art"]


def test_groups_need_the_accounts_admin(client: TestClient) -> None:
    ann = api_key(_create_account(client))
    bea = result_of(
        client.post(f"{BASE}/accounts/acme/users", json={"user_id": "bea"}, headers=ann)
    )
    groups = f"{BASE}/accounts/acme/groups"
    result_of(client.post(groups, json={"group_id": "eng"}, headers=ann))
    olga = api_key(_create_account(client, "other", "olga"))
    user = api_key(bea["user_key"])
    for headers in (user, olga):
        assert error_of(client.get(groups, headers=headers), 403)["code"] == "PERMISSION_DENIED"
        error_of(client.post(groups, json={"group_id": "x"}, headers=headers), 403)
        error_of(client.put(f"{groups}/eng/members/bea", headers=headers), 403)
        error_of(client.delete(f"{groups}/eng", headers=headers), 403)
    error_of(client.get(f"{BASE}/accounts/nope/groups", headers=ROOT), 404)
    # deleting the account deletes its groups
    result_of(client.delete(f"{BASE}/accounts/acme", headers=ROOT))
    error_of(client.get(groups, headers=ROOT), 404)
    _create_account(client)
    assert result_of(client.get(groups, headers=ROOT)) == []
