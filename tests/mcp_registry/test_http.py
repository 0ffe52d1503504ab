"""The registry over HTTP in api_key mode: a user's URL server becomes skills, a refresh after
the server's tools changed updates exactly those skills, a server that is down shows an error
as its health, and the secret header never appears in an answer, the audit log, the event log
or the metadata database (only in the user's privacy config).

The MCP server is ``tests.fakes.mcp_tools_server`` over streamable HTTP on loopback (the
config allows private networks so that a user key may reach it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import ContextService, OpenVikingConfig, RequestContext
from tests.http_api._routes import api_key, error_of, result_of
from tests.mcp_registry._fake import REPO, serving_on
from tests.servers import free_port

ROOT_KEY = "root-key-for-registry-tests"
SECRET = "reg-s3cret-token"
TOKEN_A = f"Bearer {SECRET}-A1"
TOKEN_B = f"Bearer {SECRET}-B2"
SERVER = [sys.executable, "-m", "tests.fakes.mcp_tools_server"]
P = "/api/v1/mcp-servers"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m tests.fakes...`` resolves from the working directory."""
    monkeypatch.chdir(REPO)


def _config(workspace: Path) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "allow_private_networks": True,
            "server": {"root_api_key": ROOT_KEY},
        }
    )


def _keys(client: TestClient) -> tuple[dict[str, str], dict[str, str]]:
    """Headers of ann (ADMIN of acme) and ben (USER of acme)."""
    service: ContextService = client.app.state.service  # type: ignore[attr-defined]
    assert client.portal is not None
    ann = client.portal.call(service.create_account, RequestContext.root(), "acme", "ann")
    ann_ctx = client.portal.call(service.auth.resolve_api_key, ann["user_key"])
    ben = client.portal.call(service.create_user, ann_ctx, "acme", "ben")
    return api_key(ann["user_key"]), api_key(ben["user_key"])


