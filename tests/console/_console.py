"""Helpers of the console's route tests: an api_key-mode app, accounts with keys, sign-in."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import ContextService
from tests.http_api._routes import api_key, config_for, result_of

__all__ = [
    "BASE_URL",
    "GUIDES",
    "ROOT_KEY",
    "TEA",
    "console_client",
    "create_user",
    "csrf_of",
    "extraction_chat",
    "service_of",
    "sign_in",
]

ROOT_KEY = "root-secret-key-for-console-tests"
BASE_URL = "http://127.0.0.1:1933"  # a loopback Host, as a browser on this machine sends
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')

TEA = "The user drinks green tea every afternoon."
GUIDES = {
    "viking://resources/guides/python/venv.md": "# Virtual environments\n\n"
    "Create a venv with python -m venv and activate it before installing packages.",
    "viking://resources/guides/python/typing.md": "# Typing\n\n"
    "Run mypy in strict mode to check the type hints of python code.",
    "viking://resources/guides/rust/cargo.md": "# Cargo\n\n"
    "Cargo builds rust crates and fetches their dependencies.",
}
"""Three small documents in two folders, for the search pages."""


def extraction_chat(body: dict[str, Any]) -> str:
    """A fake model: one preference (:data:`TEA`) from every conversation, a one-line
    summary."""
    prompt = str(body["messages"][-1]["content"])
    if "## Memory categories" in prompt:
        op = {
            "op": "add",
            "memory_type": "preferences",
            "fields": {"topic": "tea", "content": TEA},
            "reason": "stated",
        }
        return json.dumps({"operations": [op]})
    return "# Session Summary\n\nThe user talked about tea."


@contextmanager
def console_client(workspace: Path, *, root_key: str | None = ROOT_KEY) -> Iterator[TestClient]:
    """A client of an app in api_key mode (dev mode with ``root_key=None``), on 127.0.0.1."""
    app = create_app(config_for(workspace, root_api_key=root_key))
    with TestClient(app, base_url=BASE_URL) as c:
        yield c


def service_of(client: TestClient) -> ContextService:
    service: ContextService = client.app.state.service  # type: ignore[attr-defined]
    return service


def create_user(client: TestClient, account: str, user: str, role: str = "user") -> str:
    """The key of ``user`` in ``account`` (the account is created, ``user`` its first admin,
    when it does not exist yet)."""
    root = api_key(ROOT_KEY)
    listed = result_of(client.get("/api/v1/admin/accounts", headers=root))
    accounts = {a["account_id"] for a in listed}
    if account not in accounts:
        created = result_of(
            client.post(
                "/api/v1/admin/accounts",
                json={"account_id": account, "admin_user_id": user},
                headers=root,
            )
        )
        key: str = created["user_key"]
        return key
    added = result_of(
        client.post(
            f"/api/v1/admin/accounts/{account}/users",
            json={"user_id": user, "role": role},
            headers=root,
        )
    )
    user_key: str = added["user_key"]
    return user_key


def csrf_of(html: str) -> str:
    """The CSRF token a console page carries."""
    found = _CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(client: TestClient, key: str) -> str:
    """Sign ``client`` in with ``key``; the CSRF token to send with unsafe requests."""
    page = client.get("/console/login")
    assert page.status_code == 200
    token = csrf_of(page.text)
    answer = client.post(
        "/console/login",
        data={"api_key": key, "csrf_token": token, "next": "/console/explorer"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return token
