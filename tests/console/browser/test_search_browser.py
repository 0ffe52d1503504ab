"""The search playground in a real browser: results without a reload, the trajectory tree
unfolding, and context mode."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.console._console import GUIDES
from tests.console.browser.conftest import LiveConsole, default_chat, shot, sign_in

pytestmark = pytest.mark.slow


_CONTENT = re.compile(r"<content>\n(.*?)\n</content>", re.S)
_FILE = re.compile(r"=== FILE: (.+?) ===.*?<content>\n(.*?)\n</content>", re.S)
_FOLDER = re.compile(r'overview of the folder "([^"]+)"')
_CHILD = re.compile(r"^- (.+?)(?: \(\w+\)|/ \(folder\))?: (.+)$", re.M)


def _body(text: str) -> str:
    """A document's text without its headings: the fake model's description of it."""
    return " ".join(line for line in text.splitlines() if line and not line.startswith("#"))


def _chat(body: dict[str, Any]) -> str:
    """File descriptions from the files' text, folder overviews from their entries."""
    prompt = str(body["messages"][-1]["content"])
    if "description of one file" in prompt and (found := _CONTENT.search(prompt)):
        return _body(found.group(1))
    if "descriptions of several files" in prompt:
        return json.dumps({label: _body(text) for label, text in _FILE.findall(prompt)})
    if folder := _FOLDER.search(prompt):
        entries = _CHILD.findall(prompt)
        names = ", ".join(name for name, _ in entries)
        listed = "\n".join(f"- **{name}** — {summary}" for name, summary in entries)
        return f"# {folder.group(1)}\n\nGuides on {names}.\n\n## Contents\n\n{listed}"
    return default_chat(body)


@pytest.fixture(scope="module")
def llm_chat() -> Callable[[dict[str, Any]], str]:
    return _chat


def test_search_trajectory_and_context(live_console: LiveConsole, new_page: Any) -> None:
    key = live_console.create_user("search", "ann")
    for uri, text in GUIDES.items():
        body = {"uri": uri, "content": text, "wait": True}
        live_console.api("POST", "/api/v1/content/write", key, json=body)
    page = new_page()
    sign_in(page, key)
    page.goto("/console/search")
    marker = page.evaluate("() => (window.__searchMarker = Math.random())")
    page.fill("#search-query", "python venv packages")
    page.click("#search-run")
    first = page.locator("#search-hits li.hit").first
    first.wait_for()
    assert first.get_attribute("data-uri") == "viking://resources/guides/python/venv.md"
    assert page.evaluate("() => window.__searchMarker") == marker  # no reload
    assert "query=python+venv+packages" in page.url  # the URL carries the query
    assert first.locator(".parts .vector b").inner_text() != ""

    outer = page.locator("#trajectory .tree-steps > details.step:has(details.step)").first
    nested = outer.locator(":scope > .step-body > details.step").first
    assert not nested.is_visible()
    outer.locator(":scope > summary").click()
    nested.wait_for(state="visible")
    assert (
        nested.locator(":scope > summary code")
        .inner_text()
        .startswith(outer.get_attribute("data-uri") or "?")
    )
    nested.locator(":scope > summary").click()  # one level deeper: its own steps or hits
    shot(page, "search-trajectory")

    page.select_option("#search-mode", "context")
    page.fill("#search-query", "python packages")
    page.click("#search-run")
    block = page.locator("#context-block")
    block.wait_for()
    assert "activate it before installing packages" in block.inner_text()  # an abstract
    assert int(page.locator("#context-tokens").inner_text()) > 0
    assert page.locator('#context-categories li[data-category="resources"]').is_visible()
    assert "mode=context" in page.url
    assert page.evaluate("() => window.__searchMarker") == marker
    shot(page, "search-context")
