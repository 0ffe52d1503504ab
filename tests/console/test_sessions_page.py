"""The console's sessions pages: listing, adding messages, committing and the memory diff;
another user of the account sees none of it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import OpenVikingConfig
from tests.console._console import (
    BASE_URL,
    ROOT_KEY,
    TEA,
    console_client,
    create_user,
    extraction_chat,
    sign_in,
)
from tests.fakes import FakeOpenAIServer


@contextmanager
def model_client(
    workspace: Path, chat: Callable[[dict[str, Any]], str] = extraction_chat
) -> Iterator[TestClient]:
    """An api_key-mode app whose chat model is ``chat`` (:func:`extraction_chat`)."""
    with FakeOpenAIServer(chat) as model:
        config = OpenVikingConfig.from_dict(
            {
                "storage": {"workspace": str(workspace)},
                "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
                "server": {"root_api_key": ROOT_KEY},
                "vlm": {
                    "provider": "openai",
                    "model": "fake-chat",
                    "api_base": model.base_url,
                    "api_key": "sk-test",
                    "max_retries": 0,
                },
            }
        )
        with TestClient(create_app(config), base_url=BASE_URL) as client:
            yield client


def htmx(token: str) -> dict[str, str]:
    return {"HX-Request": "true", "X-CSRF-Token": token}


def wait_for_archive(client: TestClient, token: str, session: str, archive: str) -> str:
    """The archive's live partial once phase 2 has finished (polled as the page does)."""
    url = f"/console/sessions/{session}/archives/{archive}?live=true"
    deadline = time.monotonic() + 60
    while True:
        answer = client.get(url, headers=htmx(token))
        assert answer.status_code == 200, answer.text
        if 'data-status="pending"' not in answer.text:
            return answer.text
        assert time.monotonic() < deadline, "phase 2 did not finish"
        time.sleep(0.2)


def commit_through_the_page(client: TestClient, token: str, session: str, *lines: str) -> str:
    """Add ``lines`` (user, assistant, ...) and commit; the finished archive's partial."""
    for i, line in enumerate(lines):
        role = "user" if i % 2 == 0 else "assistant"
        added = client.post(
            f"/console/sessions/{session}/messages",
            data={"role": role, "content": line},
            headers=htmx(token),
        )
        assert added.status_code == 200, added.text
        assert line in added.text
    committed = client.post(f"/console/sessions/{session}/commit", headers=htmx(token))
    assert committed.status_code == 200, committed.text
    assert 'id="commit-accepted"' in committed.text
    assert 'hx-swap-oob="outerHTML"' in committed.text  # the live messages are emptied
    archive = committed.text.split('data-archive="', 1)[1].split('"', 1)[0]
    return wait_for_archive(client, token, session, archive)


def test_sessions_pages_need_a_sign_in_and_a_tenant(workspace: Path) -> None:
    with console_client(workspace) as client:
        for path in ("/console/sessions", "/console/sessions/s1"):
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/console/login?next=")
        sign_in(client, ROOT_KEY)
        root = client.get("/console/sessions", follow_redirects=False)
        assert root.status_code == 303
        assert root.headers["location"] == "/console/admin"


