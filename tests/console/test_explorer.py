"""The console's explorer: the tree, a node's tiers, actions and uploads, for the signed-in
user only."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from http_api import create_app
from tests.console._console import (
    BASE_URL,
    ROOT_KEY,
    console_client,
    create_user,
    csrf_of,
    sign_in,
)
from tests.http_api._routes import api_key, config_for, result_of

_GETS = (
    "/console/explorer",
    "/console/explorer/tree",
    "/console/explorer/children?uri=viking://resources",
    "/console/explorer/node?uri=viking://resources",
    "/console/explorer/download?uri=viking://resources",
    "/console/explorer/task?id=x",
)


def _upload(client: TestClient, token: str, files: dict[str, bytes], parent: str) -> Any:
    """Post ``files`` (relative path → bytes) as the page's script does."""
    parts = [("files", (path.rsplit("/", 1)[-1], data)) for path, data in files.items()]
    data = {"parent": parent, "paths": list(files)}
    return client.post(
        "/console/explorer/upload", files=parts, data=data, headers={"X-CSRF-Token": token}
    )


def _wait_tasks(client: TestClient, status_url: str) -> str:
    """Poll the task partial until the imports end; its final HTML."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = client.get(status_url, headers={"HX-Request": "true"})
        assert answer.status_code == 200, answer.text
        if 'data-state="running"' not in answer.text:
            assert answer.headers["hx-trigger-after-settle"] == "explorer-refresh"
            return answer.text
        assert "hx-trigger" not in answer.headers
        time.sleep(0.2)
    raise AssertionError("the imports did not finish")


def _write(client: TestClient, key: str, uri: str, content: str) -> None:
    body = {"uri": uri, "content": content, "wait": True}
    answer = client.post("/api/v1/content/write", json=body, headers=api_key(key))
    result_of(answer)


def test_every_route_needs_a_sign_in_and_root_is_sent_to_admin(workspace: Path) -> None:
    with console_client(workspace) as client:
        for path in _GETS:
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/console/login?next=")
        token = csrf_of(client.get("/console/login").text)
        for action in ("rename", "delete", "upload"):
            path = f"/console/explorer/{action}"
            assert client.post(path, follow_redirects=False).status_code == 403  # no CSRF token
            signed_out = client.post(path, headers={"X-CSRF-Token": token}, follow_redirects=False)
            assert signed_out.status_code == 303, path
            assert signed_out.headers["location"].startswith("/console/login?next=")
        sign_in(client, ROOT_KEY)
        for path in _GETS:
            answer = client.get(path, follow_redirects=False)
            assert answer.headers["location"] == "/console/admin", path


def test_the_page_shows_the_roots_and_folders_load_their_children(workspace: Path) -> None:
    with console_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        sign_in(client, ann)
        _write(client, ann, "viking://resources/guide/intro.md", "# Intro\n\nThe walrus guide.\n")
        page = client.get("/console/explorer")
        assert page.status_code == 200
        for root in ("viking://resources", "viking://agent", "viking://user"):
            assert f'data-uri="{root}"' in page.text
        assert 'id="dropzone"' in page.text
        assert 'id="upload-folder"' in page.text
        assert "webkitdirectory" in page.text
        assert "/console/static/explorer.js" in page.text
        # closed folders load lazily: the page does not hold their children yet
        assert "viking://resources/guide" not in page.text
        assert 'hx-trigger="toggle once"' in page.text
        kids = client.get("/console/explorer/children?uri=viking://resources")
        assert kids.status_code == 200
        assert 'data-uri="viking://resources/guide"' in kids.text
        assert kids.text.lstrip().startswith('<ul class="children">')
        shared = client.get("/console/explorer?uri=viking://resources/guide/intro.md")
        assert 'class="node selected" data-uri="viking://resources/guide/intro.md"' in shared.text
        assert 'id="tier-l2"' in shared.text
        assert "The walrus guide." in shared.text
        tree = client.get("/console/explorer/tree?uri=viking://resources/guide")
        assert 'data-uri="viking://resources/guide/intro.md"' in tree.text


def test_a_node_shows_its_three_tiers_relations_and_index_rows(workspace: Path) -> None:
    with console_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        sign_in(client, ann)
        _write(client, ann, "viking://resources/guide/intro.md", "# Intro\n\nThe walrus guide.\n")
        _write(client, ann, "viking://resources/guide/more.md", "# More\n\nOther text.\n")
        link = {
            "from_uri": "viking://resources/guide/intro.md",
            "to_uris": ["viking://resources/guide/more.md"],
            "reason": "follow-up reading",
        }
        result_of(client.post("/api/v1/relations/link", json=link, headers=api_key(ann)))
        node = client.get("/console/explorer/node?uri=viking://resources/guide/intro.md")
        assert node.status_code == 200
        html = node.text
        assert 'class="tiers"' in html
        for tier in ("tier-l0", "tier-l1", "tier-l2"):
            assert f'id="{tier}"' in html
        assert '<pre id="l2-text"># Intro\n\nThe walrus guide.\n</pre>' in html
        assert "viking://resources/guide/more.md" in html
        assert "follow-up reading" in html
        assert '<code id="index-model">hashing:v1-256</code>' in html
        assert '<span id="index-rows">1 row</span>' in html
        assert 'id="index-refreshed">never<' not in html
        # the selection moves out of band: the tree refresh and the upload target follow it
        assert 'id="selected-uri" name="uri" value="viking://resources/guide/intro.md"' in html
        assert '<code id="upload-target" hx-swap-oob="true">viking://resources/guide</code>' in html
        folder = client.get("/console/explorer/node?uri=viking://resources/guide")
        assert "L2 · listing" in folder.text
        assert "more.md</a>" in folder.text
        assert "(.ovpack zip)" in folder.text
        # a folder's own rows (L0 and L1), not those of the files below it
        assert '<span id="index-rows">2 rows</span>' in folder.text


def test_large_files_are_cut_and_binary_files_are_not_shown(workspace: Path) -> None:
    with console_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        token = sign_in(client, ann)
        big = "word " * 30_000  # 150,000 characters
        files = {"big.txt": big.encode(), "blob.bin": bytes(range(256))}
        answer = _upload(client, token, files, "")
        _wait_tasks(client, answer.json()["status_url"])
        node = client.get("/console/explorer/node?uri=viking://resources/big/big.txt")
        assert "Showing the first 100,000 of 150,000 characters" in node.text
        listed = client.get("/console/explorer/children?uri=viking://resources/blob")
        assert "blob.bin" in listed.text
        blob = client.get("/console/explorer/node?uri=viking://resources/blob/blob.bin")
        assert blob.status_code == 200
        assert "Binary file: download it" in blob.text


def test_another_users_space_is_neither_listed_nor_shown(workspace: Path) -> None:
    with console_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        ben = create_user(client, "acme", "ben")
        secret = "viking://user/ann/memories/diary.md"
        _write(client, ann, secret, "ann's private diary\n")
        sign_in(client, ben)
        users = client.get("/console/explorer/children?uri=viking://user")
        assert 'data-uri="viking://user/ben"' in users.text
        assert "viking://user/ann" not in users.text
        for path in (
            "/console/explorer/children?uri=viking://user/ann/memories",
            f"/console/explorer/node?uri={secret}",
            f"/console/explorer/download?uri={secret}",
        ):
            answer = client.get(path, headers={"HX-Request": "true"})
            assert answer.status_code == 403, path
            assert "diary" not in answer.text.replace(secret, "")
        page = client.get(f"/console/explorer?uri={secret}")
        assert page.status_code == 200
        assert 'data-status="403"' in page.text
        assert "private diary" not in page.text
        tree = client.get("/console/explorer/tree?uri=viking://user/ann/memories")
        assert tree.status_code == 200
        assert "viking://user/ann" not in tree.text


def test_download_sends_a_files_bytes_and_a_folder_as_a_zip(workspace: Path) -> None:
    with console_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        sign_in(client, ann)
        _write(client, ann, "viking://resources/guide/intro.md", "# Intro\n\nBytes.\n")
        file = client.get("/console/explorer/download?uri=viking://resources/guide/intro.md")
        assert file.status_code == 200
        assert file.content == b"# Intro\n\nBytes.\n"
        assert file.headers["content-disposition"] == "attachment; filename*=UTF-8''intro.md"
        folder = client.get("/console/explorer/download?uri=viking://resources/guide")
        assert folder.status_code == 200
        assert folder.headers["content-disposition"].endswith("guide.ovpack")
        with zipfile.ZipFile(io.BytesIO(folder.content)) as archive:
            assert archive.read("files/guide/intro.md") == b"# Intro\n\nBytes.\n"
        missing = client.get("/console/explorer/download?uri=viking://resources/nothing")
        assert missing.status_code == 404


def test_rename_and_delete_need_the_csrf_token_and_work(workspace: Path) -> None:
    with console_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        token = sign_in(client, ann)
        _write(client, ann, "viking://resources/guide/intro.md", "# Intro\n\nText.\n")
        old = {"uri": "viking://resources/guide/intro.md", "name": "start.md"}
        refused = client.post("/console/explorer/rename", data=old)
        assert refused.status_code == 403
        assert "CSRF" in refused.text
        htmx = {"X-CSRF-Token": token, "HX-Request": "true"}
        renamed = client.post("/console/explorer/rename", data=old, headers=htmx)
        assert renamed.status_code == 200, renamed.text
        assert 'data-uri="viking://resources/guide/start.md"' in renamed.text
        assert renamed.headers["hx-push-url"].endswith("guide%2Fstart.md")
        assert renamed.headers["hx-trigger-after-settle"] == "explorer-refresh"
        moved = client.get("/console/explorer/children?uri=viking://resources/guide")
        assert "start.md" in moved.text
        assert "intro.md" not in moved.text
        # The forms target their status line; a done change redraws the whole detail panel.
        assert renamed.headers["hx-retarget"] == "#detail"
        assert 'hx-target="#node-action-status"' in renamed.text
        assert '<div id="node-action-status"' in renamed.text
        bad = {"uri": "viking://resources/guide/start.md", "name": "a/b"}
        refused_name = client.post("/console/explorer/rename", data=bad, headers=htmx)
        assert refused_name.status_code == 400
        assert "hx-retarget" not in refused_name.headers  # the error stays in the status line
        assert 'role="alert"' in refused_name.text
        gone = {"uri": "viking://resources/guide"}
        assert client.post("/console/explorer/delete", data=gone).status_code == 403
        form = {**gone, "csrf_token": token}  # a plain form post: redirected to the parent
        deleted = client.post("/console/explorer/delete", data=form, follow_redirects=False)
        assert deleted.status_code == 303
        assert deleted.headers["location"] == "/console/explorer?uri=viking%3A%2F%2Fresources"
        listed = client.get("/console/explorer/children?uri=viking://resources")
        assert "viking://resources/guide" not in listed.text


def test_uploading_files_and_a_folder_imports_them(workspace: Path) -> None:
    with console_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        token = sign_in(client, ann)
        files = {
            "alpha.md": b"# Alpha\n\nThe zebra file.\n",
            "beta.txt": b"penguin notes\n",
            "proj/readme.md": b"# Project\n\nNested readme.\n",
            "proj/docs/deep/guide.md": b"# Guide\n\nDeep in the folder.\n",
        }
        assert _upload(client, "wrong", files, "viking://resources").status_code == 403
        answer = _upload(client, token, files, "viking://resources")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        roots = [t["root_uri"] for t in body["tasks"]]
        assert roots == [
            "viking://resources/alpha",
            "viking://resources/beta",
            "viking://resources/proj",
        ]
        final = _wait_tasks(client, body["status_url"])
        assert '<p id="task-status" class="ok">Import completed</p>' in final
        assert '<input type="hidden" name="open" value="viking://resources/proj">' in final
        deep = "viking://resources/proj/docs/deep/guide/guide.md"
        node = client.get(f"/console/explorer/node?uri={deep}")
        assert node.status_code == 200
        assert "Deep in the folder." in node.text
        alpha = client.get("/console/explorer/download?uri=viking://resources/alpha/alpha.md")
        assert alpha.content == b"# Alpha\n\nThe zebra file.\n"
        # into a chosen folder
        answer = _upload(client, token, {"more/gamma.md": b"# Gamma\n"}, "viking://resources/proj")
        assert answer.json()["tasks"][0]["root_uri"] == "viking://resources/proj/more"
        _wait_tasks(client, answer.json()["status_url"])
        # another user cannot follow these tasks
        sign_in(client, create_user(client, "acme", "ben"))
        assert client.get(body["status_url"]).status_code == 404


def test_bad_uploads_are_refused_with_a_json_error(workspace: Path) -> None:
    with console_client(workspace) as client:
        token = sign_in(client, create_user(client, "acme", "ann"))
        escape = _upload(client, token, {"../evil.md": b"x"}, "viking://resources")
        assert escape.status_code == 400
        assert "Invalid upload path" in escape.json()["error"]
        twice = client.post(
            "/console/explorer/upload",
            files=[("files", ("a.md", b"1")), ("files", ("a.md", b"2"))],
            data={"parent": "viking://resources", "paths": ["d/a.md", "d/a.md"]},
            headers={"X-CSRF-Token": token},
        )
        assert twice.status_code == 400
        assert "twice" in twice.json()["error"]
        outside = _upload(client, token, {"x.md": b"x"}, "viking://agent")
        assert outside.status_code == 400
        assert outside.json()["code"] == "INVALID_URI"
        none = client.post(
            "/console/explorer/upload",
            data={"parent": "viking://resources"},
            headers={"X-CSRF-Token": token},
        )
        assert none.status_code == 400


def test_uploads_have_the_upload_size_cap_not_the_body_cap(workspace: Path) -> None:
    config = config_for(workspace, root_api_key=ROOT_KEY, max_body_bytes=64 * 1024, max_upload_mb=1)
    with TestClient(create_app(config), base_url=BASE_URL) as client:
        token = sign_in(client, create_user(client, "acme", "ann"))
        text = b"A line of the manual.\n" * 8_000  # 176,000 bytes: over the body cap
        answer = _upload(client, token, {"manual.txt": text}, "viking://resources")
        assert answer.status_code == 200, answer.text
        _wait_tasks(client, answer.json()["status_url"])
        too_big = _upload(client, token, {"huge.txt": b"x" * (1024 * 1024 + 1)}, "")
        assert too_big.status_code == 413
