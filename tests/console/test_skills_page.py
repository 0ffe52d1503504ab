"""The console's skills page: the list, one skill (secrets stay placeholders), and the import of
an MCP server's tools with the API's ROOT/dev rule.

The MCP server is ``tests.fakes.mcp_tools_server``: launched over stdio for ROOT's command
form, served over streamable HTTP on loopback for a user's URL form.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import OpenVikingConfig
from tests.console._console import BASE_URL, ROOT_KEY, console_client, create_user, sign_in
from tests.fakes.mcp_tools_server import serving_http
from tests.http_api._routes import result_of

REPO = Path(__file__).resolve().parents[2]
SECRET = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"
PLACEHOLDER = "{{ov_privacy:skill:deploy:secret_1}}"
DEPLOY = (
    "---\nname: deploy\ndescription: Deploy the site\ntags: [ops]\n---\n\n"
    f"# Deploy\n\nCall the API with {SECRET}.\n\n<script>alert('x')</script>\n"
)


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m tests.fakes...`` resolves from the working directory."""
    monkeypatch.chdir(REPO)


@contextmanager
def private_network_client(workspace: Path) -> Iterator[TestClient]:
    """api_key mode where URL imports may reach loopback (the fake MCP server)."""
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


def _add_deploy(client: TestClient, key: str) -> None:
    added = client.post("/api/v1/skills", json={"data": DEPLOY}, headers={"X-API-Key": key})
    assert result_of(added)["secrets_redacted"] == 1


def test_pages_need_a_sign_in(workspace: Path) -> None:
    with console_client(workspace) as client:
        for path in ("/console/skills", "/console/skills/deploy"):
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/console/login?next=")


def test_a_skill_shows_its_secret_as_the_stored_placeholder(workspace: Path) -> None:
    with console_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        _add_deploy(client, ann)
        # the API gives the owner the secret back: the page must not
        got = client.get("/api/v1/skills/deploy", headers={"X-API-Key": ann})
        assert SECRET in result_of(got)["content"]
        sign_in(client, ann)
        listing = client.get("/console/skills")
        assert listing.status_code == 200
        assert 'data-skill="deploy"' in listing.text
        assert "Deploy the site" in listing.text
        assert 'href="/console/skills/deploy"' in listing.text
        page = client.get("/console/skills/deploy")
        assert page.status_code == 200
        assert PLACEHOLDER in page.text
        assert SECRET not in page.text
        assert 'id="front-matter"' in page.text
        assert '<th scope="row">description</th><td>Deploy the site</td>' in page.text
        assert "<h1>Deploy</h1>" in page.text  # the body is rendered as Markdown
        assert "<script>alert" not in page.text  # raw HTML is escaped
        assert "&lt;script&gt;alert" in page.text
        assert "SKILL.md" in page.text  # the files list


def test_another_user_does_not_see_a_private_skill(workspace: Path) -> None:
    with console_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        ben = create_user(client, "acme", "ben")
        _add_deploy(client, ann)
        sign_in(client, ben)
        assert 'data-skill="deploy"' not in client.get("/console/skills").text
        missing = client.get("/console/skills/deploy")
        assert missing.status_code == 404
        assert SECRET not in missing.text


def test_root_gets_the_command_form_and_users_do_not(workspace: Path) -> None:
    with console_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        token = sign_in(client, ann)
        page = client.get("/console/skills")
        assert 'id="import-url-form"' in page.text
        assert 'id="import-command-form"' not in page.text
        command = {"mode": "command", "command": "echo hi"}
        refused = client.post("/console/skills/import", data=command, headers=_htmx(token))
        assert refused.status_code == 403
        assert "Only ROOT" in refused.text
        sign_in(client, ROOT_KEY)
        root_page = client.get("/console/skills")
        assert root_page.status_code == 200  # ROOT is not sent away from the skills page
        assert 'id="import-command-form"' in root_page.text


def _htmx(token: str) -> dict[str, str]:
    return {"X-CSRF-Token": token, "HX-Request": "true"}


def test_root_imports_by_command_and_sees_the_report(workspace: Path) -> None:
    with console_client(workspace) as client:
        token = sign_in(client, ROOT_KEY)
        command = f"{sys.executable} -m tests.fakes.mcp_tools_server --tools v1"
        form = {"mode": "command", "command": command}
        unsigned = client.post("/console/skills/import", data=form)
        assert unsigned.status_code == 403  # no CSRF token
        answer = client.post("/console/skills/import", data=form, headers=_htmx(token))
        assert answer.status_code == 200, answer.text
        assert 'id="import-report"' in answer.text
        assert "<html" not in answer.text  # a fragment for htmx
        assert 'data-outcome="added"' in answer.text
        assert '>search-web</a>, <a href="/console/skills/get-weather">get-weather<' in answer.text
        listing = client.get("/console/skills").text
        assert 'data-skill="search-web"' in listing
        assert "MCP: fake-tools" in listing
        assert "<code>search_web</code>" in listing  # the tool behind the skill
        # a plain form post (no htmx) renders the whole page with the report
        form["csrf_token"] = token
        again = client.post("/console/skills/import", data=form)
        assert again.status_code == 200
        assert 'data-outcome="unchanged"' in again.text
        assert 'id="skills-table"' in again.text


def test_a_user_imports_by_url_with_headers(workspace: Path) -> None:
    with (
        private_network_client(workspace) as client,
        serving_http("v2", require_header="X-Token: s3cret") as url,
    ):
        ann = create_user(client, "acme", "ann")
        token = sign_in(client, ann)
        no_header = client.post(
            "/console/skills/import", data={"mode": "url", "url": url}, headers=_htmx(token)
        )
        assert no_header.status_code >= 400
        assert 'id="import-report"' not in no_header.text
        form = {"mode": "url", "url": url, "headers": "X-Token: s3cret\n"}
        answer = client.post("/console/skills/import", data=form, headers=_htmx(token))
        assert answer.status_code == 200, answer.text
        assert 'data-outcome="added"' in answer.text
        assert "s3cret" not in answer.text
        listing = client.get("/console/skills").text
        assert "translate" in listing
        assert "s3cret" not in listing
        bad = {"mode": "url", "url": url, "headers": "no colon here"}
        refused = client.post("/console/skills/import", data=bad, headers=_htmx(token))
        assert refused.status_code == 400
        assert "Name: value" in refused.text


def test_a_user_url_import_may_not_reach_loopback(workspace: Path) -> None:
    with console_client(workspace) as client:
        token = sign_in(client, create_user(client, "acme", "ann"))
        form = {"mode": "url", "url": "http://127.0.0.1:9/mcp"}
        refused = client.post("/console/skills/import", data=form, headers=_htmx(token))
        assert 400 <= refused.status_code < 500
        assert 'id="import-report"' not in refused.text