def _skills(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    listed = result_of(client.get("/api/v1/skills", headers=headers))
    items = listed["skills"] if isinstance(listed, dict) else listed
    return {s["name"]: s for s in items}


def _files_holding(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


class _Seen:
    """Every answer body of the test, to check that no secret was ever answered."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, response: Any) -> Any:
        self.texts.append(response.text)
        return response


def _register_and_refuse(
    client: TestClient, seen: _Seen, url: str, ann: dict[str, str], ben: dict[str, str]
) -> str:
    """ben registers the server (the first import); what neither ben nor ann may do."""
    body = {"name": "tools", "url": url, "headers": {"Authorization": TOKEN_A}}
    registered = result_of(seen(client.post(P, json=body, headers=ben)))
    server = registered["server"]
    assert server["header_names"] == ["Authorization"]
    assert server["skills_root"] == "viking://user/ben/skills"
    assert server["source_id"] == url
    assert registered["report"]["added"] == ["search-web", "get-weather"]
    assert server["health"]["status"] == "ok"
    assert server["health"]["tool_count"] == 2
    assert server["health"]["added"] == ["search-web", "get-weather"]

    shared = {**body, "name": "shared", "target_uri": "viking://agent/skills"}
    error_of(seen(client.post(P, json=shared, headers=ben)), 403, "PERMISSION_DENIED")
    command = {"name": "cmd", "command": SERVER}
    error_of(seen(client.post(P, json=command, headers=ben)), 403, "PERMISSION_DENIED")
    error_of(seen(client.post(P, json=command, headers=ann)), 403, "PERMISSION_DENIED")
    taken = seen(client.post(P, json=body, headers=ben))
    error_of(taken, 409, "ALREADY_EXISTS")
    return str(server["server_id"])


def _who_sees(client: TestClient, seen: _Seen, server_id: str, ann: dict[str, str]) -> None:
    """ann (ADMIN) does not see ben's private server; ROOT does."""
    error_of(seen(client.get(f"{P}/{server_id}", headers=ann)), 404, "NOT_FOUND")
    assert result_of(seen(client.get(P, headers=ann))) == []
    root = api_key(ROOT_KEY)
    error_of(seen(client.get(f"{P}/{server_id}", headers=root)), 404, "NOT_FOUND")
    shown = seen(client.get(f"{P}/{server_id}?account_id=acme", headers=root))
    assert result_of(shown)["name"] == "tools"


def test_registry_over_http(workspace: Path) -> None:
    port = free_port()
    seen = _Seen()
    with TestClient(create_app(_config(workspace))) as client:
        ann, ben = _keys(client)
        note = {"name": "notes", "description": "Hand-written notes", "content": "Keep this."}
        result_of(client.post("/api/v1/skills", json={"data": note}, headers=ben))
        notes_before = _skills(client, ben)["notes"]
        with serving_on(port, "v1", require_header=f"Authorization: {TOKEN_A}") as url:
            server_id = _register_and_refuse(client, seen, url, ann, ben)
            listed = result_of(seen(client.get(P, headers=ben)))
            assert [s["server_id"] for s in listed] == [server_id]
            again = result_of(seen(client.post(f"{P}/{server_id}/refresh", headers=ben)))
            assert again["report"]["unchanged"] == ["search-web", "get-weather"]
        _who_sees(client, seen, server_id, ann)

        # The server is down: the refresh fails, and the health says why.
        down = seen(client.post(f"{P}/{server_id}/refresh", headers=ben))
        error_of(down, 503, "UNAVAILABLE")
        health = result_of(seen(client.get(f"{P}/{server_id}", headers=ben)))["health"]
        assert health["status"] == "error"
        assert f"127.0.0.1:{port}" in health["error"]
        assert health["tool_count"] == 2  # the last count seen is kept

        # New tools behind a new token at the same URL: replace the header, then refresh.
        patch = {"headers": {"Authorization": TOKEN_B}, "refresh_interval_seconds": 0}
        updated = result_of(seen(client.patch(f"{P}/{server_id}", json=patch, headers=ben)))
        assert updated["header_names"] == ["Authorization"]
        assert updated["refresh_interval_seconds"] == 0
        with serving_on(port, "v2", require_header=f"Authorization: {TOKEN_B}"):
            refreshed = result_of(seen(client.post(f"{P}/{server_id}/refresh", headers=ben)))
        report = refreshed["report"]
        assert (report["added"], report["updated"], report["removed"]) == (
            ["translate"],
            ["search-web"],
            ["get-weather"],
        )
        assert refreshed["server"]["health"]["status"] == "ok"
        skills = _skills(client, ben)
        assert {"search-web", "translate", "notes"} <= set(skills)
        assert "get-weather" not in skills
        assert skills["search-web"]["description"] == "Search the web for current information"
        assert skills["notes"] == notes_before

        _check_no_secret_logged(client, ann, workspace)
        removed = result_of(seen(client.delete(f"{P}/{server_id}?remove_skills=true", headers=ben)))
        assert sorted(removed["removed_skills"]) == ["search-web", "translate"]
        assert set(_skills(client, ben)) == {"notes", *_bundled(skills)}
        error_of(client.get(f"{P}/{server_id}", headers=ben), 404, "NOT_FOUND")
    assert _files_holding(workspace, SECRET.encode()) == []
    assert all(SECRET not in text for text in seen.texts)


def _bundled(skills: dict[str, dict[str, Any]]) -> set[str]:
    """The skills that were there besides ben's own (none, or the bundled ones)."""
    return {n for n in skills if n not in ("notes", "search-web", "translate")}


def _check_no_secret_logged(client: TestClient, admin: dict[str, str], workspace: Path) -> None:
    """The header is in ben's privacy config only: not in the audit log, the event log or any
    byte of the metadata database."""
    service: ContextService = client.app.state.service  # type: ignore[attr-defined]
    assert client.portal is not None
    client.portal.call(service.store.audit.flush)
    audit = client.get("/api/v1/audit/logs?limit=500", headers=admin)
    operations = {e["operation"] for e in result_of(audit)["entries"]}
    assert {"register_mcp_server", "update_mcp_server", "refresh_mcp_server"} <= operations
    assert SECRET not in audit.text
    events = client.get("/api/v1/events/log?limit=1000", headers=admin)
    assert events.status_code == 200, events.text
    assert SECRET not in events.text
    meta = workspace / "meta"
    assert list(meta.glob("openviking.sqlite3*"))
    assert _files_holding(meta, SECRET.encode()) == []
    holding = _files_holding(workspace, TOKEN_B.encode())
    assert holding, "the header is kept in the privacy config"
    assert all("privacy/mcp-servers/" in p.as_posix() for p in holding)
    assert not any(TOKEN_A.encode() in p.read_bytes() for p in holding if "current" in p.name)


def test_command_servers_are_for_root_only(workspace: Path) -> None:
    """In api_key mode a user's key may not register a command; ROOT may (without secrets,
    having no user space to keep them in), into an account's shared skills, which the account's
    ADMIN then manages too."""
    with TestClient(create_app(_config(workspace))) as client:
        ann, ben = _keys(client)
        body = {"name": "local", "command": SERVER, "account_id": "acme"}
        error_of(client.post(P, json=body, headers=ben), 403, "PERMISSION_DENIED")
        root = api_key(ROOT_KEY)
        secret_env = {**body, "env": {"FAKE_MCP_TOOLS": "v2"}}
        error_of(client.post(P, json=secret_env, headers=root), 400, "INVALID_ARGUMENT")
        registered = result_of(client.post(P, json=body, headers=root))
        assert registered["report"]["added"] == ["search-web", "get-weather"]
        assert registered["server"]["command"] == SERVER
        server = registered["server"]
        assert (server["skills_root"], server["account_id"]) == ("viking://agent/skills", "acme")
        assert json.dumps(registered).count("FAKE_MCP_TOOLS") == 0
        # The account's shared servers: its ADMIN sees them, a USER does not.
        assert [s["name"] for s in result_of(client.get(P, headers=ann))] == ["local"]
        assert result_of(client.get(P, headers=ben)) == []
        error_of(client.get(f"{P}/{server['server_id']}", headers=ben), 404, "NOT_FOUND")
        renamed = client.patch(f"{P}/{server['server_id']}", json={"name": "x"}, headers=ann)
        assert result_of(renamed)["name"] == "x"
