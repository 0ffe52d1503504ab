"""What every console page shares: the 404 page of an unknown console path, the favicon, no
page snapshots in the browser's storage, and signing in on a dev-mode server."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.console._console import ROOT_KEY, console_client, create_user, csrf_of, sign_in

_HTMX_CONFIG = re.compile(r"<meta name=\"htmx-config\" content='([^']+)'>")


def test_an_unknown_console_path_is_the_consoles_404_page(workspace: Path) -> None:
    with console_client(workspace, root_key=None) as client:
        missing = client.get("/console/nope/deeper")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("text/html")
        assert 'data-status="404"' in missing.text
        assert "No console page at /console/nope/deeper" in missing.text
        assert 'href="/console/explorer"' in missing.text  # the navigation is there
        # the pages and the static files still answer
        assert client.get("/console/explorer").status_code == 200
        assert client.get("/console/static/console.css").status_code == 200
        assert client.get("/console/static/nope.css").status_code == 404
        # the API keeps its JSON errors
        assert client.get("/api/v1/nope").headers["content-type"].startswith("application/json")


def test_the_404_page_needs_a_sign_in_in_api_key_mode(workspace: Path) -> None:
    with console_client(workspace) as client:
        answer = client.get("/console/nope", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/login?next=%2Fconsole%2Fnope"
        sign_in(client, create_user(client, "acme", "ann"))
        assert client.get("/console/nope").status_code == 404


def test_pages_link_a_favicon_and_keep_no_snapshots_in_the_browser(workspace: Path) -> None:
    with console_client(workspace, root_key=None) as client:
        page = client.get("/console/explorer")
        icon = re.search(r'<link rel="icon" href="([^"]+)"', page.text)
        assert icon, "no favicon: browsers ask for /favicon.ico and log a 404"
        served = client.get(icon.group(1))
        assert served.status_code == 200
        assert served.headers["content-type"].startswith("image/svg+xml")
        config = _HTMX_CONFIG.search(page.text)
        assert config
        settings = json.loads(config.group(1))
        # Back/forward loads the page from the server (a deleted node is not shown again from
        # a snapshot) and no page HTML is kept in localStorage.
        assert settings["historyCacheSize"] == 0
        assert settings["refreshOnHistoryMiss"] is True


def test_dev_mode_offers_no_key_form_and_sets_no_key_cookie(workspace: Path) -> None:
    with console_client(workspace, root_key=None) as client:
        page = client.get("/console/login")
        assert page.status_code == 200
        assert 'id="dev-mode-note"' in page.text
        assert "default/default" in page.text
        assert 'id="api-key"' not in page.text
        token = csrf_of(page.text)
        answer = client.post(
            "/console/login",
            data={"api_key": "any-key", "csrf_token": token, "next": "/console/explorer"},
            follow_redirects=False,
        )
        assert answer.status_code == 400
        assert 'id="login-error"' in answer.text
        assert "keys are not checked" in answer.text
        assert "ov_console_key" not in answer.headers.get("set-cookie", "")


def test_api_key_mode_keeps_the_key_form(workspace: Path) -> None:
    with console_client(workspace, root_key=ROOT_KEY) as client:
        page = client.get("/console/login")
        assert 'id="api-key"' in page.text
        assert 'id="dev-mode-note"' not in page.text
