"""Importing a live MCP server's tools as skills: the client, refreshes, HTTP route and CLI.

The server is ``tests.fakes.mcp_tools_server``, a real ``MCPServer`` started over stdio (as a
child process) or over streamable HTTP (a uvicorn subprocess); nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import mcp.types as types
import pytest
from mcp import Client

from http_api import create_app
from openviking_mcp import ContextService, OpenVikingConfig, RequestContext
from openviking_mcp.contract.errors import InvalidArgumentError, NotFoundError, UnavailableError
from openviking_mcp.skills.mcp_source import _list_all, fetch_mcp_tools, server_id_for_url
from tests.fakes.mcp_tools_server import SERVER_NAME, build_server, serving_http
from tests.servers import exe, free_port

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[2]
SERVER = [sys.executable, "-m", "tests.fakes.mcp_tools_server"]
SERVER_ID = " ".join(SERVER)
V2 = {"FAKE_MCP_TOOLS": "v2"}
ROOT_KEY = "root-key-for-import-tests"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m tests.fakes...`` resolves from the working directory."""
    monkeypatch.chdir(REPO)


def _config(workspace: Path, **server: Any) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "server": server,
        }
    )


@pytest.fixture
async def svc(workspace: Path) -> AsyncIterator[ContextService]:
    service = ContextService(_config(workspace))
    await service.initialize()
    try:
        yield service
    finally:
        await service.close()


def _names(skills: list[dict[str, Any]]) -> list[str]:
    return [s["name"] for s in skills]


# -- the client: validation and pagination (no process) ---------------------------------------


