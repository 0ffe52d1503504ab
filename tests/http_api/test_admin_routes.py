"""`/api/v1/admin`: accounts, users, roles and keys over REST (api_key mode and dev mode)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import ContextService
from openviking_mcp.identity import RequestContext, Role
from openviking_mcp.storage.index import IndexFilter
from tests.http_api._routes import config_for

BASE = "/api/v1/admin"
ROOT_KEY = "root-secret-key-for-admin-tests"


def _result(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "ok"
    return body["result"]


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error"
    error: dict[str, Any] = body["error"]
    return error


def _key(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


ROOT = _key(ROOT_KEY)


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    with TestClient(create_app(config_for(workspace, root_api_key=ROOT_KEY))) as c:
        yield c


def _service(client: TestClient) -> ContextService:
    service: ContextService = client.app.state.service  # type: ignore[attr-defined]
    return service


def _create_account(client: TestClient, account: str = "acme", admin: str = "ann") -> str:
    created = _result(
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
    dup = _error(
        client.post(
            f"{BASE}/accounts", json={"account_id": "acme", "admin_user_id": "x"}, headers=ROOT
        ),
        409,
    )
    assert dup["code"] == "ALREADY_EXISTS"
    listed = {a["account_id"]: a for a in _result(client.get(f"{BASE}/accounts", headers=ROOT))}
    assert listed["acme"]["user_count"] == 1
    assert "default" in listed
    assert listed["acme"]["created_at"]
    # bad input
    bad = _error(
        client.post(
            f"{BASE}/accounts", json={"account_id": "_sys", "admin_user_id": "x"}, headers=ROOT
        ),
        400,
    )
    assert bad["code"] == "INVALID_ARGUMENT"
    missing = _error(client.post(f"{BASE}/accounts", json={"account_id": "z"}, headers=ROOT), 400)
    assert missing["details"]["validation_errors"][0]["loc"][-1] == "admin_user_id"
    extra = {"account_id": "z", "admin_user_id": "y", "seed": "s"}
    _error(client.post(f"{BASE}/accounts", json=extra, headers=ROOT), 400)
    # an account's ADMIN is not ROOT
    for response in (
        client.get(f"{BASE}/accounts", headers=_key(ann)),
        client.post(
            f"{BASE}/accounts", json={"account_id": "b", "admin_user_id": "c"}, headers=_key(ann)
        ),
        client.delete(f"{BASE}/accounts/acme", headers=_key(ann)),
    ):
        assert _error(response, 403)["code"] == "PERMISSION_DENIED"


def test_users_lifecycle_by_admin(client: TestClient) -> None:
    ann = _key(_create_account(client))
    users = f"{BASE}/accounts/acme/users"
    bob = _result(client.post(users, json={"user_id": "bob"}, headers=ann))
    assert bob["account_id"] == "acme"
    assert bob["user_id"] == "bob"
    assert bob["role"] == "user"
    assert bob["user_key"]
    _result(client.post(users, json={"user_id": "bea", "role": "admin"}, headers=ann))
    _result(client.post(users, json={"user_id": "carl"}, headers=ROOT))
    assert _error(client.post(users, json={"user_id": "bob"}, headers=ann), 409)["code"] == (
        "ALREADY_EXISTS"
    )
    assert _error(client.post(users, json={"user_id": "r", "role": "root"}, headers=ann), 403)
    assert _error(client.post(users, json={"user_id": "r", "role": "boss"}, headers=ann), 400)

    listed = _result(client.get(users, headers=ann))
    assert [u["user_id"] for u in listed] == ["ann", "bea", "bob", "carl"]
    assert all("user_key" not in u and u["key_prefix"] for u in listed)  # keys shown once only
    assert [
        u["user_id"] for u in _result(client.get(users, params={"name": "b*"}, headers=ann))
    ] == [
        "bea",
        "bob",
    ]
    admins = _result(client.get(users, params={"role": "admin"}, headers=ann))
    assert [u["user_id"] for u in admins] == ["ann", "bea"]
    assert len(_result(client.get(users, params={"limit": 1}, headers=ann))) == 1
    _error(client.get(users, params={"limit": 0}, headers=ann), 400)

    # a plain user cannot administer, and nobody administers another account
    bob_key = _key(bob["user_key"])
    assert _error(client.get(users, headers=bob_key), 403)["code"] == "PERMISSION_DENIED"
    other = _create_account(client, "other", "olga")
    _error(client.get(users, headers=_key(other)), 403)
    _error(client.post(users, json={"user_id": "mole"}, headers=_key(other)), 403)
    _error(client.get(f"{BASE}/accounts/nope/users", headers=ROOT), 404)

    deleted = _result(client.delete(f"{users}/bob", headers=ann))
    assert deleted == {"account_id": "acme", "user_id": "bob", "deleted": True}
    assert _error(client.get("/api/v1/tasks", headers=bob_key), 401)["code"] == "UNAUTHENTICATED"
    _error(client.delete(f"{users}/bob", headers=ann), 404)


def test_role_changes_are_root_only(client: TestClient) -> None:
    ann = _key(_create_account(client))
    users = f"{BASE}/accounts/acme/users"
    _result(client.post(users, json={"user_id": "bob"}, headers=ann))
    assert _error(client.put(f"{users}/bob/role", json={"role": "admin"}, headers=ann), 403)
    changed = _result(client.put(f"{users}/bob/role", json={"role": "admin"}, headers=ROOT))
    assert changed == {"account_id": "acme", "user_id": "bob", "role": "admin"}
    assert _error(client.put(f"{users}/bob/role", json={"role": "root"}, headers=ROOT), 403)
    assert _error(client.put(f"{users}/bob/role", json={"role": "x"}, headers=ROOT), 400)
    assert _error(client.put(f"{users}/bob/role", json={}, headers=ROOT), 400)
    assert _error(client.put(f"{users}/zed/role", json={"role": "user"}, headers=ROOT), 404)


def test_regenerated_key_replaces_the_old_one(client: TestClient) -> None:
    ann = _key(_create_account(client))
    users = f"{BASE}/accounts/acme/users"
    old = _result(client.post(users, json={"user_id": "bob"}, headers=ann))["user_key"]
    _result(client.get("/api/v1/tasks", headers=_key(old)))
    new = _result(client.post(f"{users}/bob/key", headers=ann))
    assert set(new) == {"user_key"}
    assert new["user_key"] != old
    assert _error(client.get("/api/v1/tasks", headers=_key(old)), 401)["code"] == (
        "UNAUTHENTICATED"
    )
    _result(client.get("/api/v1/tasks", headers=_key(new["user_key"])))
    again = _result(client.post(f"{users}/bob/key", json={}, headers=ROOT))["user_key"]
    _error(client.get("/api/v1/tasks", headers=_key(new["user_key"])), 401)
    _result(client.get("/api/v1/tasks", headers=_key(again)))
    _error(client.post(f"{users}/bob/key", json={"seed": "x"}, headers=ROOT), 400)
    _error(client.post(f"{users}/ghost/key", headers=ROOT), 404)
    bob = _key(again)
    _error(client.post(f"{users}/ann/key", headers=bob), 403)


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
        count = functools.partial(service.index.count, IndexFilter(account_id=account))
        result: int = client.portal.call(count)  # type: ignore[union-attr]
        return result

    def stored(key: str) -> bool:
        result: bool = client.portal.call(service.store.exists, key)  # type: ignore[union-attr]
        return result

    assert vectors("acme") > 0
    assert stored("acme/resources/guide.md")
    kept = vectors("default")

    result = _result(client.delete(f"{BASE}/accounts/acme", headers=ROOT))
    assert result == {"account_id": "acme", "deleted": True}
    assert vectors("acme") == 0
    assert not stored("acme")
    assert vectors("default") == kept > 0  # other accounts untouched
    assert stored("default/resources/guide.md")
    assert "acme" not in {
        a["account_id"] for a in _result(client.get(f"{BASE}/accounts", headers=ROOT))
    }
    assert _error(client.get("/api/v1/tasks", headers=_key(ann_key)), 401)["code"] == (
        "UNAUTHENTICATED"
    )
    assert _error(client.delete(f"{BASE}/accounts/acme", headers=ROOT), 404)["code"] == "NOT_FOUND"


def test_dev_mode_admin_is_the_default_accounts_admin(workspace: Path) -> None:
    with TestClient(create_app(config_for(workspace))) as client:
        denied = _error(
            client.post(f"{BASE}/accounts", json={"account_id": "a", "admin_user_id": "b"}), 403
        )
        assert "server.root_api_key" in denied["message"]
        assert denied["details"]["auth_mode"] == "dev"
        assert "server.root_api_key" in _error(client.get(f"{BASE}/accounts"), 403)["message"]
        users = f"{BASE}/accounts/default/users"
        created = _result(client.post(users, json={"user_id": "eve"}))
        assert created["user_key"]  # dev mode: a key for later use in api_key mode
        assert [u["user_id"] for u in _result(client.get(users))] == ["default", "eve"]
        _error(client.put(f"{users}/eve/role", json={"role": "admin"}), 403)
        assert _result(client.post(f"{users}/eve/key"))["user_key"]
        assert _result(client.delete(f"{users}/eve"))["deleted"] is True
        # another account is out of reach of the default account's admin
        _error(client.get(f"{BASE}/accounts/elsewhere/users"), 403)
