"""The console's admin pages: who may open them, accounts, users, roles and keys."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.console._console import ROOT_KEY, console_client, create_user, csrf_of, sign_in
from tests.http_api._routes import api_key

_KEY = re.compile(r'<code id="new-key-value">([^<]+)</code>')
_HTMX = {"HX-Request": "true"}


def _new_key(html: str) -> str:
    """The key a page shows once."""
    found = _KEY.search(html)
    assert found, "the answer shows no new key"
    assert 'id="new-key"' in html
    assert "will not be shown again" in html
    return found.group(1)


def _works(client: TestClient, key: str) -> bool:
    """Whether ``key`` authenticates on the API (200) or is refused (401)."""
    status = client.get("/api/v1/system/status", headers=api_key(key)).status_code
    assert status in (200, 401)
    return status == 200


def _as(client: TestClient, key: str) -> dict[str, str]:
    """Sign ``client`` in with ``key`` (dropping the previous sign-in); the CSRF header."""
    client.cookies.clear()
    return {"X-CSRF-Token": sign_in(client, key)}


def test_admin_pages_need_a_sign_in_and_the_admin_role(workspace: Path) -> None:
    with console_client(workspace) as client:
        create_user(client, "acme", "ann")
        ben = create_user(client, "acme", "ben")
        for path in ("/console/admin", "/console/admin/accounts/acme"):
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/console/login?next=")
        csrf = _as(client, ben)
        refused = client.get("/console/admin")
        assert refused.status_code == 403
        assert 'data-status="403"' in refused.text
        assert "need the ROOT role or the ADMIN role" in refused.text
        assert client.get("/console/admin/accounts/acme").status_code == 403
        added = client.post(
            "/console/admin/accounts/acme/users", data={"user_id": "eve"}, headers=csrf | _HTMX
        )
        assert added.status_code == 403
        assert "<html" not in added.text  # an error fragment for htmx
        no_csrf = client.post("/console/admin/accounts/acme/users", data={"user_id": "eve"})
        assert no_csrf.status_code == 403
        assert "CSRF" in no_csrf.text


def test_root_creates_an_account_and_its_key_is_shown_once(workspace: Path) -> None:
    with console_client(workspace) as client:
        create_user(client, "acme", "ann")
        csrf = _as(client, ROOT_KEY)
        page = client.get("/console/admin")
        assert page.status_code == 200
        assert 'id="open-account-acme"' in page.text
        assert 'id="new-key"' not in page.text
        created = client.post(
            "/console/admin/accounts",
            data={"account_id": "beta", "admin_user_id": "bob"},
            headers=csrf | _HTMX,
        )
        assert created.status_code == 200
        key = _new_key(created.text)
        assert 'id="accounts-table" hx-swap-oob="true"' in created.text
        assert 'id="open-account-beta"' in created.text
        assert _works(client, key)
        for later in ("/console/admin", "/console/admin/accounts/beta"):
            shown = client.get(later)
            assert shown.status_code == 200
            assert key not in shown.text
            assert 'id="new-key"' not in shown.text
        beta = client.get("/console/admin/accounts/beta")
        assert 'data-user="bob"' in beta.text
        again = client.post(
            "/console/admin/accounts",
            data={"account_id": "beta", "admin_user_id": "bob"},
            headers=csrf | _HTMX,
        )
        assert again.status_code == 409
        assert 'role="alert"' in again.text


def test_a_plain_form_post_answers_the_whole_page(workspace: Path) -> None:
    with console_client(workspace) as client:
        csrf = _as(client, ROOT_KEY)
        token = csrf["X-CSRF-Token"]
        created = client.post(
            "/console/admin/accounts",
            data={"account_id": "gamma", "admin_user_id": "gus", "csrf_token": token},
        )
        assert created.status_code == 200
        assert "<html" in created.text
        assert _works(client, _new_key(created.text))
        missing = client.post("/console/admin/accounts", data={"csrf_token": token})
        assert missing.status_code == 400
        assert "account_id" in missing.text


def test_an_admin_manages_only_its_own_account(workspace: Path) -> None:
    with console_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        create_user(client, "acme", "ben")
        create_user(client, "beta", "bob")
        csrf = _as(client, ann)
        own = client.get("/console/admin")
        assert own.status_code == 200
        assert 'data-user="ben"' in own.text
        assert 'id="open-account-beta"' not in own.text  # no account list for an ADMIN
        other = client.get("/console/admin/accounts/beta")
        assert other.status_code == 403
        assert "beta" in other.text
        for path in ("/console/admin/accounts/beta/users/bob/revoke", "/console/admin/accounts"):
            data = {"account_id": "x", "admin_user_id": "y"}
            assert client.post(path, data=data, headers=csrf | _HTMX).status_code == 403
        demoted = client.post(
            "/console/admin/accounts/acme/users/ann/role",
            data={"role": "user"},
            headers=csrf | _HTMX,
        )
        assert demoted.status_code == 403
        assert "ROOT" in demoted.text


def test_users_are_added_promoted_and_removed(workspace: Path) -> None:
    with console_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        csrf = _as(client, ann)
        base = "/console/admin/accounts/acme/users"
        added = client.post(base, data={"user_id": "cid", "role": "user"}, headers=csrf | _HTMX)
        assert added.status_code == 200
        cid = _new_key(added.text)
        assert 'id="users-table" hx-swap-oob="true"' in added.text
        assert 'data-user="cid"' in added.text
        assert _works(client, cid)
        duplicate = client.post(base, data={"user_id": "cid"}, headers=csrf | _HTMX)
        assert duplicate.status_code == 409
        assert "cid" in duplicate.text
        promoted = client.post(f"{base}/cid/role", data={"role": "admin"}, headers=csrf | _HTMX)
        assert promoted.status_code == 200
        assert "cid is now admin" in promoted.text
        assert 'class="badge role-admin">admin' in promoted.text
        removed = client.post(f"{base}/cid/delete", headers=csrf | _HTMX)
        assert removed.status_code == 200
        assert 'data-user="cid"' not in removed.text
        assert not _works(client, cid)
        gone = client.post(f"{base}/cid/delete", headers=csrf | _HTMX)
        assert gone.status_code == 404


def test_a_new_key_replaces_the_old_one_and_revoking_stops_it(workspace: Path) -> None:
    with console_client(workspace) as client:
        create_user(client, "acme", "ann")
        old = create_user(client, "acme", "ben")
        _as(client, old)
        assert client.get("/console/explorer").status_code == 200
        csrf = _as(client, ROOT_KEY)
        base = "/console/admin/accounts/acme/users/ben"
        issued = client.post(f"{base}/key", headers=csrf | _HTMX)
        assert issued.status_code == 200
        new = _new_key(issued.text)
        assert not _works(client, old)
        assert _works(client, new)
        assert new not in client.get("/console/admin/accounts/acme").text
        revoked = client.post(f"{base}/revoke", headers=csrf | _HTMX)
        assert revoked.status_code == 200
        assert 'id="new-key"' not in revoked.text
        assert "revoked" in revoked.text
        assert not _works(client, new)
        client.cookies.clear()
        refused = client.post(
            "/console/login", data={"api_key": new, "csrf_token": sign_in(client, ROOT_KEY)}
        )
        assert refused.status_code == 401


def test_a_revoked_key_signs_its_browser_out(workspace: Path) -> None:
    with console_client(workspace) as client:
        create_user(client, "acme", "ann")
        ben = create_user(client, "acme", "ben")
        _as(client, ben)
        ben_cookies = dict(client.cookies.items())
        csrf = _as(client, ROOT_KEY)
        revoked = client.post("/console/admin/accounts/acme/users/ben/revoke", headers=csrf)
        assert revoked.status_code == 200
        assert "<html" in revoked.text  # a plain post: the whole account page
        client.cookies.clear()
        client.cookies.update(ben_cookies)
        answer = client.get("/console/explorer", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/console/login")


def test_root_deletes_an_account(workspace: Path) -> None:
    with console_client(workspace) as client:
        create_user(client, "acme", "ann")
        bob = create_user(client, "beta", "bob")
        csrf = _as(client, ROOT_KEY)
        deleted = client.post("/console/admin/accounts/beta/delete", headers=csrf | _HTMX)
        assert deleted.status_code == 200
        assert "beta and all its data were deleted" in deleted.text
        assert 'id="open-account-beta"' not in deleted.text
        assert 'id="open-account-acme"' in deleted.text
        assert not _works(client, bob)
        missing = client.get("/console/admin/accounts/beta")
        assert missing.status_code == 404


def test_dev_mode_shows_the_default_account(workspace: Path) -> None:
    with console_client(workspace, root_key=None) as client:
        page = client.get("/console/admin")
        assert page.status_code == 200
        assert 'id="users-table"' in page.text
        assert 'id="add-user"' in page.text
        assert 'id="admin-dev-note"' in page.text  # keys take effect with a root key
        # the default user has no key: nothing to revoke, a new key can be issued
        assert 'id="revoke-key-default"' not in page.text
        assert 'id="new-key-default"' in page.text
        token = csrf_of(page.text)
        added = client.post(
            "/console/admin/accounts/default/users",
            data={"user_id": "bob"},
            headers={"X-CSRF-Token": token, "HX-Request": "true"},
        )
        assert added.status_code == 200
        assert 'id="revoke-key-bob"' in added.text  # bob has a key
