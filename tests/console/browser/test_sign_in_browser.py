"""Signing in to the console in a real browser."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.browser.conftest import LiveConsole, shot, sign_in

pytestmark = pytest.mark.slow


def test_sign_in_with_a_user_key(live_console: LiveConsole, new_page: Any) -> None:
    key = live_console.create_user("signin", "ann")
    page = new_page()
    page.goto("/console/explorer")
    page.wait_for_url("**/console/login**")  # not signed in yet
    page.fill("#api-key", "not-a-key")
    page.click("#sign-in")
    assert page.locator("#login-error").is_visible()
    sign_in(page, key)
    assert page.locator("#identity").inner_text().startswith("signin/ann")
    assert key not in page.content()
    shot(page, "sign-in")
    page.click("#sign-out")
    page.wait_for_url("**/console/login**")
