"""MCP over streamable HTTP through the ASGI app: auth, identity, upload links, rebinding."""

from __future__ import annotations

import httpx2
import pytest

from http_api import create_app
from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.contract.identity import RequestContext
from tests.mcp_server.conftest import http_client_for, running, text_of

pytestmark = pytest.mark.anyio

_RPC_HEADERS = {"Accept": "application/json, text/event-stream"}
_LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


def _config(workspace: object, **server: object) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict({"storage": {"workspace": str(workspace)}, "server": server})


async def _raw_post(app: object, headers: dict[str, str]) -> httpx2.Response:
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:1933"
    ) as http:
        return await http.post("/mcp", json=_LIST_TOOLS, headers={**_RPC_HEADERS, **headers})


async def test_dev_mode_needs_no_key(config: OpenVikingConfig) -> None:
    app = create_app(config)
    async with running(app), http_client_for(app) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert {"find", "read", "write"} <= tools
        health = await client.call_tool("health", {})
        assert health.structured_content["identity"] == "default/default (admin)"
        written = await client.call_tool(
            "write", {"uri": "viking://resources/x.md", "content": "over http", "wait": True}
        )
        assert not written.is_error, text_of(written)
        read = await client.call_tool("read", {"uris": "viking://resources/x.md"})
        assert text_of(read) == "over http"


async def test_dev_mode_identity_headers(config: OpenVikingConfig) -> None:
    app = create_app(config)
    headers = {"X-OpenViking-Account": "team", "X-OpenViking-User": "zoe"}
    async with running(app), http_client_for(app, headers) as client:
        health = await client.call_tool("health", {})
        assert health.structured_content["identity"].startswith("team/zoe")


async def test_api_key_mode(workspace: object) -> None:
    app = create_app(_config(workspace, root_api_key="root-secret-1"))
    async with running(app):
        service: ContextService = app.state.service
        root = RequestContext.root(service.config.default_account)
        created = await service.create_account(root, "acme", "ann")
        key = created["user_key"]

        missing = await _raw_post(app, {})
        assert missing.status_code == 401
        body = missing.json()
        assert body["jsonrpc"] == "2.0"
        assert body["id"] is None
        assert body["error"]["code"] == -32001
        assert "API Key" in body["error"]["message"]

        wrong = await _raw_post(app, {"X-API-Key": key[:-2] + "xx"})
        assert wrong.status_code == 401

        async with http_client_for(app, {"Authorization": f"Bearer {key}"}) as client:
            health = await client.call_tool("health", {})
            assert health.structured_content["identity"] == "acme/ann (admin)"
            await client.call_tool(
                "write", {"uri": "viking://~/resources/n.md", "content": "mine", "wait": True}
            )
        async with http_client_for(
            app, {"X-API-Key": key, "X-OpenViking-Account": "default"}
        ) as client:
            # identity headers cannot override the key's identity in api_key mode
            health = await client.call_tool("health", {})
            assert health.structured_content["identity"] == "acme/ann (admin)"
            read = await client.call_tool("read", {"uris": "viking://user/ann/resources/n.md"})
            assert text_of(read) == "mine"


async def test_trusted_mode(workspace: object) -> None:
    app = create_app(_config(workspace, auth_mode="trusted", root_api_key="gateway-key"))
    async with running(app):
        no_key = await _raw_post(app, {"X-OpenViking-Account": "a", "X-OpenViking-User": "u"})
        assert no_key.status_code == 401
        no_user = await _raw_post(app, {"X-API-Key": "gateway-key"})
        assert no_user.status_code == 400
        root_role = await _raw_post(
            app,
            {
                "X-API-Key": "gateway-key",
                "X-OpenViking-Account": "a",
                "X-OpenViking-User": "u",
                "X-OpenViking-Role": "root",
            },
        )
        assert root_role.status_code == 403
        headers = {
            "X-API-Key": "gateway-key",
            "X-OpenViking-Account": "a",
            "X-OpenViking-User": "u",
            "X-OpenViking-Role": "user",
        }
        async with http_client_for(app, headers) as client:
            health = await client.call_tool("health", {})
            assert health.structured_content["identity"] == "a/u (user)"


