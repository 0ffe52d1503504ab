"""The named-key routes over HTTP: the admin form (``/api/v1/admin/accounts/{aid}/users/{uid}/
keys``) and the self-service form (``/api/v1/keys``), with who may use which."""

from __future__ import annotations

from pathlib import Path

from tests.http_api._routes import ROOT_KEY, api_key, error_of, keyed_client, result_of

KEYS = "/api/v1/admin/accounts/acme/users/{user}/keys"


def test_admin_creates_lists_and_revokes_a_users_key(workspace: Path) -> None:
    with keyed_client(workspace) as (client, ann, ben):
        made = result_of(
            client.post(
                KEYS.format(user="ben"), json={"name": "ci", "scopes": ["read"]}, headers=ann
            )
        )
        assert made["api_key"]
        assert made["scopes"] == ["read"]
        listed = result_of(client.get(KEYS.format(user="ben"), headers=ann))
        assert [(k["key_id"], k["name"]) for k in listed] == [(made["key_id"], "ci")]
        assert "api_key" not in listed[0]
        ci = api_key(made["api_key"])
        assert result_of(client.get("/api/v1/fs/ls", params={"uri": "viking://"}, headers=ci))
        write = {"uri": "viking://resources/x.md", "content": "x"}
        error_of(client.post("/api/v1/content/write", json=write, headers=ci), 403)
        # ben sees the key in his own list and may not manage ann's keys
        assert [k["key_id"] for k in result_of(client.get("/api/v1/keys", headers=ben))] == [
            made["key_id"]
        ]
        error_of(client.get(KEYS.format(user="ann"), headers=ben), 403, "PERMISSION_DENIED")
        error_of(client.post(KEYS.format(user="ann"), json={"name": "x"}, headers=ben), 403)
        # ROOT may manage any account's keys
        root = api_key(ROOT_KEY)
        assert len(result_of(client.get(KEYS.format(user="ben"), headers=root))) == 1
        revoked = result_of(
            client.delete(f"{KEYS.format(user='ben')}/{made['key_id']}", headers=ann)
        )
        assert revoked == {"key_id": made["key_id"], "revoked": True}
        error_of(client.get("/api/v1/fs/ls", params={"uri": "viking://"}, headers=ci), 401)
        assert result_of(client.get(KEYS.format(user="ben"), headers=ann)) == []


def test_self_service_keys_cannot_widen_the_callers_rights(workspace: Path) -> None:
    with keyed_client(workspace) as (client, _, ben):
        refused = client.post(
            "/api/v1/keys", json={"name": "boss", "scopes": ["admin"]}, headers=ben
        )
        error_of(refused, 400, "INVALID_ARGUMENT")
        made = result_of(client.post("/api/v1/keys", json={"name": "ro"}, headers=ben))
        narrow = api_key(made["api_key"])
        wider = client.post(
            "/api/v1/keys", json={"name": "rw", "scopes": ["write"]}, headers=narrow
        )
        error_of(wider, 403)
        gone = result_of(client.delete(f"/api/v1/keys/{made['key_id']}", headers=ben))
        assert gone["revoked"] is True
