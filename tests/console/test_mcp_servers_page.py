"""The console's MCP servers page: the list with each server's health, the register form (a
user by URL; the command form only for ROOT or dev mode), the refresh button (a server that is
down shows its error), removal, CSRF, and header values never on a page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import OpenVikingConfig
from tests.console._console import BASE_URL, ROOT_KEY, create_user, sign_in
from tests.mcp_registry._fake import REPO, serving_on
from tests.servers import free_port

TOKEN = "console-s3cret-header"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


@contextmanager
def _client(workspace: Path) -> Iterator[TestClient]:
    """api_key mode where a user's server may be on loopback (the fake MCP server)."""
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "allow_private_networks": True,
            "server": {"root_api_key": ROOT_KEY},
        }
    )
    with TestClient(create_app(config), base_url=BASE_URL) as client:
        yield client


def test_the_page_needs_a_sign_in_and_csrf(workspace: Path) -> None:
    with _client(workspace) as client:
        answer = client.get("/console/mcp-servers", follow_redirects=False)
        assert answer.status_code in (303, 307)
        assert "/console/login" in answer.headers["location"]
        key = create_user(client, "acme", "ann")
        sign_in(client, key)
        page = client.get("/console/mcp-servers")
        assert page.status_code == 200
        assert 'id="no-mcp-servers"' in page.text
        assert 'href="/console/mcp-servers"' in page.text  # in the navigation
        assert 'id="no-command"' in page.text  # a user key registers by URL only
        refused = client.post("/console/mcp-servers", data={"name": "x", "url": "http://a/mcp"})
        assert refused.status_code == 403


def test_register_refresh_and_remove(workspace: Path) -> None:
    port = free_port()
    with _client(workspace) as client:
        token = sign_in(client, create_user(client, "acme", "ann"))
        pages: list[str] = []
        with serving_on(port, "v1", require_header=f"X-Token: {TOKEN}") as url:
            form = {
                "csrf_token": token,
                "name": "tools",
                "mode": "url",
                "url": url,
                "headers": f"X-Token: {TOKEN}",
            }
            registered = client.post("/console/mcp-servers", data=form)
            assert registered.status_code == 200, registered.text
            pages.append(registered.text)
            assert 'data-health="ok"' in registered.text
            assert 'data-outcome="added"' in registered.text
            assert "headers: X-Token" in registered.text
            server_id = registered.text.split('data-server="mcp_', 1)[1].split('"', 1)[0]
            server_id = f"mcp_{server_id}"
            refreshed = client.post(
                f"/console/mcp-servers/{server_id}/refresh", data={"csrf_token": token}
            )
            assert refreshed.status_code == 200, refreshed.text
            assert 'data-outcome="unchanged"' in refreshed.text
            pages.append(refreshed.text)
        down = client.post(f"/console/mcp-servers/{server_id}/refresh", data={"csrf_token": token})
        assert down.status_code == 200, down.text
        assert 'id="refresh-error"' in down.text
        assert 'data-health="error"' in down.text
        pages.append(down.text)
        removed = client.post(
            f"/console/mcp-servers/{server_id}/delete",
            data={"csrf_token": token, "remove_skills": "true"},
            follow_redirects=True,
        )
        assert removed.status_code == 200
        assert 'id="no-mcp-servers"' in removed.text
        assert all(TOKEN not in page for page in pages)


def test_root_sees_the_command_form(workspace: Path) -> None:
    with _client(workspace) as client:
        sign_in(client, ROOT_KEY)
        page = client.get("/console/mcp-servers")
        assert page.status_code == 200
        assert 'id="register-command-form"' in page.text
        assert 'href="/console/mcp-servers"' in page.text
