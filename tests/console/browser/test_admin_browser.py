"""The admin and system pages in a real browser: a key shown once, used, revoked; live charts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.browser.conftest import LiveConsole, shot, sign_in

pytestmark = pytest.mark.slow


def test_a_new_key_is_shown_once_works_and_is_revoked(
    live_console: LiveConsole, new_page: Any
) -> None:
    admin = new_page()
    admin.on("dialog", lambda dialog: dialog.accept())  # the confirmations
    sign_in(admin, live_console.root_key)
    admin.goto("/console/admin")
    admin.fill("#new-account-id", "delta")
    admin.fill("#new-account-admin", "dora")
    admin.click("#create-account-submit")
    admin.wait_for_selector("#new-key[data-user='dora']")
    admin.click("#open-account-delta")
    admin.wait_for_url("**/console/admin/accounts/delta")
    assert admin.locator("#new-key").count() == 0  # shown once, not on the next page
    admin.fill("#new-user-id", "dan")
    admin.click("#add-user-submit")
    admin.wait_for_selector("#new-key[data-user='dan']")
    admin.wait_for_selector("tr[data-user='dan']")
    key = admin.inner_text("#new-key-value").strip()
    assert admin.input_value("#new-user-id") == ""  # the form is emptied for the next user
    assert "not be shown again" in admin.inner_text("#new-key")
    shot(admin, "admin-key")

    user = new_page()
    sign_in(user, key)
    assert user.locator("#identity").inner_text().startswith("delta/dan")

    admin.click("#revoke-key-dan")
    admin.wait_for_selector("#admin-message:has-text('revoked')")
    user.goto("/console/explorer")
    user.wait_for_url("**/console/login**")
    assert user.locator("#api-key").is_visible()

    admin.reload()
    assert admin.locator("tr[data-user='dan']").is_visible()
    assert key not in admin.content()


def _wait_for_samples(page: Any, count: int) -> None:
    """Let the page's fake clock run, a poll interval at a time, until the charts have drawn
    ``count`` samples (each poll is a real request to the server)."""
    for _ in range(60):
        if int(page.get_attribute("#system-charts", "data-samples") or 0) >= count:
            return
        page.clock.run_for(500)
        page.wait_for_timeout(50)
    raise AssertionError(f"the charts did not get {count} samples")


def test_the_system_page_draws_its_charts(live_console: LiveConsole, new_page: Any) -> None:
    page = new_page()
    sign_in(page, live_console.create_user("charts", "ann"))
    page.clock.install()  # the page polls every 2 s: the test moves its clock instead of waiting
    page.goto("/console/system")
    assert page.locator("#health-state").inner_text() == "healthy"
    for chart in ("chart-requests", "chart-latency", "chart-queue"):
        page.wait_for_selector(f"#{chart} canvas")
    _wait_for_samples(page, 4)  # a few polls: the lines have points (no eval under the CSP)
    assert page.locator("#charts-state").inner_text() == "(live)"
    assert page.locator("#chart-requests .u-legend").is_visible()
    shot(page, "system")
