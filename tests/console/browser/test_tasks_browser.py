"""The tasks page in a real browser: an import started elsewhere shows up and completes in the
table without a reload (htmx polls the table every two seconds)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.browser.conftest import LiveConsole, shot, sign_in

pytestmark = pytest.mark.slow

GUIDE = b"# Beavers\n\nBeavers build dams and lodges out of sticks and mud.\n"


def _start_import(live_console: LiveConsole, key: str) -> str:
    files = {"file": ("beavers.md", GUIDE, "text/markdown")}
    upload = live_console.api("POST", "/api/v1/resources/temp_upload", key, files=files)
    body = {"temp_file_id": upload["temp_file_id"], "parent": "viking://resources"}
    accepted = live_console.api("POST", "/api/v1/resources", key, json=body)
    task_id: str = accepted["task_id"]
    return task_id


def test_an_import_completes_in_the_live_table(live_console: LiveConsole, new_page: Any) -> None:
    key = live_console.create_user("tasks", "tia")
    page = new_page()
    sign_in(page, key)
    page.goto("/console/tasks")
    assert page.locator("#no-tasks").is_visible()
    page.evaluate("window.tasksPageMarker = 1")  # gone if the page reloads
    task_id = _start_import(live_console, key)
    row = page.locator(f"#task-row-{task_id}")
    row.wait_for()
    page.locator(f'#task-row-{task_id}[data-status="completed"]').wait_for(timeout=60_000)
    assert page.evaluate("window.tasksPageMarker") == 1
    assert "viking://resources/beavers" in row.inner_text()
    width = row.locator(".progress > span").get_attribute("style") or ""
    assert "width: 100%" in width
    shot(page, "tasks")
    page.click(f"#task-row-{task_id} a")
    page.wait_for_url(f"**/console/tasks/{task_id}")
    assert page.locator(f'#task-card-{task_id}[data-status="completed"]').is_visible()
