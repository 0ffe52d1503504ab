"""Sessions and memories in a real browser: add messages, commit, watch the memory diff
arrive, find the memory on the memories page; another user of the account sees none of it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from tests.console._console import TEA, extraction_chat
from tests.console.browser.conftest import LiveConsole, shot, sign_in

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llm_chat() -> Callable[[dict[str, Any]], str]:
    return extraction_chat


def test_commit_shows_the_memory_diff_and_the_memory_stays_private(
    live_console: LiveConsole, new_page: Any
) -> None:
    from playwright.sync_api import expect

    ann = live_console.create_user("tea-house", "ann")
    bob = live_console.create_user("tea-house", "bob")
    page = new_page()
    sign_in(page, ann)
    page.goto("/console/sessions")
    page.fill("#new-session-id", "afternoon")
    page.click("#create-session")
    page.wait_for_url("**/console/sessions/afternoon")
    for role, text in (("user", "I drink green tea every afternoon."), ("assistant", "Noted!")):
        page.select_option("#message-role", role)
        page.fill("#message-content", text)
        page.click("#send-message")
        page.locator("#messages .message", has_text=text).wait_for()
        if role == "user":  # a refused message: the error shows, the messages stay
            page.fill("#message-content", "   ")
            page.click("#send-message")
            expect(page.locator("#message-status [role=alert]")).to_contain_text("non-empty")
            assert page.locator("#messages .message").count() == 1
    assert page.locator("#messages .message").count() == 2
    assert page.input_value("#message-content") == ""  # the form is cleared
    assert page.locator("#message-status").inner_text() == ""  # the error went with it
    expect(page.locator("#facts-commits")).to_have_text("0 commit(s)")
    page.click("#commit-session")
    added = page.locator('#memory-diff [data-kind="add"]')
    added.wait_for()
    assert TEA in added.inner_text()
    assert page.locator("#live-archive").get_attribute("data-status") == "done"
    assert page.locator("#messages .message").count() == 0  # archived
    # without a reload: the facts and the archives follow the finished commit
    expect(page.locator("#facts-commits")).to_have_text("1 commit(s)")
    expect(page.locator("#facts-memories")).not_to_have_text("0 memories extracted")
    expect(page.locator("#facts-last-commit")).not_to_have_text("Last commit —")
    expect(page.locator("#archives .archive")).to_have_count(1)
    expect(page.locator("#no-archives")).to_have_count(0)
    shot(page, "session-memory-diff")

    page.goto("/console/memories")
    group = page.locator('section.memory-group[data-category="preferences"]')
    row = group.locator("tr.memory", has_text=TEA)
    assert row.count() == 1
    memory_uri = row.get_attribute("data-uri") or ""
    assert memory_uri.startswith("viking://user/ann/memories/preferences/")
    assert row.locator('[data-field="active_count"]').inner_text() == "0"
    shot(page, "memories")
    row.locator("a.memory-name").click()
    page.wait_for_url("**/console/memories/item**")
    assert page.locator('#memory-history li[data-kind="add"]').count() == 1

    other = new_page()
    sign_in(other, bob)
    other.goto("/console/memories")
    assert TEA not in other.content()
    assert other.locator("#no-memories").is_visible()
    other.goto("/console/memories?q=green+tea")
    assert TEA not in other.content()
    other.goto("/console/sessions")
    assert other.locator('[data-session="afternoon"]').count() == 0
    for path in (
        f"/console/memories/item?uri={quote(memory_uri, safe='')}",
        f"/console/explorer?uri={quote(memory_uri, safe='')}",
        "/console/sessions/afternoon",
    ):
        other.goto(path)
        assert TEA not in other.content(), path
