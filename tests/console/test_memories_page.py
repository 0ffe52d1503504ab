"""The console's memories pages: memories by category with version, sources and
``active_count``, one memory's history; another user of the account sees none of it."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from tests.console._console import ROOT_KEY, TEA, console_client, create_user, sign_in
from tests.console.test_sessions_page import commit_through_the_page, model_client
from tests.http_api._routes import api_key, result_of


def test_memories_pages_need_a_sign_in_and_a_tenant(workspace: Path) -> None:
    with console_client(workspace) as client:
        for path in ("/console/memories", "/console/memories/item?uri=viking://user/a/x.md"):
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/console/login?next=")
        sign_in(client, ROOT_KEY)
        root = client.get("/console/memories", follow_redirects=False)
        assert root.headers["location"] == "/console/admin"
        sign_in(client, create_user(client, "acme", "ann"))
        empty = client.get("/console/memories")
        assert empty.status_code == 200
        assert 'id="no-memories"' in empty.text
        assert "preferences (0)" in empty.text  # the memory service's categories


def test_memories_by_category_with_history_and_active_count(workspace: Path) -> None:
    with model_client(workspace) as client:
        ann_key = create_user(client, "acme", "ann")
        bob_key = create_user(client, "acme", "bob")
        token = sign_in(client, ann_key)
        commit_through_the_page(client, token, "tea", "I drink green tea daily.", "Noted.")
        page = client.get("/console/memories")
        assert page.status_code == 200
        group = page.text.split('<section class="memory-group" data-category="preferences">')[1]
        assert TEA in group.split("</section>", 1)[0]
        uri = re.search(r'<tr class="memory" data-uri="([^"]+)"', group)
        assert uri
        memory = uri.group(1)
        assert memory.startswith("viking://user/ann/memories/preferences/")
        assert '<td class="score" data-field="active_count">0</td>' in group
        assert f"/console/explorer?uri={quote(memory, safe='')}" in group

        # a later session records the memory as used: its commit raises active_count
        used = client.post(
            "/api/v1/sessions/tea-2/used", json={"contexts": [memory]}, headers=api_key(ann_key)
        )
        assert used.status_code == 404  # the session does not exist yet
        client.post("/console/sessions", data={"session_id": "tea-2", "csrf_token": token})
        result_of(
            client.post(
                "/api/v1/sessions/tea-2/used", json={"contexts": [memory]}, headers=api_key(ann_key)
            )
        )
        commit_through_the_page(client, token, "tea-2", "Green tea again today.", "Enjoy.")
        again = client.get("/console/memories")
        row = again.text.split(f'data-uri="{memory}"', 1)[1].split("</tr>", 1)[0]
        assert '<td class="score" data-field="active_count">1</td>' in row
        assert 'href="/console/sessions/tea"' in row  # its source session

        item = client.get(f"/console/memories/item?uri={quote(memory, safe='')}")
        assert item.status_code == 200
        assert TEA in item.text
        assert 'data-field="category">preferences<' in item.text
        assert '<li data-kind="add"' in item.text  # committed from session tea
        filtered = client.get("/console/memories?q=coffee")
        assert TEA not in filtered.text

        sign_in(client, bob_key)
        theirs = client.get("/console/memories")
        assert theirs.status_code == 200
        assert TEA not in theirs.text
        assert 'id="no-memories"' in theirs.text
        other = client.get(f"/console/memories/item?uri={quote(memory, safe='')}")
        assert other.status_code == 403
        assert TEA not in other.text