async def test_dns_rebinding_is_refused_on_loopback(config: OpenVikingConfig) -> None:
    app = create_app(config)
    async with running(app):
        evil = await _raw_post(app, {"Host": "attacker.example"})
        assert evil.status_code in (403, 421)
        origin = await _raw_post(app, {"Origin": "http://attacker.example"})
        assert origin.status_code == 403
        fine = await _raw_post(app, {})
        assert fine.status_code == 200


async def test_add_resource_local_path_gives_a_one_shot_upload_link(
    config: OpenVikingConfig,
) -> None:
    app = create_app(config)
    async with running(app), http_client_for(app) as client:
        answer = await client.call_tool("add_resource", {"path": "/home/me/notes.md"})
        assert not answer.is_error
        structured = answer.structured_content
        assert structured["status"] == "upload_required"
        url = structured["upload_url"]
        assert url.startswith("http://127.0.0.1:1933/api/v1/resources/temp_upload?token=")
        assert 'curl -F "file=@/home/me/notes.md"' in text_of(answer)
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app)) as http:
            files = {"file": ("notes.md", b"# Notes\n\nThe wifi password is on the fridge.\n")}
            uploaded = await http.post(url, files=files)
            assert uploaded.status_code == 200, uploaded.text
            temp_id = uploaded.json()["result"]["temp_file_id"]
            reused = await http.post(url, files=files)
            assert reused.status_code == 401
        added = await client.call_tool("add_resource", {"temp_file_id": temp_id, "wait": True})
        assert text_of(added) == "Resource added: viking://resources/notes"
        found = await client.call_tool("find", {"query": "where is the wifi password"})
        assert "viking://resources/notes" in text_of(found)


async def test_public_base_url_precedence(
    config: OpenVikingConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(config)
    async with running(app):
        async with http_client_for(
            app, {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "ov.example.com"}
        ) as client:
            answer = await client.call_tool("add_resource", {"path": "./a.pdf"})
            assert answer.structured_content["upload_url"].startswith(
                "https://ov.example.com/api/v1/resources/temp_upload?token="
            )
        monkeypatch.setenv("OPENVIKING_PUBLIC_BASE_URL", "https://public.example/")
        async with http_client_for(app) as client:
            answer = await client.call_tool("add_resource", {"path": "./a.pdf"})
            assert answer.structured_content["upload_url"].startswith(
                "https://public.example/api/v1/resources/temp_upload?token="
            )


async def test_mcp_route_is_exact(config: OpenVikingConfig) -> None:
    app = create_app(config)
    async with (
        running(app),
        httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:1933"
        ) as http,
    ):
        put = await http.put("/mcp", json={})
        assert put.status_code == 405


async def test_add_skill_local_path_over_http_gets_an_upload_link(
    config: OpenVikingConfig,
) -> None:
    app = create_app(config)
    async with running(app), http_client_for(app) as client:
        answer = await client.call_tool("add_skill", {"path": "./my-skill.zip"})
        assert not answer.is_error, text_of(answer)
        assert answer.structured_content["status"] == "upload_required"
        assert "call add_skill again with temp_file_id" in text_of(answer)
        md = "---\nname: over-http\ndescription: Added over HTTP\n---\n\nBody.\n"
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app)) as http:
            url = answer.structured_content["upload_url"]
            uploaded = await http.post(url, files={"file": ("SKILL.md", md.encode())})
            temp_id = uploaded.json()["result"]["temp_file_id"]
        added = await client.call_tool("add_skill", {"temp_file_id": temp_id})
        assert text_of(added) == "Added skill over-http: viking://user/default/skills/over-http"
