"""Tenants for the adversarial suites: two accounts of three users, each with private content
carrying a unique marker, the URI forms an attacker tries, and a tally of the outcomes."""

from __future__ import annotations

import io
import random
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import uvicorn

from http_api import create_app
from openviking_mcp import OpenVikingConfig
from tests.servers import free_port

__all__ = [
    "ROOT_KEY",
    "Tally",
    "Tenant",
    "found_markers",
    "seed_tenants",
    "serving",
    "tenant_config",
    "uri_forms",
]

ROOT_KEY = "root-key-for-the-tenant-fuzz"
#: (account, user, role): the first user of an account is its ADMIN.
USERS = (
    ("acme", "ann", "admin"),
    ("acme", "bob", "user"),
    ("acme", "cid", "user"),
    ("globex", "gus", "admin"),
    ("globex", "hal", "admin"),
    ("globex", "ivy", "user"),
)
_SKILL = """---
name: {name}
description: Private brewing notes of one user.
---

# {name}

Brew the coffee slowly. {marker}
"""


@dataclass
class Tenant:
    account: str
    user: str
    role: str
    key: str = ""
    private: str = ""  # marker of this user's private content
    public: str = ""  # marker of this user's shared (account-wide) content

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


@dataclass
class Tally:
    """Outcomes per surface: tries, refusals (4xx), server errors (5xx) and leaks."""

    tries: dict[str, int] = field(default_factory=dict)
    refusals: dict[str, int] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    leaks: list[str] = field(default_factory=list)

    def count(self, surface: str, outcome: str, what: str) -> None:
        self.tries[surface] = self.tries.get(surface, 0) + 1
        if outcome == "refused":
            self.refusals[surface] = self.refusals.get(surface, 0) + 1
        elif outcome == "error":
            self.errors.setdefault(surface, []).append(what)

    def leak(self, surface: str, what: str, markers: list[str]) -> None:
        self.leaks.append(f"{surface}: {what} -> {markers}")

    def report(self) -> str:
        lines = ["surface    tries  refusals(4xx)  5xx"]
        for surface in sorted(self.tries):
            errors = len(self.errors.get(surface, []))
            lines.append(
                f"{surface:<10} {self.tries[surface]:>5}  "
                f"{self.refusals.get(surface, 0):>13}  {errors:>3}"
            )
        total = sum(self.tries.values())
        refused = sum(self.refusals.values())
        errors = sum(len(e) for e in self.errors.values())
        lines.append(
            f"{'total':<10} {total:>5}  {refused:>13}  {errors:>3}   leaks: {len(self.leaks)}"
        )
        return "\n".join(lines)


def tenant_config(workspace: Path) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
            "server": {"root_api_key": ROOT_KEY},
        }
    )


@contextmanager
def serving(config: OpenVikingConfig) -> Iterator[str]:
    """The app on a real uvicorn in a thread (127.0.0.1, a free port); its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _ok(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def seed_tenants(http: httpx.Client, rng: random.Random) -> list[Tenant]:
    """Create the accounts and users over REST, then let each user write private content
    (a memory, a file in their space, a session message, a private skill) and a shared file,
    each with the user's own marker; waits until everything is indexed."""
    root = {"X-API-Key": ROOT_KEY}
    tenants = [Tenant(a, u, r) for a, u, r in USERS]
    admins: dict[str, Tenant] = {}
    for t in tenants:
        t.private = f"PRIV{t.user}{rng.getrandbits(64):016x}"
        t.public = f"PUB{t.user}{rng.getrandbits(64):016x}"
        if t.account not in admins:
            body = {"account_id": t.account, "admin_user_id": t.user}
            made = _ok(http.post("/api/v1/admin/accounts", json=body, headers=root))
            t.key = str(made["result"]["user_key"])  # type: ignore[index]
            admins[t.account] = t
        else:
            body = {"user_id": t.user, "role": t.role}
            path = f"/api/v1/admin/accounts/{t.account}/users"
            made = _ok(http.post(path, json=body, headers=admins[t.account].headers))
            t.key = str(made["result"]["user_key"])  # type: ignore[index]
    for t in tenants:
        _write_content(http, t)
    for account in admins.values():
        _ok(http.post("/api/v1/system/wait", json={"timeout": 120}, headers=account.headers))
    return tenants


