"""The explorer in a real browser: a folder uploaded and imported, then a file's three tiers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.console.browser.conftest import LiveConsole, shot, sign_in

pytestmark = pytest.mark.slow

_IMPORT_MS = 90_000


def _chat(body: dict[str, Any]) -> str:
    """The fake model: no memories; any file it is asked to describe is a handbook page."""
    prompt = str(body["messages"][-1]["content"])
    if "## Memory categories" in prompt:
        return json.dumps({"operations": []})
    return "A page of the uploaded handbook."


@pytest.fixture(scope="module")
def llm_chat() -> Callable[[dict[str, Any]], str]:
    return _chat


def _handbook(root: Path) -> Path:
    folder = root / "handbook"
    (folder / "chapters").mkdir(parents=True)
    (folder / "intro.md").write_text("# Handbook\n\nThe narwhal onboarding handbook.\n")
    (folder / "chapters" / "tools.md").write_text(
        "# Tools\n\nWe build everything with the kayak build system.\n"
    )
    return folder


def test_upload_a_folder_then_read_a_files_tiers(
    live_console: LiveConsole, new_page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    key = live_console.create_user("explorer", "ann")
    page = new_page()
    sign_in(page, key)
    page.goto("/console/explorer")
    assert page.locator("#upload-target").inner_text() == "viking://resources"

    page.set_input_files("#upload-folder", str(_handbook(tmp_path)))
    expect(page.locator("#task-status")).to_have_text(re.compile(r"completed$"), timeout=_IMPORT_MS)
    assert page.locator("#upload-progress").get_attribute("value") == "100"
    # the tree is redrawn, open at the imported folder
    imported = page.locator('.tree a.node[data-uri="viking://resources/handbook"]')
    expect(imported).to_be_visible()
    expect(
        page.locator('.tree a.node[data-uri="viking://resources/handbook/chapters"]')
    ).to_be_visible()
    shot(page, "explorer-upload")

    # a folder opens when selected (its children load then); each document has its folder
    page.click('.tree a.node[data-uri="viking://resources/handbook/chapters"]')
    tools_folder = "viking://resources/handbook/chapters/tools"
    page.click(f'.tree a.node[data-uri="{tools_folder}"]')
    expect(page.locator("#node")).to_have_attribute("data-uri", tools_folder)
    tools = f"{tools_folder}/tools.md"
    page.click(f'.tree a.node[data-uri="{tools}"]')
    expect(page.locator("#node")).to_have_attribute("data-uri", tools)
    for tier in ("#tier-l0", "#tier-l1", "#tier-l2"):
        expect(page.locator(tier)).to_be_visible()
    expect(page.locator("#tier-l2")).to_contain_text("kayak build system")
    expect(page.locator("#tier-l0 .plain")).to_contain_text("kayak")
    assert page.url.endswith("/console/explorer?uri=" + quote(tools, safe=""))
    expect(page.locator(f'.tree a.node.selected[data-uri="{tools}"]')).to_be_visible()
    # the three tiers sit side by side
    boxes = [page.locator(t).bounding_box() for t in ("#tier-l0", "#tier-l1", "#tier-l2")]
    assert all(b is not None for b in boxes)
    tops = {round(b["y"]) for b in boxes if b is not None}
    assert len(tops) == 1
    assert page.locator("#index-model").inner_text().startswith("hashing:")
    # the upload target follows the selection
    assert page.locator("#upload-target").inner_text() == tools_folder
    shot(page, "explorer-tiers")

    # the shared URL shows the same node after a reload
    page.reload()
    expect(page.locator("#tier-l2")).to_contain_text("kayak build system")

    # renaming asks first, then shows the renamed file and redraws the tree
    page.once("dialog", lambda dialog: dialog.accept())
    page.fill("#rename-name", "toolbox.md")
    page.click("#rename")
    renamed = f"{tools_folder}/toolbox.md"
    expect(page.locator("#node")).to_have_attribute("data-uri", renamed)
    expect(page.locator(f'.tree a.node.selected[data-uri="{renamed}"]')).to_be_visible()
    expect(page.locator(f'.tree a.node[data-uri="{tools}"]')).to_have_count(0)
    assert page.url.endswith(quote(renamed, safe=""))


def test_dropped_files_are_imported(live_console: LiveConsole, new_page: Any) -> None:
    from playwright.sync_api import expect

    key = live_console.create_user("explorer", "cid")
    page = new_page()
    sign_in(page, key)
    page.goto("/console/explorer")
    dropped = page.evaluate_handle(
        """() => {
            const transfer = new DataTransfer();
            transfer.items.add(new File(["# Otters\\n\\nOtters hold hands."], "otters.md"));
            transfer.items.add(new File(["Beavers build dams."], "beavers.txt"));
            return transfer;
        }"""
    )
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": dropped})
    expect(page.locator("#task-status")).to_have_text(re.compile(r"completed$"), timeout=_IMPORT_MS)
    for name in ("otters", "beavers"):
        expect(page.locator(f'.tree a.node[data-uri="viking://resources/{name}"]')).to_be_visible()


def test_a_refused_rename_keeps_the_panel_and_back_shows_no_deleted_node(
    live_console: LiveConsole, new_page: Any
) -> None:
    from playwright.sync_api import expect

    key = live_console.create_user("explorer", "dee")
    folder = "viking://resources/drafts"
    body = {"uri": f"{folder}/plan.md", "content": "# Plan\n\nShip it.\n", "wait": True}
    live_console.api("POST", "/api/v1/content/write", key=key, json=body)
    page = new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, key)
    page.goto(f"/console/explorer?uri={quote(folder, safe='')}")
    page.fill("#rename-name", "a/b")
    page.click("#rename")
    expect(page.locator("#node-action-status [role=alert]")).to_contain_text("one path segment")
    # the error is shown in the panel, which stays
    expect(page.locator(f'#node[data-uri="{folder}"]')).to_be_visible()
    expect(page.locator("#tier-l2")).to_contain_text("plan.md")
    shot(page, "explorer-rename-refused")

    page.click("#delete")
    expect(page.locator('#node[data-uri="viking://resources"]')).to_be_visible()
    page.go_back()  # to the deleted folder's URL: the page is asked again, not a snapshot
    page.wait_for_url(f"**/console/explorer?uri={quote(folder, safe='')}")
    expect(page.locator('#detail [role=alert][data-status="404"]')).to_be_visible()
    expect(page.locator(f'#node[data-uri="{folder}"]')).to_have_count(0)
    assert page.evaluate("window.localStorage.length") == 0  # no page snapshots kept