def test_server_id_drops_credentials_query_and_fragment() -> None:
    url = "HTTPS://ann:pw@Tools.Example.com:8443/mcp/?token=abc#frag"
    assert server_id_for_url(url) == "https://tools.example.com:8443/mcp/"
    assert server_id_for_url("http://127.0.0.1/mcp") == "http://127.0.0.1/mcp"
    assert server_id_for_url("http://[::1]:9000/mcp?x=1") == "http://[::1]:9000/mcp"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "url"),
        ({"command": ["x"], "url": "http://127.0.0.1/mcp"}, "command"),
        ({"command": []}, "command"),
        ({"command": ["python"], "headers": {"X-Token": "t"}}, "headers"),
        ({"url": "ftp://127.0.0.1/mcp"}, "url"),
        ({"url": "http://127.0.0.1/mcp", "env": {"A": "1"}}, "env"),
        ({"url": "http://127.0.0.1/mcp", "headers": {"Bad Name": "v"}}, "headers"),
        ({"url": "http://127.0.0.1/mcp", "headers": {"X": "a\r\nInjected: 1"}}, "headers"),
        ({"url": "http://127.0.0.1/mcp", "timeout": 0}, "timeout"),
    ],
)
async def test_fetch_refuses_bad_requests(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        await fetch_mcp_tools(**kwargs)
    assert info.value.details["field"] == field


async def test_every_page_of_tools_list_is_read() -> None:
    server = build_server("v2")  # answers one tool per page
    async with Client(server, cache=None) as client:
        first = await client.list_tools(cache_mode="bypass")
        assert len(first.tools) == 1
        assert first.next_cursor is not None
        tools = await _list_all(client, "in-process")
    assert [t["name"] for t in tools] == ["search_web", "translate"]
    assert set(tools[0]) == {"name", "description", "inputSchema"}
    assert tools[0]["inputSchema"]["required"] == ["query"]


async def test_endless_pagination_is_an_error() -> None:
    server = build_server("v1")

    async def forever(ctx: Any, params: types.PaginatedRequestParams | None) -> Any:
        page = int(params.cursor) if params is not None and params.cursor else 0
        tools = await server.list_tools()
        return types.ListToolsResult(tools=tools[:1], next_cursor=str(page + 1))

    server._lowlevel_server.add_request_handler("tools/list", types.PaginatedRequestParams, forever)
    async with Client(server, cache=None) as client:
        with pytest.raises(UnavailableError) as info:
            await _list_all(client, "in-process")
    assert info.value.details["reason"] in ("too_many_tools", "endless_pagination")


# -- the client against real processes and sockets -------------------------------------------


@pytest.mark.slow
async def test_fetch_over_stdio_lists_all_tools_and_who_serves_them() -> None:
    listing = await fetch_mcp_tools(command=SERVER)
    assert listing.server == {
        "id": SERVER_ID,
        "transport": "stdio",
        "name": SERVER_NAME,
        "version": "1.2.3",
    }
    assert [t["name"] for t in listing.tools] == ["search_web", "get_weather"]
    schema = listing.tools[0]["inputSchema"]
    assert schema["properties"]["safe_search"]["enum"] == ["off", "moderate", "strict"]
    v2 = await fetch_mcp_tools(command=SERVER, env=V2)
    assert v2.server["id"] == SERVER_ID  # the environment is not part of the identity
    assert [t["name"] for t in v2.tools] == ["search_web", "translate"]


@pytest.mark.slow
async def test_unusable_servers_are_clear_errors() -> None:
    with pytest.raises(UnavailableError) as spawn:
        await fetch_mcp_tools(command=["no-such-mcp-server-program", "--stdio"])
    assert spawn.value.details["reason"] == "spawn_failed"
    assert "program not found" in spawn.value.message

    port = free_port()  # nothing listens there
    with pytest.raises(UnavailableError) as refused:
        await fetch_mcp_tools(url=f"http://127.0.0.1:{port}/mcp", timeout=10)
    assert refused.value.details["reason"] == "connection_failed"
    assert f"127.0.0.1:{port}" in refused.value.message

    crash = [sys.executable, "-c", "import sys; sys.exit('no config file given')"]
    with pytest.raises(UnavailableError) as closed:
        await fetch_mcp_tools(command=crash, timeout=20)
    assert closed.value.details["reason"] == "connection_closed"
    assert "no config file given" in closed.value.message

    silent = [sys.executable, "-c", "import time; time.sleep(60)"]
    with pytest.raises(UnavailableError) as slow:
        await fetch_mcp_tools(command=silent, timeout=1.5)
    assert slow.value.details["reason"] == "timeout"
    assert "did not answer within 1.5s" in slow.value.message


# -- importing and refreshing ----------------------------------------------------------------


@pytest.mark.slow
async def test_import_refresh_and_prune_over_stdio(svc: ContextService) -> None:
    ctx = svc.dev_context()
    before = _names(await svc.list_skills(ctx))

    first = await svc.import_mcp_server(ctx, command=SERVER, wait=True)
    assert first["server"]["id"] == SERVER_ID
    assert first["skills_root"] == "viking://user/default/skills"  # no target: the caller's
    assert (first["added"], first["updated"], first["unchanged"]) == (
        ["search-web", "get-weather"],
        [],
        [],
    )
    assert (first["removed"], first["errors"], first["pruned"]) == ([], [], False)

    skill = await svc.get_skill(ctx, "search-web")
    assert skill["uri"] == "viking://user/default/skills/search-web"
    content = skill["content"]
    assert "- **query** (string) (required): What to search for" in content
    assert '(one of: "off", "moderate", "strict"; default: "moderate")' in content
    assert "- **filters** (object | null) (optional): Result filters" in content
    assert skill["metadata"]["mcp"] == {
        "id": SERVER_ID,
        "transport": "stdio",
        "name": SERVER_NAME,
        "version": "1.2.3",
        "tool": "search_web",
    }
    hits = await svc.find(ctx, "current weather of a city", context_type="skill")
    assert any(
        h["uri"].startswith("viking://user/default/skills/get-weather") for h in hits["skills"]
    )

    # The same tools again: nothing is rewritten (no add, so no new task) or duplicated.
    tasks = len(await svc.list_tasks(ctx, limit=200))
    again = await svc.import_mcp_server(ctx, command=SERVER)
    assert again["unchanged"] == ["search-web", "get-weather"]
    assert again["added"] == again["updated"] == again["removed"] == again["errors"] == []
    assert len(await svc.list_tasks(ctx, limit=200)) == tasks
    assert sorted(_names(await svc.list_skills(ctx))) == sorted(
        [*before, "search-web", "get-weather"]
    )

    # v2: search_web changed, translate is new, get_weather is gone (reported, kept).
    v2 = await svc.import_mcp_server(ctx, command=SERVER, env=V2, wait=True)
    assert v2["updated"] == ["search-web"]
    assert v2["added"] == ["translate"]
    assert v2["removed"] == ["get-weather"]
    assert (v2["unchanged"], v2["pruned"], v2["errors"]) == ([], False, [])
    assert "get-weather" in _names(await svc.list_skills(ctx))
    updated = await svc.get_skill(ctx, "search-web")
    assert updated["description"] == "Search the web for current information"
    translate = (await svc.get_skill(ctx, "translate"))["content"]
    assert "- **options** (object) (required): Translation options" in translate
    assert "  - **formal** (boolean) (optional): Use the formal register" in translate
    assert '(one of: "en", "fr", "de")' in translate

    pruned = await svc.import_mcp_server(ctx, command=SERVER, env=V2, prune=True)
    assert pruned["removed"] == ["get-weather"]
    assert pruned["pruned"] is True
    assert pruned["unchanged"] == ["search-web", "translate"]
    with pytest.raises(NotFoundError):
        await svc.get_skill(ctx, "get-weather")
    assert sorted(_names(await svc.list_skills(ctx))) == sorted(
        [*before, "search-web", "translate"]
    )


@pytest.mark.slow
async def test_names_taken_by_other_skills_are_left_alone(svc: ContextService) -> None:
    ctx = svc.dev_context()
    hand_written = {"name": "get-weather", "description": "Ask the window", "content": "Look."}
    await svc.add_skill(ctx, hand_written)
    mine = (await svc.get_skill(ctx, "get-weather"))["content"]

    report = await svc.import_mcp_server(ctx, command=SERVER)
    assert report["added"] == ["search-web"]
    [error] = report["errors"]
    assert error["tool"] == "get_weather"
    assert error["name"] == "get-weather"
    assert error["reason"] == "name_taken"
    assert error["existing_source"] is None
    assert (await svc.get_skill(ctx, "get-weather"))["content"] == mine

    # Another server (another command line) offering search_web neither overwrites the first
    # server's skill nor counts it as its own to remove.
    other = [*SERVER, "--tools", "v2"]
    report = await svc.import_mcp_server(ctx, command=other, prune=True)
    assert report["added"] == ["translate"]
    assert [(e["name"], e["existing_source"]) for e in report["errors"]] == [
        ("search-web", SERVER_ID)
    ]
    assert report["removed"] == []
    kept = await svc.get_skill(ctx, "search-web")
    assert kept["metadata"]["mcp"]["id"] == SERVER_ID
    assert kept["description"] == "Search the web"


@pytest.mark.slow
async def test_shared_target_and_a_failed_import_changes_nothing(svc: ContextService) -> None:
    ctx = svc.dev_context()
    before = await svc.list_skills(ctx)
    with pytest.raises(UnavailableError):
        await svc.import_mcp_server(ctx, command=["no-such-mcp-server-program"])
    assert await svc.list_skills(ctx) == before

    shared = "viking://agent/skills"
    report = await svc.import_mcp_server(ctx, command=SERVER, target_uri=shared)
    assert report["skills_root"] == shared
    skill = await svc.get_skill(ctx, "search-web")
    assert skill["uri"] == f"{shared}/search-web"
    assert skill["scope"] == "agent"


@pytest.mark.slow
async def test_import_over_http_sends_headers_and_stores_no_secret(svc: ContextService) -> None:
    ctx = svc.dev_context()
    with serving_http("v1", require_header="X-Token: s3cret-value") as url:
        with pytest.raises(UnavailableError) as refused:
            await svc.import_mcp_server(ctx, url=url)
        assert refused.value.details["status"] == 401
        assert "HTTP 401" in refused.value.message

        port = url.split(":")[2].split("/")[0]
        noisy = f"http://ann:pw-value@127.0.0.1:{port}/mcp?token=query-value"
        report = await svc.import_mcp_server(ctx, url=noisy, headers={"X-Token": "s3cret-value"})
    assert report["server"] == {
        "id": url,
        "transport": "http",
        "name": SERVER_NAME,
        "version": "1.2.3",
    }
    assert report["added"] == ["search-web", "get-weather"]
    stored = [(await svc.get_skill(ctx, n))["content"] for n in report["added"]]
    for secret in ("s3cret-value", "pw-value", "query-value"):
        assert secret not in json.dumps(report)
        assert all(secret not in text for text in stored)
    assert all(f"id: {url}\n" in text for text in stored)


# -- HTTP route ------------------------------------------------------------------------------


async def _post(http: httpx.AsyncClient, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"X-API-Key": key} if key else {}
    return await http.post("/api/v1/skills/import-mcp", json=body, headers=headers)


@pytest.mark.slow
async def test_route_in_dev_mode_runs_a_command(workspace: Path) -> None:
    app = create_app(_config(workspace))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            response = await _post(http, {"command": SERVER, "wait": True})
            assert response.status_code == 200, response.text
            result = response.json()["result"]
            assert result["added"] == ["search-web", "get-weather"]
            assert result["server"]["id"] == SERVER_ID

            again = await _post(http, {"command": SERVER, "env": V2, "prune": True})
            assert again.status_code == 200, again.text
            assert again.json()["result"]["removed"] == ["get-weather"]

            for bad in ({}, {"command": SERVER, "url": "http://127.0.0.1:1/mcp"}, {"x": 1}):
                refused = await _post(http, bad)
                assert refused.status_code in (400, 422), bad
            port = free_port()
            down = await _post(http, {"url": f"http://127.0.0.1:{port}/mcp", "timeout": 10})
            assert down.status_code == 503
            assert down.json()["error"]["code"] == "UNAVAILABLE"


@pytest.mark.slow
async def test_route_with_keys_runs_commands_and_local_urls_only_for_root(workspace: Path) -> None:
    app = create_app(_config(workspace, root_api_key=ROOT_KEY))
    async with app.router.lifespan_context(app):
        service: ContextService = app.state.service
        created = await service.create_account(RequestContext.root(), "acme", "ann")
        key = created["user_key"]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            marker = workspace.parent / "ran-a-program"
            refused = await _post(http, {"command": ["touch", str(marker)]}, key)
            assert refused.status_code == 403
            assert refused.json()["error"]["code"] == "PERMISSION_DENIED"
            assert not await anyio.Path(marker).exists()

            with serving_http("v2", require_header="Authorization: Bearer t0k") as url:
                body = {"url": url, "headers": {"Authorization": "Bearer t0k"}}
                # A user key may not make the server reach its own network (loopback here).
                local = await _post(http, body, key)
                allowed = await _post(http, body, ROOT_KEY)
            assert local.status_code == 403, local.text
            assert local.json()["error"]["details"]["cause"] == "non_public_address"
            assert allowed.status_code == 200, allowed.text
            assert allowed.json()["result"]["added"] == ["search-web", "translate"]

            as_root = await _post(http, {"command": SERVER}, ROOT_KEY)
            assert as_root.status_code == 200, as_root.text


# -- CLI -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_import_mcp(tmp_path: Path) -> None:
    conf = tmp_path / "ov.conf"
    conf.write_text(
        json.dumps(
            {
                "storage": {"workspace": str(tmp_path / "data")},
                "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            }
        )
    )
    base = [exe("openviking-mcp"), "--config", str(conf), "-o", "json"]
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path / "home")}

    def cli(*args: str) -> tuple[int, Any]:
        done = subprocess.run(
            [*base, *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=120
        )
        return done.returncode, json.loads(done.stdout) if done.stdout.strip() else done.stderr

    code, report = cli("skills", "import-mcp", "--", *SERVER)
    assert code == 0, report
    assert report["added"] == ["search-web", "get-weather"]
    code, report = cli(
        "skills", "import-mcp", "--env", "FAKE_MCP_TOOLS=v2", "--prune", "--", *SERVER
    )
    assert code == 0, report
    assert (report["updated"], report["added"], report["removed"]) == (
        ["search-web"],
        ["translate"],
        ["get-weather"],
    )
    code, error = cli("skills", "import-mcp")
    assert code == 1
    assert error["error"]["code"] == "INVALID_ARGUMENT"
    code, error = cli("skills", "import-mcp", "--url", f"http://127.0.0.1:{free_port()}/mcp")
    assert code == 1
    assert error["error"]["code"] == "UNAVAILABLE"
