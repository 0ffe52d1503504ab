"""Every console page in a real browser: no error in the browser's console (a missing favicon,
a script or a policy violation), an unknown path as the console's 404 page, and cards side by
side in a grid starting on the same line."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.browser.conftest import LiveConsole, shot, sign_in

pytestmark = pytest.mark.slow

_PAGES = (
    "/console/explorer",
    "/console/search?query=tea",
    "/console/sessions",
    "/console/sessions/lunch",
    "/console/memories",
    "/console/skills",
    "/console/tasks",
    "/console/system",
)

_ROW_TOPS = """() => Array.from(document.querySelectorAll('.grid')).map(grid => {
    const cards = Array.from(grid.children).filter(e => e.classList.contains('card'));
    const tops = cards.map(e => Math.round(e.getBoundingClientRect().top));
    const first = Math.min(...tops);
    return tops.filter(t => t - first < 40);  // the cards of the grid's first row
}).filter(row => row.length > 1)"""


def _watch(page: Any) -> list[str]:
    """The errors the browser reports on ``page`` (console errors, uncaught exceptions)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_pages_load_without_browser_errors(live_console: LiveConsole, new_page: Any) -> None:
    key = live_console.create_user("pages", "pat")
    live_console.api("POST", "/api/v1/sessions", key=key, json={"session_id": "lunch"})
    page = new_page()
    errors = _watch(page)
    sign_in(page, key)
    for path in _PAGES:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert errors == [], f"{path}: {errors}"
    shot(page, "pages-system")


def test_an_unknown_path_is_the_consoles_404_page(live_console: LiveConsole, new_page: Any) -> None:
    page = new_page()
    sign_in(page, live_console.create_user("pages", "quin"))
    answer = page.goto("/console/no-such-page")
    assert answer is not None
    assert answer.status == 404
    alert = page.locator('[role=alert][data-status="404"]')
    assert "No console page at /console/no-such-page" in alert.inner_text()
    assert page.locator("header nav a").count() > 0  # the navigation leads on
    shot(page, "pages-404")


def test_cards_side_by_side_start_on_the_same_line(
    live_console: LiveConsole, new_page: Any
) -> None:
    key = live_console.create_user("pages", "rue")
    live_console.api("POST", "/api/v1/sessions", key=key, json={"session_id": "lunch"})
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, key)
    for path in ("/console/sessions/lunch", "/console/system"):
        page.goto(path)
        rows = page.evaluate(_ROW_TOPS)
        assert rows, f"{path}: no grid row of cards"
        for tops in rows:
            assert len(set(tops)) == 1, f"{path}: cards of one row start at {tops}"
