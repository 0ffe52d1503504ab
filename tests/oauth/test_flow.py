"""The OAuth flow of a remote MCP client against a live server: discovery, registration,
approval with PKCE, tokens, /mcp with the token, refresh, revocation, scopes and accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.oauth._flow import (
    REDIRECT,
    approve,
    authorize,
    code_of,
    exchange,
    live_server,
    mcp_call,
    pkce,
    register,
)


def _tokens(http: httpx.Client, api_key: str, scope: str | None = None) -> dict[str, Any]:
    client = register(http)
    verifier, challenge = pkce()
    code = code_of(approve(http, authorize(http, client, challenge, scope), api_key))
    answer = exchange(http, client, code, verifier)
    assert answer.status_code == 200, answer.text
    return {**answer.json(), "client": client}


def _tool(http: httpx.Client, token: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    answer = mcp_call(http, token, "tools/call", {"name": name, "arguments": arguments})
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()["result"]
    return result


def test_discovery_and_full_flow(workspace: Path) -> None:
    with live_server(workspace) as live:
        http = live.http
        # /mcp without credentials: 401 pointing at the protected-resource metadata
        bare = http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert bare.status_code == 401
        challenge = bare.headers["www-authenticate"]
        assert challenge.startswith("Bearer resource_metadata=")
        metadata_url = challenge.split('"')[1]
        assert metadata_url == f"{http.base_url}/.well-known/oauth-protected-resource/mcp"
        resource = http.get(metadata_url).json()
        assert resource["resource"] == f"{http.base_url}/mcp"
        assert http.get("/.well-known/oauth-protected-resource").json() == resource
        issuer = resource["authorization_servers"][0].rstrip("/")
        server = http.get("/.well-known/oauth-authorization-server").json()
        assert server["issuer"].rstrip("/") == issuer
        assert server["code_challenge_methods_supported"] == ["S256"]
        assert server["token_endpoint"] == f"{issuer}/oauth/token"
        assert set(server["scopes_supported"]) == {"read", "write", "admin"}

        tokens = _tokens(http, live.ann_key)
        access, refresh = tokens["access_token"], tokens["refresh_token"]
        assert tokens["token_type"] == "Bearer"
        assert 0 < tokens["expires_in"] <= 3600
        init = mcp_call(
            http,
            access,
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        )
        assert init.status_code == 200, init.text
        listed = mcp_call(http, access, "tools/list", {})
        assert "write" in {t["name"] for t in listed.json()["result"]["tools"]}
        wrote = _tool(
            http, access, "write", {"uri": "viking://resources/o.md", "content": "via oauth"}
        )
        assert not wrote.get("isError"), wrote
        # the token works on /api/v1 too, as ann
        bearer = {"Authorization": f"Bearer {access}"}
        me = http.get("/api/v1/system/status", headers=bearer)
        assert me.status_code == 200, me.text
        # a token cannot mint an API key (it would outlive the token)
        minted = http.post("/api/v1/keys", json={"name": "from-token"}, headers=bearer)
        assert minted.status_code == 403, minted.text
        assert minted.json()["error"]["details"]["reason"] == "oauth_token"

        # refresh rotates: the old refresh token and the old access token stop working
        client = tokens["client"]
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        }
        renewed = http.post("/oauth/token", data=form)
        assert renewed.status_code == 200, renewed.text
        new_access = renewed.json()["access_token"]
        assert renewed.json()["refresh_token"] != refresh
        again = http.post("/oauth/token", data=form)
        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"
        assert mcp_call(http, access, "tools/list", {}).status_code == 401
        assert mcp_call(http, new_access, "tools/list", {}).status_code == 200

        # revocation: the revoked token is refused
        revoke = {
            "token": new_access,
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        }
        assert http.post("/oauth/revoke", data=revoke).status_code == 200
        refused = mcp_call(http, new_access, "tools/list", {})
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]


def test_other_account_refused_and_key_revocation(workspace: Path) -> None:
    with live_server(workspace) as live:
        http = live.http
        ann = {"X-API-Key": live.ann_key}
        body = {"uri": "viking://user/ann/memories/secret.md", "content": "ann only"}
        assert http.post("/api/v1/content/write", json=body, headers=ann).status_code == 200
        # ben (another account) approves with his key: his token cannot read ann's data
        ben = _tokens(http, live.ben_key)["access_token"]
        read = _tool(http, ben, "read", {"uris": ["viking://user/ann/memories/secret.md"]})
        assert "ann only" not in str(read)
        via_api = http.get(
            "/api/v1/content/read",
            params={"uri": "viking://user/ann/memories/secret.md"},
            headers={"Authorization": f"Bearer {ben}"},
        )
        assert via_api.status_code in (403, 404)
        assert "ann only" not in via_api.text
        # a token approved with a named key dies with the key
        named = http.post("/api/v1/keys", json={"name": "conn", "scopes": ["read"]}, headers=ann)
        key = named.json()["result"]
        token = _tokens(http, key["api_key"])["access_token"]
        assert mcp_call(http, token, "tools/list", {}).status_code == 200
        gone = http.delete(f"/api/v1/keys/{key['key_id']}", headers=ann)
        assert gone.status_code == 200, gone.text
        assert mcp_call(http, token, "tools/list", {}).status_code == 401


def test_read_scope_cannot_write(workspace: Path) -> None:
    with live_server(workspace) as live:
        http = live.http
        ann = {"X-API-Key": live.ann_key}
        for how, source in (("scope", live.ann_key), ("key", None)):
            if source is None:
                named = http.post("/api/v1/keys", json={"name": "ro"}, headers=ann)
                source = named.json()["result"]["api_key"]
            tokens = _tokens(http, source, "read" if how == "scope" else None)
            assert tokens["scope"] == "read"
            uri = f"viking://resources/{how}.md"
            denied = _tool(http, tokens["access_token"], "write", {"uri": uri, "content": "x"})
            assert denied.get("isError")
            assert "scope" in str(denied["content"])
            found = http.get("/api/v1/content/read", params={"uri": uri}, headers=ann)
            assert found.status_code == 404
            listed = mcp_call(http, tokens["access_token"], "tools/list", {})
            assert listed.status_code == 200


def test_oauth_errors(workspace: Path) -> None:
    with live_server(workspace) as live:
        http = live.http
        client = register(http)
        verifier, challenge = pkce()
        code = code_of(approve(http, authorize(http, client, challenge), live.ann_key))
        wrong = exchange(http, client, code, "x" * 50)
        assert wrong.status_code == 400
        assert wrong.json()["error"] == "invalid_grant"
        bad_redirect = exchange(http, client, code, verifier, redirect_uri=REDIRECT + "x")
        assert bad_redirect.status_code == 400
        assert bad_redirect.json()["error"] == "invalid_request"
        assert exchange(http, client, code, verifier).status_code == 200
        reused = exchange(http, client, code, verifier)
        assert reused.status_code == 400
        assert reused.json()["error"] == "invalid_grant"
        unknown = exchange(http, {**client, "client_id": "nobody"}, code, verifier)
        assert unknown.status_code == 401
        assert unknown.json()["error"] == "invalid_client"
        # unregistered redirect URI at /authorize: an error shown, no redirect
        params = {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": "http://127.0.0.1:9/elsewhere",
            "code_challenge": challenge,
        }
        shown = http.get("/oauth/authorize", params=params)
        assert shown.status_code == 400
        assert shown.json()["error"] == "invalid_request"
        # a wrong API key keeps the page; the root key cannot approve
        consent = authorize(http, client, challenge)
        assert approve(http, consent, "not-a-key").status_code == 401
        assert approve(http, consent, "root-key-for-oauth-tests").status_code == 403
        # a form without the CSRF cookie pair is refused
        forged = httpx.post(
            f"{http.base_url}/oauth/consent",
            data={"request": "x", "csrf_token": "y", "api_key": live.ann_key, "action": "approve"},
        )
        assert forged.status_code == 403


def test_api_keys_still_work_on_mcp(workspace: Path) -> None:
    with live_server(workspace) as live:
        for headers in ({"X-API-Key": live.ann_key}, {"Authorization": f"Bearer {live.ann_key}"}):
            answer = live.http.post(
                "/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers={**headers, "Accept": "application/json, text/event-stream"},
            )
            assert answer.status_code == 200, answer.text
        wrong = live.http.post("/mcp", json={}, headers={"X-API-Key": "nope"})
        assert wrong.status_code == 401
        assert "resource_metadata=" in wrong.headers["www-authenticate"]
