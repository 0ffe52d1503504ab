"""Browser tests of the console: a live ``openviking-mcp serve`` (api_key mode, hashing
embedder, a fake OpenAI-compatible model) driven by Playwright in Debian's headless Chromium.
The server is started once per test process (Chromium once per module); each module scripts
the fake model and works in accounts of its own.

Nothing downloads a browser: Playwright launches ``/usr/bin/chromium``. The tests skip, saying
why, when Chromium or the ``playwright`` package is missing. Screenshots go to
``$OV_CONSOLE_SCREENSHOTS`` (default: ``<tmp>/openviking-console-screens``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes import FakeOpenAIServer
from tests.servers import CHROMIUM, CHROMIUM_FLAGS, free_port, start_server

ROOT_KEY = "root-key-of-the-console-browser-tests"
TIMEOUT_MS = 30_000


def screenshot_dir() -> Path:
    folder = Path(
        os.environ.get("OV_CONSOLE_SCREENSHOTS")
        or Path(tempfile.gettempdir()) / "openviking-console-screens"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def default_chat(body: dict[str, Any]) -> str:
    """The fake model: no memory operations, a one-line session summary."""
    prompt = str(body["messages"][-1]["content"])
    if "## Memory categories" in prompt:
        return json.dumps({"operations": []})
    return "# Session Summary\n\nA short conversation."


@dataclass
class LiveConsole:
    """A running server: its base URL and the root key, with API helpers for set-up."""

    url: str
    root_key: str
    model: FakeOpenAIServer

    def api(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> Any:
        """Call the HTTP API (set-up and checks); the envelope's ``result``."""
        headers = {"X-API-Key": key or self.root_key}
        answer = httpx.request(method, self.url + path, headers=headers, timeout=60, **kwargs)
        assert answer.status_code < 300, answer.text
        return answer.json().get("result")

    def create_user(self, account: str, user: str, role: str = "user") -> str:
        """The key of a new user (the account, with ``user`` as its admin, if it is new)."""
        accounts = {a["account_id"] for a in self.api("GET", "/api/v1/admin/accounts")}
        if account not in accounts:
            body = {"account_id": account, "admin_user_id": user}
            key: str = self.api("POST", "/api/v1/admin/accounts", json=body)["user_key"]
            return key
        body = {"user_id": user, "role": role}
        added = self.api("POST", f"/api/v1/admin/accounts/{account}/users", json=body)
        user_key: str = added["user_key"]
        return user_key


@pytest.fixture(scope="module")
def llm_chat() -> Callable[[dict[str, Any]], str]:
    """The fake model's answers (a module overrides this fixture to script extraction)."""
    return default_chat


@pytest.fixture(scope="session")
def _console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConsole]:
    """One live server per test process, shared by the modules (each uses its own accounts):
    starting a server and a browser costs seconds, a module's tests a few more."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    pytest.importorskip("playwright", reason="needs the playwright package (pip install .[dev])")
    tmp = tmp_path_factory.mktemp("console")
    port = free_port()
    with FakeOpenAIServer(default_chat) as model:
        env = {
            "OPENVIKING__SERVER__ROOT_API_KEY": ROOT_KEY,
            "OPENVIKING__EMBEDDING__DENSE__PROVIDER": "hashing",
            "OPENVIKING__VLM__PROVIDER": "openai",
            "OPENVIKING__VLM__MODEL": "fake-chat",
            "OPENVIKING__VLM__API_BASE": model.base_url,
            "OPENVIKING__VLM__API_KEY": "sk-test",
            "OPENVIKING__VLM__MAX_RETRIES": "0",
        }
        proc = start_server(tmp, ["openviking-mcp", "serve"], port, env)
        try:
            yield LiveConsole(f"http://127.0.0.1:{port}", ROOT_KEY, model)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def live_console(
    _console_server: LiveConsole, llm_chat: Callable[[dict[str, Any]], str]
) -> Iterator[LiveConsole]:
    """The shared server, its fake model answering with the module's ``llm_chat``."""
    _console_server.model.chat = llm_chat
    try:
        yield _console_server
    finally:
        _console_server.model.chat = default_chat


@pytest.fixture(scope="module")
def browser(_console_server: LiveConsole) -> Iterator[Any]:
    """Chromium for one module. Not for the session: Playwright's sync API holds an event loop
    running in this thread while it is open, and later modules' ``asyncio.run`` would fail."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)  # assertions wait as long as actions (a busy host)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_FLAGS)
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def new_page(browser: Any, live_console: LiveConsole) -> Iterator[Callable[[], Any]]:
    """Open pages in fresh browser contexts (each its own cookies: one per signed-in user)."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(base_url=live_console.url, accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Any, key: str) -> None:
    """Sign in through the console's form; the page ends on the explorer."""
    page.goto("/console/login")
    page.fill("#api-key", key)
    page.click("#sign-in")
    page.wait_for_url("**/console/**")
    assert "/console/login" not in page.url


def shot(page: Any, name: str) -> Path:
    """A full-page screenshot in :func:`screenshot_dir`."""
    path = screenshot_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