def test_create_add_and_skip_an_empty_commit(workspace: Path) -> None:
    with console_client(workspace) as client:
        token = sign_in(client, create_user(client, "acme", "ann"))
        empty = client.get("/console/sessions")
        assert empty.status_code == 200
        assert 'id="no-sessions"' in empty.text
        refused = client.post("/console/sessions", data={"session_id": "chat-1"})
        assert refused.status_code == 403  # no CSRF token
        made = client.post(
            "/console/sessions",
            data={"session_id": "chat-1", "csrf_token": token},
            follow_redirects=False,
        )
        assert made.status_code == 303
        assert made.headers["location"] == "/console/sessions/chat-1"
        skipped = client.post("/console/sessions/chat-1/commit", headers=htmx(token))
        assert 'id="commit-skipped" data-reason="no_messages"' in skipped.text
        plain = client.post(
            "/console/sessions/chat-1/messages",
            data={"role": "user", "content": "Hello **there**", "csrf_token": token},
            follow_redirects=False,
        )
        assert plain.status_code == 303
        page = client.get("/console/sessions/chat-1")
        assert page.status_code == 200
        assert '<div id="messages" data-count="1"' in page.text
        assert "<strong>there</strong>" in page.text  # the content as Markdown
        assert 'id="commit-session"' in page.text
        listed = client.get("/console/sessions")
        assert 'data-session="chat-1"' in listed.text
        assert "1 live · 1 total" in listed.text
        bad = client.post(
            "/console/sessions/chat-1/messages",
            data={"role": "robot", "content": "x"},
            headers=htmx(token),
        )
        assert bad.status_code == 400
        assert 'role="alert"' in bad.text
        missing = client.get("/console/sessions/nope")
        assert missing.status_code == 404


def test_a_commit_shows_its_memory_diff_and_stays_private(workspace: Path) -> None:
    with model_client(workspace) as client:
        ann_key = create_user(client, "acme", "ann")
        bob_key = create_user(client, "acme", "bob")
        token = sign_in(client, ann_key)
        done = commit_through_the_page(
            client, token, "tea", "I drink green tea every afternoon.", "Noted."
        )
        assert 'data-status="done"' in done
        assert 'id="memory-diff"' in done
        assert 'data-kind="add"' in done
        assert TEA in done
        assert "hx-trigger" not in done  # polling stops
        page = client.get("/console/sessions/tea")
        assert 'id="memory-diff-archive_001"' in page.text
        assert 'data-kind="add"' in page.text
        assert '<div id="messages" data-count="0"' in page.text  # all archived
        listed = client.get("/console/sessions")
        row = listed.text.split('data-session="tea"', 1)[1].split("</tr>", 1)[0]
        assert '<td class="score">1</td>' in row  # one commit

        sign_in(client, bob_key)
        theirs = client.get("/console/sessions")
        assert theirs.status_code == 200
        assert 'data-session="tea"' not in theirs.text
        assert client.get("/console/sessions/tea").status_code == 404
        archive = client.get("/console/sessions/tea/archives/archive_001", headers=htmx(token))
        assert archive.status_code == 404
        assert TEA not in archive.text
        commit = client.post("/console/sessions/tea/commit", headers=htmx(token))
        assert commit.status_code == 404


def _poll_archive(client: TestClient, token: str, url: str) -> list[Any]:
    """Every answer of the archive's partial, polled as the page does, until phase 2 ends."""
    answers = []
    deadline = time.monotonic() + 60
    while True:
        answer = client.get(url, headers=htmx(token))
        assert answer.status_code == 200, answer.text
        answers.append(answer)
        if 'data-status="pending"' not in answer.text:
            return answers
        assert time.monotonic() < deadline, "phase 2 did not finish"
        time.sleep(0.1)


