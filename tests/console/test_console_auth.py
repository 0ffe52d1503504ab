"""The console's sign-in, CSRF and host guards, and its ROOT/tenant split."""

from __future__ import annotations

from pathlib import Path

from tests.console._console import (
    ROOT_KEY,
    console_client,
    create_user,
    csrf_of,
    sign_in,
)


def test_pages_need_a_sign_in_in_api_key_mode(workspace: Path) -> None:
    with console_client(workspace) as client:
        answer = client.get("/console/explorer", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/login?next=%2Fconsole%2Fexplorer"
        htmx = client.get("/console/explorer", headers={"HX-Request": "true"})
        assert htmx.headers["hx-redirect"].startswith("/console/login")
        assert client.get("/console", follow_redirects=False).headers["location"] == "/console/"


def test_a_wrong_key_is_refused_and_a_user_key_signs_in(workspace: Path) -> None:
    with console_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        page = client.get("/console/login")
        token = csrf_of(page.text)
        wrong = client.post("/console/login", data={"api_key": "nope", "csrf_token": token})
        assert wrong.status_code == 401
        assert 'id="login-error"' in wrong.text
        sign_in(client, ann)
        page = client.get("/console/explorer")
        assert page.status_code == 200
        assert "acme/ann" in page.text
        assert ann not in page.text  # the key is never written into a page
        cookie = next(c for c in client.cookies.jar if c.name == "ov_console_key")
        assert cookie.has_nonstandard_attr("HttpOnly")


def test_unsafe_requests_need_the_csrf_token(workspace: Path) -> None:
    with console_client(workspace) as client:
        token = sign_in(client, create_user(client, "acme", "ann"))
        refused = client.post("/console/logout")
        assert refused.status_code == 403
        assert "CSRF" in refused.text
        forged = client.post("/console/logout", headers={"X-CSRF-Token": "x" * 43})
        assert forged.status_code == 403
        cross = client.post(
            "/console/logout", headers={"X-CSRF-Token": token, "Origin": "http://evil.example"}
        )
        assert cross.status_code == 403
        ok = client.post("/console/logout", headers={"X-CSRF-Token": token}, follow_redirects=False)
        assert ok.status_code == 303
        assert client.get("/console/explorer", follow_redirects=False).status_code == 303


def test_a_loopback_server_answers_only_a_loopback_host(workspace: Path) -> None:
    with console_client(workspace, root_key=None) as client:
        assert client.get("/console/explorer").status_code == 200  # dev mode: no sign-in
        rebound = client.get("/console/explorer", headers={"Host": "attacker.example:1933"})
        assert rebound.status_code == 403
        assert client.get("/console/login", headers={"Host": "attacker.example"}).status_code == 403


def test_root_sees_only_the_admin_pages(workspace: Path) -> None:
    with console_client(workspace) as client:
        sign_in(client, ROOT_KEY)
        page = client.get("/console/admin")
        assert page.status_code == 200
        assert 'href="/console/explorer"' not in page.text
        tenant = client.get("/console/explorer", follow_redirects=False)
        assert tenant.status_code == 303
        assert tenant.headers["location"] == "/console/admin"


def test_pages_carry_a_strict_content_security_policy(workspace: Path) -> None:
    with console_client(workspace, root_key=None) as client:
        page = client.get("/console/explorer")
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "<script>" not in page.text  # no inline script
        for asset in ("/console/static/vendor/htmx.min.js", "/console/static/console.css"):
            assert client.get(asset).status_code == 200


def test_metrics_label_console_routes_with_their_whole_path(workspace: Path) -> None:
    with console_client(workspace, root_key=None) as client:
        assert client.get("/console/tasks/table").status_code == 200
        metrics = client.get("/metrics").text
        label = 'route="/console/tasks/table",status="200"'
        assert any(label in line for line in metrics.splitlines())
