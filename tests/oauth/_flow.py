"""Helpers of the OAuth tests: a live api_key-mode server, and an MCP client's OAuth steps
(registration, PKCE, approval on the consent page, token exchange) done with httpx."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from openviking_mcp.config import OpenVikingConfig
from openviking_mcp.service import ContextService
from tests.servers import serving

__all__ = [
    "REDIRECT",
    "ROOT_KEY",
    "Live",
    "approve",
    "authorize",
    "exchange",
    "live_server",
    "mcp_call",
    "pkce",
    "register",
]

ROOT_KEY = "root-key-for-oauth-tests"
REDIRECT = "http://127.0.0.1:9/callback"


@dataclass
class Live:
    http: httpx.Client
    ann_key: str
    ben_key: str


@contextmanager
def live_server(workspace: Path) -> Iterator[Live]:
    """api_key mode, with ann (ADMIN of acme) and ben (USER of beta)."""
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "server": {"root_api_key": ROOT_KEY},
        }
    )
    with serving(ContextService(config)) as base, httpx.Client(base_url=base, timeout=30) as http:
        root = {"X-API-Key": ROOT_KEY}
        keys = []
        for account, user in (("acme", "ann"), ("beta", "ben")):
            body = {"account_id": account, "admin_user_id": user}
            answer = http.post("/api/v1/admin/accounts", json=body, headers=root)
            assert answer.status_code == 200, answer.text
            keys.append(answer.json()["result"]["user_key"])
        yield Live(http, keys[0], keys[1])


def pkce() -> tuple[str, str]:
    """``(verifier, S256 challenge)``."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def register(http: httpx.Client, **extra: Any) -> dict[str, Any]:
    body = {"redirect_uris": [REDIRECT], "client_name": "Test client", **extra}
    answer = http.post("/oauth/register", json=body)
    assert answer.status_code == 201, answer.text
    client: dict[str, Any] = answer.json()
    return client


def authorize(
    http: httpx.Client, client: dict[str, Any], challenge: str, scope: str | None = None
) -> str:
    """Start an authorization: the approval page's URL (after the authorize redirect)."""
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "st-1",
        **({"scope": scope} if scope else {}),
    }
    answer = http.get("/oauth/authorize", params=params)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith("/oauth/consent?request=")
    return location


def approve(http: httpx.Client, consent_url: str, api_key: str) -> httpx.Response:
    """Open the approval page and post it with ``api_key`` (the redirect is not followed)."""
    page = http.get(consent_url)
    assert page.status_code == 200, page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    request_id = re.search(r'name="request" value="([^"]+)"', page.text)
    assert csrf
    assert request_id
    form = {
        "request": request_id.group(1),
        "csrf_token": csrf.group(1),
        "api_key": api_key,
        "action": "approve",
    }
    return http.post("/oauth/consent", data=form)


def code_of(answer: httpx.Response) -> str:
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT)
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def exchange(
    http: httpx.Client, client: dict[str, Any], code: str, verifier: str, **over: str
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": client["client_id"],
        "client_secret": client.get("client_secret") or "",
        "code_verifier": verifier,
        **over,
    }
    return http.post("/oauth/token", data={k: v for k, v in form.items() if v})


def mcp_call(http: httpx.Client, token: str, method: str, params: dict[str, Any]) -> httpx.Response:
    """One JSON-RPC request to ``/mcp`` with a bearer token."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
    }
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    return http.post("/mcp", json=body, headers=headers)