def test_a_finished_archive_redraws_the_facts_and_the_archives(workspace: Path) -> None:
    with model_client(workspace) as client:
        ann_key = create_user(client, "acme", "ann")
        bob_key = create_user(client, "acme", "bob")
        token = sign_in(client, ann_key)
        page = client.get("/console/sessions/tea")
        assert page.status_code == 404  # not made yet
        client.post("/console/sessions", data={"session_id": "tea", "csrf_token": token})
        page = client.get("/console/sessions/tea")
        # both listen for the event of a finished archive
        assert 'hx-get="/console/sessions/tea/facts"' in page.text
        assert 'hx-get="/console/sessions/tea/archives"' in page.text
        assert page.text.count('hx-trigger="session-archived from:body"') == 2
        assert 'id="facts-commits" data-count="0"' in page.text
        assert 'id="no-archives"' in page.text
        client.post(
            "/console/sessions/tea/messages",
            data={"role": "user", "content": "I drink green tea every afternoon."},
            headers=htmx(token),
        )
        committed = client.post("/console/sessions/tea/commit", headers=htmx(token))
        finished = 'data-status="pending"' not in committed.text
        assert (committed.headers.get("hx-trigger") == "session-archived") == finished
        answers = _poll_archive(
            client, token, "/console/sessions/tea/archives/archive_001?live=true"
        )
        assert answers[-1].headers["hx-trigger"] == "session-archived"
        assert all("hx-trigger" not in a.headers for a in answers[:-1])  # only once it ends
        facts = client.get("/console/sessions/tea/facts", headers=htmx(token))
        assert facts.status_code == 200
        assert 'id="facts-commits" data-count="1"' in facts.text
        assert 'id="session-facts"' in facts.text
        archives = client.get("/console/sessions/tea/archives", headers=htmx(token))
        assert archives.status_code == 200
        assert 'id="archive-archive_001"' in archives.text
        assert 'data-status="done"' in archives.text
        assert 'id="no-archives"' not in archives.text
        plain = client.get("/console/sessions/tea/facts", follow_redirects=False)
        assert plain.status_code == 303  # not htmx: the page
        assert plain.headers["location"] == "/console/sessions/tea"

        sign_in(client, bob_key)
        for part in ("facts", "archives"):
            theirs = client.get(f"/console/sessions/tea/{part}", headers=htmx(token))
            assert theirs.status_code == 404
            assert TEA not in theirs.text


def test_a_failed_message_keeps_the_messages_in_place(workspace: Path) -> None:
    with console_client(workspace) as client:
        token = sign_in(client, create_user(client, "acme", "ann"))
        client.post("/console/sessions", data={"session_id": "chat", "csrf_token": token})
        page = client.get("/console/sessions/chat")
        # the form answers into its status line; the messages are swapped into their box
        assert 'hx-target="#message-status"' in page.text
        assert '<div id="message-status"' in page.text
        added = client.post(
            "/console/sessions/chat/messages",
            data={"role": "user", "content": "Hello"},
            headers=htmx(token),
        )
        assert added.status_code == 200
        assert added.headers["hx-retarget"] == "#messages-box"
        assert '<div id="messages" data-count="1"' in added.text
        assert '<div id="message-status" aria-live="polite" hx-swap-oob="true"></div>' in added.text
        empty = client.post(
            "/console/sessions/chat/messages",
            data={"role": "user", "content": "   "},
            headers=htmx(token),
        )
        assert empty.status_code == 400
        assert "hx-retarget" not in empty.headers  # the error goes to the status line
        assert 'role="alert"' in empty.text


def test_the_page_shows_an_archive_whose_extraction_is_running(workspace: Path) -> None:
    release = threading.Event()

    def slow_chat(body: dict[str, Any]) -> str:
        if "## Memory categories" in str(body["messages"][-1]["content"]):
            release.wait(30)  # phase 2 waits here until the page has been read
        return extraction_chat(body)

    with model_client(workspace, slow_chat) as client:
        token = sign_in(client, create_user(client, "acme", "ann"))
        try:
            committed = commit_started(client, token, "slow")
            assert 'data-status="pending"' in committed.text
            page = client.get("/console/sessions/slow")
            assert page.status_code == 200, page.text
            assert 'id="archive-archive_001"' in page.text
            assert 'hx-get="/console/sessions/slow/archives/archive_001"' in page.text  # polls
        finally:
            release.set()
        done = wait_for_archive(client, token, "slow", "archive_001")
        assert 'data-status="done"' in done


def commit_started(client: TestClient, token: str, session: str) -> Any:
    """Make ``session`` with one message and commit it; the commit's answer."""
    client.post("/console/sessions", data={"session_id": session, "csrf_token": token})
    client.post(
        f"/console/sessions/{session}/messages",
        data={"role": "user", "content": "I drink green tea every afternoon."},
        headers=htmx(token),
    )
    committed = client.post(f"/console/sessions/{session}/commit", headers=htmx(token))
    assert committed.status_code == 200, committed.text
    return committed
