"""REST authentication end to end: dev, api_key and trusted modes, the ROOT path restriction
and tenant isolation between keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from http_api import create_app
from http_api.auth import root_may_call
from http_api.deps import Caller
from openviking_mcp import OpenVikingConfig
from tests.http_api._routes import api_key, config_for, error_of, result_of

ROOT_KEY = "root-secret-key-for-auth-tests"
ROOT_DENIED = "ROOT API keys cannot access tenant-scoped data APIs"


def _app(config: OpenVikingConfig) -> FastAPI:
    """The app plus ``GET /api/v1/zz-whoami`` (the caller, authenticated like every data
    route: with ``Caller``); a ``GET /api/v1/fs/ls`` stand-in is added the same way if the
    filesystem routes are not there."""
    app = create_app(config)

    @app.get("/api/v1/zz-whoami")
    async def whoami(caller: Caller) -> dict[str, str]:
        return {"account_id": caller.account_id, "user_id": caller.user_id}

    if not any(getattr(r, "path", None) == "/api/v1/fs/ls" for r in app.router.routes):

        @app.get("/api/v1/fs/ls")
        async def ls(caller: Caller, uri: str) -> dict[str, str]:
            return {"account_id": caller.account_id, "user_id": caller.user_id}

    return app


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def api(workspace: Path) -> Iterator[TestClient]:
    with TestClient(_app(config_for(workspace, root_api_key=ROOT_KEY))) as c:
        yield c


def _new_account(client: TestClient, account: str, admin: str) -> str:
    body = {"account_id": account, "admin_user_id": admin}
    key: str = result_of(
        client.post("/api/v1/admin/accounts", json=body, headers=api_key(ROOT_KEY))
    )["user_key"]
    return key


# -- dev -----------------------------------------------------------------------------------


def test_dev_mode_needs_no_key(workspace: Path) -> None:
    with TestClient(_app(config_for(workspace))) as client:
        assert client.get("/health").json()["auth_mode"] == "dev"
        assert isinstance(result_of(client.get("/api/v1/tasks")), list)
        session = result_of(client.post("/api/v1/sessions", json={"session_id": "s"}))
        assert session["user"] == {"account_id": "default", "user_id": "default"}
        # identity headers pick another user (created on first use)
        other = {"X-OpenViking-User": "bob"}
        assert result_of(client.post("/api/v1/sessions", json={"session_id": "s"}, headers=other))[
            "user"
        ] == {"account_id": "default", "user_id": "bob"}
        error_of(client.get("/api/v1/tasks", headers={"X-OpenViking-User": "bad/name"}), 400)
        # a key is ignored in dev mode, never checked
        result_of(client.get("/api/v1/tasks", headers=api_key("anything")))


# -- api_key -------------------------------------------------------------------------------


def test_api_key_missing_or_bad_key_is_401(api: TestClient) -> None:
    missing = error_of(api.get("/api/v1/tasks"), 401)
    assert missing["code"] == "UNAUTHENTICATED"
    assert "Missing API Key" in missing["message"]
    for headers in (
        api_key("nope"),
        _bearer("nope"),
        api_key("YQ.Yg.Yw"),  # well-formed but unknown
        {"Authorization": "Basic abc"},
    ):
        assert error_of(api.get("/api/v1/tasks", headers=headers), 401)["code"] == "UNAUTHENTICATED"
    # no auth on the probes
    assert api.get("/health").status_code == 200
    assert api.get("/ready").status_code == 200


def test_api_key_header_and_bearer_both_work(api: TestClient) -> None:
    ann = _new_account(api, "acme", "ann")
    for headers in (api_key(ann), _bearer(ann)):
        assert (
            result_of(api.get("/api/v1/fs/ls", params={"uri": "viking://"}, headers=headers))
            is not None
        )
    made = result_of(api.post("/api/v1/sessions", json={"session_id": "s"}, headers=_bearer(ann)))
    assert made["user"] == {"account_id": "acme", "user_id": "ann"}
    # X-API-Key wins over Authorization
    both = {**api_key(ann), **_bearer("wrong")}
    assert result_of(api.get("/api/v1/sessions/s", headers=both))["session_id"] == "s"
    # identity headers cannot turn a key into someone else
    spoof = {**api_key(ann), "X-OpenViking-Account": "default", "X-OpenViking-User": "default"}
    assert result_of(api.get("/api/v1/sessions/s", headers=spoof))["user"]["account_id"] == "acme"


def test_root_is_limited_to_admin_tasks_and_system_routes(api: TestClient) -> None:
    for headers in (api_key(ROOT_KEY), _bearer(ROOT_KEY)):
        assert result_of(api.get("/api/v1/admin/accounts", headers=headers))
        assert isinstance(result_of(api.get("/api/v1/tasks", headers=headers)), list)
        denied = error_of(
            api.get("/api/v1/fs/ls", params={"uri": "viking://"}, headers=headers), 403
        )
        assert denied["code"] == "PERMISSION_DENIED"
        assert denied["message"].startswith(ROOT_DENIED)
        assert denied["details"]["resource"] == "/api/v1/fs/ls"
    root = api_key(ROOT_KEY)
    for method, path in (
        ("GET", "/api/v1/sessions"),
        ("POST", "/api/v1/sessions"),
        ("GET", "/api/v1/privacy-configs"),
        ("GET", "/api/v1/stats/memories"),
        ("GET", "/api/v1/skills"),
    ):
        error = error_of(api.request(method, path, headers=root), 403)
        assert error["message"].startswith(ROOT_DENIED), path


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/v1/system/status", True),
        ("/api/v1/system/wait", True),
        ("/api/v1/debug/health", True),
        ("/api/v1/admin", True),
        ("/api/v1/admin/accounts/x/users", True),
        ("/api/v1/observer/queue", True),
        ("/api/v1/tasks", True),
        ("/api/v1/tasks/abc", True),
        ("/api/v1/tasks/", True),
        ("/api/v1/skills/import-mcp", True),
        ("/api/v1/skills", False),
        ("/api/v1/skills/import-mcp/x", False),
        ("/api/v1/fs/ls", False),
        ("/api/v1/system/consistency", False),
        ("/api/v1/debug/vector/scroll", False),
        ("/api/v1/tasksx", False),
        ("/api/v1/administrator", False),
        ("/api/v1/sessions", False),
        ("/webdav/resources", False),
    ],
)
def test_root_may_call(path: str, allowed: bool) -> None:
    assert root_may_call(path) is allowed


def test_keys_never_cross_tenants(api: TestClient) -> None:
    ann = api_key(_new_account(api, "acme", "ann"))
    bob_made = api.post("/api/v1/admin/accounts/acme/users", json={"user_id": "bob"}, headers=ann)
    bob = api_key(result_of(bob_made)["user_key"])
    olga = api_key(_new_account(api, "other", "olga"))

    result_of(api.post("/api/v1/sessions", json={"session_id": "private"}, headers=ann))
    secret = {"values": {"token": "s3cr3t"}}
    result_of(api.post("/api/v1/privacy-configs/keys/github", json=secret, headers=ann))
    result_of(
        api.post(
            "/api/v1/sessions/private/messages", json={"role": "user", "content": "hi"}, headers=ann
        )
    )

    for intruder in (bob, olga):
        assert error_of(api.get("/api/v1/sessions/private", headers=intruder), 404)["code"] == (
            "NOT_FOUND"
        )
        error_of(api.get("/api/v1/stats/sessions/private", headers=intruder), 404)
        error_of(api.get("/api/v1/privacy-configs/keys/github", headers=intruder), 404)
        assert result_of(api.get("/api/v1/privacy-configs", headers=intruder)) == []
        assert result_of(api.get("/api/v1/sessions", headers=intruder)) == []
        # the admin API of someone else's account
        error_of(api.get("/api/v1/admin/accounts/acme/users", headers=olga), 403)
    # an account ADMIN cannot read its users' data either
    error_of(api.get("/api/v1/privacy-configs/keys/github", headers=api_key(ROOT_KEY)), 403)
    assert result_of(api.get("/api/v1/privacy-configs/keys/github", headers=ann))["current"][
        "values"
    ] == {"token": "s3cr3t"}


# -- trusted -------------------------------------------------------------------------------


def _who(client: TestClient, headers: dict[str, str]) -> Any:
    return client.get("/api/v1/zz-whoami", headers=headers).json()


def test_trusted_mode_with_root_key(workspace: Path) -> None:
    config = config_for(workspace, auth_mode="trusted", root_api_key=ROOT_KEY)
    with TestClient(_app(config)) as client:
        ident = {"X-OpenViking-Account": "acme", "X-OpenViking-User": "ann"}
        assert error_of(client.get("/api/v1/zz-whoami", headers=ident), 401)["code"] == (
            "UNAUTHENTICATED"
        )
        error_of(client.get("/api/v1/zz-whoami", headers={**ident, **api_key("wrong")}), 401)
        headers = {**ident, **api_key(ROOT_KEY)}
        assert _who(client, headers) == {"account_id": "acme", "user_id": "ann"}
        assert _who(client, {**ident, **_bearer(ROOT_KEY)})["user_id"] == "ann"
        # both identity headers are needed on data routes
        for partial in ({"X-OpenViking-Account": "acme"}, {"X-OpenViking-User": "ann"}, {}):
            error = error_of(
                client.get("/api/v1/zz-whoami", headers={**partial, **api_key(ROOT_KEY)}), 400
            )
            assert error["code"] == "INVALID_ARGUMENT"
        # parameters naming an identity must match the headers
        result_of(client.get("/api/v1/tasks", params={"account_id": "acme"}, headers=headers))
        mismatch = error_of(
            client.get("/api/v1/tasks", params={"account_id": "other"}, headers=headers), 400
        )
        assert mismatch["details"]["field"] == "account_id"
        error_of(client.get("/api/v1/tasks", params={"user_id": "zed"}, headers=headers), 400)
        error_of(client.get("/api/v1/admin/accounts/other/users", headers=headers), 400)
        # asserted roles
        error_of(
            client.get("/api/v1/zz-whoami", headers={**headers, "X-OpenViking-Role": "root"}), 403
        )
        # the root key alone on the admin API is ROOT; user keys are not handed out
        root = api_key(ROOT_KEY)
        made = result_of(
            client.post(
                "/api/v1/admin/accounts",
                json={"account_id": "newco", "admin_user_id": "nia"},
                headers=root,
            )
        )
        assert made == {"account_id": "newco", "admin_user_id": "nia"}
        assert "newco" in {
            a["account_id"] for a in result_of(client.get("/api/v1/admin/accounts", headers=root))
        }
        # ann (first user of acme, so its ADMIN) manages her own account, without keys
        user = result_of(
            client.post(
                "/api/v1/admin/accounts/acme/users", json={"user_id": "al"}, headers=headers
            )
        )
        assert "user_key" not in user


def test_trusted_mode_without_root_key_is_loopback_only(workspace: Path) -> None:
    config = config_for(workspace, auth_mode="trusted")
    ident = {"X-OpenViking-Account": "acme", "X-OpenViking-User": "ann"}
    with TestClient(_app(config)) as remote:  # client host "testclient"
        assert error_of(remote.get("/api/v1/zz-whoami", headers=ident), 403)["code"] == (
            "PERMISSION_DENIED"
        )
    with TestClient(_app(config), client=("127.0.0.1", 40000)) as local:
        assert _who(local, ident) == {"account_id": "acme", "user_id": "ann"}
        error_of(local.get("/api/v1/zz-whoami", headers={"X-OpenViking-User": "ann"}), 400)
        # no ROOT without a root key: account creation is refused
        body = {"account_id": "x", "admin_user_id": "y"}
        error_of(local.post("/api/v1/admin/accounts", json=body, headers=ident), 403)


def test_caller_is_cached_per_request(workspace: Path) -> None:
    app = _app(config_for(workspace))

    @app.get("/api/v1/zz-twice")
    async def twice(request: Request, first: Caller, second: Caller) -> dict[str, bool]:
        return {"same": first is second and request.state.caller is first}

    with TestClient(app) as client:
        assert client.get("/api/v1/zz-twice").json() == {"same": True}
