"""Scoped keys on every surface: a read-only key is refused on every mutating HTTP route,
WebDAV verb and MCP tool (enumerated from the app's routes, the catalog and the tool
registry) with nothing changed; a prefix-restricted key sees nothing outside its prefix."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from mcp import Client

from http_api import create_app
from openviking_mcp import ContextService
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.scopes import SAFE_METHODS, request_scope
from openviking_mcp.mcp_server import build_mcp_server
from tests.http_api._routes import ROOT_KEY, config_for, result_of

_DAV_WRITES = ("PUT", "DELETE", "MKCOL", "MOVE")  # the verbs the WebDAV router serves


def _setup(client: TestClient) -> tuple[ContextService, dict[str, str], dict[str, str]]:
    service: ContextService = client.app.state.service  # type: ignore[attr-defined]
    assert client.portal is not None
    ann = client.portal.call(service.create_account, RequestContext.root(), "acme", "ann")
    main = {"X-API-Key": ann["user_key"]}
    for name in ("project-x/a.md", "project-y/b.md", "project-xy/c.md"):
        body = {"uri": f"viking://resources/{name}", "content": "alpha beta", "mode": "create"}
        result_of(client.post("/api/v1/content/write", json={**body, "wait": True}, headers=main))
    read = result_of(client.post("/api/v1/keys", json={"name": "ro"}, headers=main))
    return service, main, {"X-API-Key": read["api_key"]}


def _snapshot(client: TestClient, service: ContextService) -> Any:
    assert client.portal is not None
    root = RequestContext.root("acme")
    tree = client.portal.call(service.call, root, "tree", {"uri": "viking://", "node_limit": 5000})
    ann = client.portal.call(service.auth.local_context, "acme", "ann")
    keys = client.portal.call(service.call, ann, "list_my_api_keys", {})
    return tree, [k["key_id"] for k in keys]


def _mutating_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every non-GET route of the app's OpenAPI registry that is not a read."""
    found = []
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    for template, methods in paths.items():
        path = re.sub(r"\{[^}]+\}", "x", template)
        for method in methods:
            method = method.upper()
            if method not in SAFE_METHODS and request_scope(method, path) != "read":
                found.append((method, path))
    return found


def test_read_key_refused_on_every_mutating_route(workspace: Path) -> None:
    with TestClient(create_app(config_for(workspace, root_api_key=ROOT_KEY))) as client:
        service, _, read = _setup(client)
        before = _snapshot(client, service)
        routes = _mutating_routes(client)
        assert len(routes) > 40
        assert ("POST", "/api/v1/content/write") in routes
        for method, path in routes:
            answer = client.request(method, path, json={}, headers=read)
            if path.startswith("/api/"):
                assert answer.status_code == 403, (method, path, answer.text)
            else:  # the bot's routes answer 503 first while the bot is off
                assert answer.status_code >= 400, (method, path, answer.text)
        for method in _DAV_WRITES:
            answer = client.request(
                method,
                "/webdav/resources/project-x/a.md",
                content=b"changed",
                headers={**read, "Destination": "/webdav/resources/project-x/c.md"},
            )
            assert answer.status_code == 403, (method, answer.text)
        assert _snapshot(client, service) == before
        # reads still work with the read key
        found = result_of(client.post("/api/v1/search/find", json={"query": "alpha"}, headers=read))
        assert found["total"] >= 1


def _arguments(schema: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in schema.get("required", []):
        kind = schema["properties"].get(name, {}).get("type")
        values[name] = {"integer": 1, "number": 1, "boolean": True, "array": ["x"]}.get(
            kind, "viking://resources/project-x/new.md" if "uri" in name else "x"
        )
    return values


@pytest.mark.anyio
async def test_read_key_refused_on_every_mutating_mcp_tool(workspace: Path) -> None:
    with TestClient(create_app(config_for(workspace, root_api_key=ROOT_KEY))) as client:
        service, _, read = _setup(client)
        before = _snapshot(client, service)
        assert client.portal is not None
        reader = client.portal.call(service.auth.resolve_api_key, read["X-API-Key"])
    service = ContextService(config_for(workspace))
    await service.initialize()
    try:
        async with Client(build_mcp_server(service, caller=reader)) as mcp:
            tools = (await mcp.list_tools()).tools
            writers = [t for t in tools if not (t.annotations and t.annotations.read_only_hint)]
            assert {"write", "edit", "forget", "add_resource"} <= {t.name for t in writers}
            for tool in writers:
                result = await mcp.call_tool(tool.name, _arguments(tool.input_schema))
                assert result.is_error, tool.name
            denied = await mcp.call_tool(
                "write", {"uri": "viking://resources/project-x/n.md", "content": "x"}
            )
            assert "scope" in str(denied.content)
    finally:
        await service.close()
    with TestClient(create_app(config_for(workspace, root_api_key=ROOT_KEY))) as client:
        assert _snapshot(client, client.app.state.service)[0] == before[0]  # type: ignore[attr-defined]


def test_prefix_key_sees_nothing_outside(workspace: Path) -> None:
    with TestClient(create_app(config_for(workspace, root_api_key=ROOT_KEY))) as client:
        _, main, _ = _setup(client)
        body = {"name": "px", "uri_prefix": "viking://resources/project-x/"}
        px = {
            "X-API-Key": result_of(client.post("/api/v1/keys", json=body, headers=main))["api_key"]
        }
        answers = [
            client.post("/api/v1/search/find", json={"query": "alpha beta"}, headers=px),
            client.post(
                "/api/v1/search/grep", json={"uri": "viking://", "pattern": "alpha"}, headers=px
            ),
            client.post(
                "/api/v1/search/glob",
                json={"pattern": "**/*.md", "uri": "viking://resources/project-x"},
                headers=px,
            ),
            client.get(
                "/api/v1/fs/tree", params={"uri": "viking://resources/project-x"}, headers=px
            ),
            client.get("/api/v1/fs/ls", params={"uri": "viking://resources/project-x"}, headers=px),
        ]
        for answer in answers:
            assert answer.status_code in (200, 403), answer.text
            assert "project-y" not in answer.text
            assert "project-xy" not in answer.text  # a sibling sharing the prefix's letters
        assert [a.status_code for a in answers[2:]] == [200, 200, 200], answers[2].text
        assert "project-x/a.md" in answers[2].text
        for outside in ("viking://resources/project-y", "viking://resources", "viking://"):
            ls = client.get("/api/v1/fs/ls", params={"uri": outside}, headers=px)
            assert ls.status_code in (403, 404)
            assert "project-y/b.md" not in ls.text
        read = client.get(
            "/api/v1/content/read", params={"uri": "viking://resources/project-y/b.md"}, headers=px
        )
        assert read.status_code in (403, 404)
        # expired and revoked keys are 401 over HTTP too
        kid = result_of(client.get("/api/v1/keys", headers=main))[-1]["key_id"]
        result_of(client.delete(f"/api/v1/keys/{kid}", headers=main))
        assert (
            client.get(
                "/api/v1/fs/ls", params={"uri": "viking://resources/project-x"}, headers=px
            ).status_code
            == 401
        )