def _write_content(http: httpx.Client, t: Tenant) -> None:
    text = f"Notes about coffee and tea. {t.private}"
    for uri in ("viking://~/memories/preferences/coffee.md", "viking://~/resources/diary.md"):
        body = {"uri": uri, "content": text, "mode": "create"}
        _ok(http.post("/api/v1/content/write", json=body, headers=t.headers))
    body = {"uri": f"viking://resources/{t.user}.md", "content": f"coffee {t.public}"}
    _ok(http.post("/api/v1/content/write", json={**body, "mode": "create"}, headers=t.headers))
    message = {"role": "user", "content": f"I like coffee. {t.private}"}
    _ok(http.post("/api/v1/sessions/chat-1/messages", json=message, headers=t.headers))
    skill = {"data": _SKILL.format(name=f"brew-{t.user}", marker=t.private)}
    skill["target_uri"] = "viking://~/skills"
    _ok(http.post("/api/v1/skills", json=skill, headers=t.headers))


_LOOKALIKE = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "i": "\u0456", "u": "\u0443"}


def _lookalike(text: str) -> str:
    return "".join(_LOOKALIKE.get(ch, ch) for ch in text)


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def uri_forms(caller: Tenant, victim: Tenant) -> list[str]:
    """URIs that try to name ``victim``'s space (or everything) from ``caller``'s seat."""
    v, me = victim.user, caller.user
    space = f"user/{v}"
    tails = [
        "",
        "/",
        "/memories",
        "/memories/preferences/coffee.md",
        "/memories/preferences",
        "/resources/diary.md",
        "/sessions",
        "/sessions/chat-1",
        "/skills",
        f"/skills/brew-{v}",
        f"/skills/brew-{v}/SKILL.md",
        "/memories/.overview.md",
        "/.abstract.md",
    ]
    forms = [f"viking://{space}{tail}" for tail in tails]
    forms += [
        f"viking://user/{v.upper()}",
        f"viking://USER/{v}",
        f"VIKING://user/{v}",
        f"viking://User/{v.capitalize()}/memories",
        f"viking://user/{quote(v, safe='')}%2Fmemories",
        "viking://user/" + "".join(f"%{ord(c):02x}" for c in v),
        f"viking://%75ser/{v}",
        f"viking://user%2F{v}",
        f"viking://user/{me}/../{v}",
        f"viking://user/{me}/..%2F{v}",
        f"viking://resources/../user/{v}/memories",
        f"viking://user/./{v}",
        f"viking://user/{v}/./memories",
        f"viking://~/../{v}",
        f"viking://~/../../user/{v}",
        f"viking://~{v}",
        f"viking://~/{v}",
        f"viking://session/../../{v}",
        f"viking://user/{_lookalike(v)}",
        f"viking://{_lookalike('user')}/{v}",
        f"viking://{_fullwidth('user')}/{v}",
        f"viking://user/{_fullwidth(v)}",
        f"viking://user\u2215{v}",
        f"viking://user/{v}\u200b",
        f"viking://user//{v}//memories//",
        f"viking://user/{v}?x=1",
        f"viking://user/{v}#frag",
        f"viking://{victim.account}/user/{v}",
        f"viking://user/{v}@{victim.account}",
        f"viking://user/{v}\\memories",
    ]
    return forms


#: Targets above every user space.
ANCESTORS = [
    "viking://",
    "viking:///",
    "viking:////",
    "viking://user",
    "viking://user/",
    "viking://user//",
    "viking://~",
    "viking://~/",
    "viking://session",
    "viking://resources/..",
    "viking://resources/../user",
    "viking://agent/../user",
]


def found_markers(body: bytes, forbidden: dict[str, str]) -> list[str]:
    """Which forbidden markers ``body`` holds (a zip's entries are searched inside)."""
    blobs = [body]
    if body[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(body)) as zf:
                blobs += [zf.read(name) for name in zf.namelist()]
        except zipfile.BadZipFile:
            pass
    text = b"".join(blobs)
    return [owner for marker, owner in forbidden.items() if marker.encode() in text]
