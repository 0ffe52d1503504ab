"""Tenant fuzz: no byte of another user's private content (nor of another account) comes back.

Two accounts of three users each (ADMIN and USER roles, api_key mode) write private content
with a unique marker: a memory, a file in their space, a session message, a private skill; and
a shared file with a public marker. Then every user sends URIs in every form an attacker
tries (ancestors, ``viking:///``, ``~``, percent-encoded, case variants, dot segments, unicode
look-alikes, trailing slashes) through every read-like operation of every surface: REST, MCP
tools and resources over streamable HTTP, WebDAV, the CLI in remote mode, and the bot's
tools. Each answer is searched for the markers the caller may not see.

The table is generated from a fixed seed; the ancestors go first, then a seeded shuffle of the
rest, each surface within a time budget. Run with ``-s`` to see the counts.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client

from openviking_mcp import ContextService, RequestContext, Role
from tests.adversarial._tenants import (
    ANCESTORS,
    Tally,
    Tenant,
    found_markers,
    seed_tenants,
    serving,
    tenant_config,
    uri_forms,
)
from tests.servers import clean_env, exe

pytestmark = pytest.mark.slow

SEED = 1313
#: Seconds per surface (the seeding and the server start come on top).
BUDGET = {"rest": 15.0, "mcp": 7.0, "webdav": 2.0, "bot": 3.0}
#: Error codes that mean the server failed, not the caller.
SERVER_CODES = {"INTERNAL", "INTERNAL_ERROR", "PROCESSING_ERROR", "UNKNOWN", "NOT_INITIALIZED"}
QUERY = "coffee tea notes brew"

Request = tuple[str, str, dict[str, Any]]  # method, path, params or json


def _forbidden(caller: Tenant, tenants: list[Tenant]) -> dict[str, str]:
    """marker -> owner of everything ``caller`` must never see."""
    out: dict[str, str] = {}
    for t in tenants:
        if t is caller:
            continue
        out[t.private] = f"{t.account}/{t.user} private"
        if t.account != caller.account:
            out[t.public] = f"{t.account}/{t.user} shared"
    return out


def _uris(caller: Tenant, tenants: list[Tenant]) -> list[str]:
    forms = [uri for t in tenants if t is not caller for uri in uri_forms(caller, t)]
    return list(dict.fromkeys(forms))


def _rest_requests(uri: str) -> list[Request]:
    get, post = "GET", "POST"
    return [
        (post, "/api/v1/search/find", {"query": QUERY, "target_uri": uri}),
        (post, "/api/v1/search/search", {"query": QUERY, "target_uri": uri}),
        (get, "/api/v1/fs/ls", {"uri": uri}),
        (get, "/api/v1/fs/ls", {"uri": uri, "recursive": "true", "show_all_hidden": "true"}),
        (get, "/api/v1/fs/tree", {"uri": uri, "level_limit": 20}),
        (get, "/api/v1/fs/stat", {"uri": uri}),
        (get, "/api/v1/content/read", {"uri": uri}),
        (get, "/api/v1/content/download", {"uri": uri}),
        (get, "/api/v1/content/level", {"uri": uri, "level": "full"}),
        (get, "/api/v1/content/abstract", {"uri": uri}),
        (get, "/api/v1/content/overview", {"uri": uri}),
        (post, "/api/v1/search/grep", {"uri": uri, "pattern": "PRIV|PUB"}),
        (post, "/api/v1/search/glob", {"pattern": "**", "uri": uri}),
        (post, "/api/v1/pack/export", {"uri": uri}),
        (post, "/api/v1/system/consistency", {"uri": uri}),
        (get, "/api/v1/relations", {"uri": uri}),
        (get, "/api/v1/skills", {"target_uri": uri}),
        (get, "/api/v1/debug/vector/scroll", {"uri": uri, "limit": 1000}),
    ]


def _once_requests(tenants: list[Tenant]) -> list[Request]:
    """Requests that take no URI: backup, listings of sessions, skills and memories."""
    out: list[Request] = [
        ("POST", "/api/v1/pack/backup", {}),
        ("POST", "/api/v1/pack/backup", {"include_vectors": True}),
        ("GET", "/api/v1/sessions", {}),
        ("GET", "/api/v1/sessions/chat-1", {}),
        ("GET", "/api/v1/sessions/chat-1/context", {}),
        ("GET", "/api/v1/skills", {}),
        ("GET", "/api/v1/stats/memories", {}),
        ("GET", "/api/v1/debug/vector/scroll", {"limit": 1000}),
        ("POST", "/api/v1/search/search", {"query": QUERY, "mode": "context"}),
        ("POST", "/api/v1/search/search", {"query": QUERY, "session_id": "chat-1"}),
    ]
    out += [("GET", f"/api/v1/skills/brew-{t.user}", {}) for t in tenants]
    return out


#: Operations over a whole subtree: the ancestors go through these first.
_SCANS = ("find", "grep", "glob", "tree", "ls", "export", "consistency", "scroll")


def _table(tenants: list[Tenant], rng: random.Random) -> list[tuple[Tenant, Request]]:
    """Every caller's requests: the once-only ones and the ancestors through the subtree
    scans first, then a seeded shuffle of the rest (the victim-specific forms)."""
    first: list[tuple[Tenant, Request]] = []
    rest: list[tuple[Tenant, Request]] = []
    for caller in tenants:
        first += [(caller, r) for r in _once_requests(tenants)]
        for uri in ANCESTORS:
            for r in _rest_requests(uri):
                scan = any(r[1].endswith(name) for name in _SCANS) or "recursive" in r[2]
                (first if scan else rest).append((caller, r))
        rest += [(caller, r) for uri in _uris(caller, tenants) for r in _rest_requests(uri)]
    rng.shuffle(rest)
    return first + rest


def _classify(status: int) -> str:
    return "error" if status >= 500 else "refused" if status >= 400 else "ok"


def _fuzz_rest(http: httpx.Client, tenants: list[Tenant], rng: random.Random, tally: Tally) -> None:
    forbidden = {t.user: _forbidden(t, tenants) for t in tenants}
    deadline = time.monotonic() + BUDGET["rest"]

    def one(item: tuple[Tenant, Request]) -> None:
        caller, (method, path, args) = item
        if time.monotonic() > deadline:
            return
        kwargs: dict[str, Any] = {"json": args} if method == "POST" else {"params": args}
        response = http.request(method, path, headers=caller.headers, **kwargs)
        what = f"{caller.user} {method} {path} {args}"
        tally.count("rest", _classify(response.status_code), f"{what} -> {response.text[:300]}")
        leaked = found_markers(response.content, forbidden[caller.user])
        if leaked:
            tally.leak("rest", what, leaked)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(one, _table(tenants, rng)))


def _dav_paths(caller: Tenant, victim: Tenant) -> list[str]:
    v = victim.user
    return [
        "",
        f"..%2Fuser%2F{v}",
        f"%2e%2e/user/{v}/memories",
        f"%2E%2E%2Fuser%2F{v}%2Fmemories%2Fpreferences%2Fcoffee.md",
        f"..%5Cuser%5C{v}",
        f"{caller.user}/../../user/{v}",
        f".%2e/.%2e/user/{v}/resources/diary.md",
        f"%252e%252e/user/{v}",
        "..%2f..%2f",
        ".abstract.md",
        f"{v}.md",
    ]


def _fuzz_webdav(http: httpx.Client, tenants: list[Tenant], tally: Tally) -> None:
    deadline = time.monotonic() + BUDGET["webdav"]
    for caller in tenants:
        forbidden = _forbidden(caller, tenants)
        for victim in tenants:
            for path in _dav_paths(caller, victim):
                for method, extra in (("PROPFIND", {"Depth": "1"}), ("GET", {})):
                    if time.monotonic() > deadline:
                        return
                    url = f"/webdav/resources/{path}"
                    response = http.request(method, url, headers={**caller.headers, **extra})
                    what = f"{caller.user} {method} {url}"
                    tally.count("webdav", _classify(response.status_code), what)
                    leaked = found_markers(response.content, forbidden)
                    if leaked:
                        tally.leak("webdav", what, leaked)


# -- MCP -------------------------------------------------------------------------------------


def _mcp_calls(uri: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("find", {"query": QUERY, "target_uri": uri}),
        ("search", {"query": QUERY, "target_uri": uri}),
        ("list", {"uri": uri, "recursive": True}),
        ("tree", {"uri": uri, "level_limit": 20}),
        ("stat", {"uri": uri}),
        ("read", {"uris": [uri]}),
        ("grep", {"uri": uri, "pattern": "PRIV|PUB"}),
        ("glob", {"pattern": "**", "uri": uri}),
        ("resource", {"uri": uri}),
    ]


def _mcp_outcome(text: str, is_error: bool) -> str:
    if not is_error:
        return "ok"
    code = text.split("]", 1)[0].removeprefix("Error [") if text.startswith("Error [") else ""
    return "refused" if code and code not in SERVER_CODES else "error"


async def _mcp_one(client: Client, name: str, args: dict[str, Any]) -> tuple[str, str]:
    """(outcome, answer text) of one tool call or resource read."""
    if name == "resource":
        try:
            read = await client.read_resource(args["uri"])
        except MCPError as exc:
            message = str(exc)
            server = any(code in message for code in SERVER_CODES)
            return ("error" if server else "refused"), message
        return "ok", json.dumps([c.model_dump(mode="json") for c in read.contents])
    result = await client.call_tool(name, args)
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    body = text + json.dumps(result.structured_content, default=str)
    return _mcp_outcome(text, bool(result.is_error)), body


async def _fuzz_mcp(url: str, tenants: list[Tenant], rng: random.Random, tally: Tally) -> None:
    deadline = time.monotonic() + BUDGET["mcp"]
    per_caller = BUDGET["mcp"] / len(tenants)
    for caller in tenants:
        stop = min(deadline, time.monotonic() + per_caller)
        forbidden = _forbidden(caller, tenants)
        http = httpx2.AsyncClient(headers=caller.headers, timeout=60)
        async with Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
            listed = await client.list_resources()
            tally.count("mcp", "ok", "resources/list")
            leaked = found_markers(listed.model_dump_json().encode(), forbidden)
            if leaked:
                tally.leak("mcp", f"{caller.user} resources/list", leaked)
            ancestors = [(n, a) for uri in ANCESTORS for n, a in _mcp_calls(uri)]
            rest = [(n, a) for uri in _uris(caller, tenants) for n, a in _mcp_calls(uri)]
            rest += ancestors[len(ancestors) // 2 :]
            rng.shuffle(rest)
            calls = ancestors[: len(ancestors) // 2] + rest
            for name, args in calls:
                if time.monotonic() > stop:
                    break
                outcome, body = await _mcp_one(client, name, args)
                what = f"{caller.user} {name} {args}"
                tally.count("mcp", outcome, f"{what} -> {body[:300]}")
                leaked = found_markers(body.encode(), forbidden)
                if leaked:
                    tally.leak("mcp", what, leaked)


# -- CLI -------------------------------------------------------------------------------------


def _fuzz_cli(url: str, tenants: list[Tenant], tmp_path: Path, tally: Tally) -> None:
    """A few commands of the CLI in remote mode (each one is a new process)."""
    env = clean_env(tmp_path)
    bob, ann, ivy = (next(t for t in tenants if t.user == u) for u in ("bob", "ann", "ivy"))
    commands = [
        (bob, ["find", QUERY, "-t", "viking://user"]),
        (bob, ["find", QUERY, "-t", "viking:///"]),
        (bob, ["grep", "PRIV", "viking://"]),
        (ann, ["glob", "**", "viking://user/"]),
        (ann, ["ls", "viking://user"]),
        (ann, ["read", "viking://user/bob/memories/preferences/coffee.md"]),
        (ivy, ["tree", "viking://"]),
        (ivy, ["consistency", "viking://"]),
    ]
    for caller, args in commands:
        done = subprocess.run(
            [exe("openviking"), "--url", url, "--api-key", caller.key, "-o", "json", "-c", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        what = f"{caller.user} openviking {' '.join(args)}"
        outcome = "ok"
        if done.returncode != 0:
            try:
                code = json.loads(done.stdout)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = "UNKNOWN"
            outcome = "error" if code in SERVER_CODES else "refused"
        tally.count("cli", outcome, f"{what} -> {done.stdout[:300]} {done.stderr[-300:]}")
        leaked = found_markers((done.stdout + done.stderr).encode(), _forbidden(caller, tenants))
        if leaked:
            tally.leak("cli", what, leaked)


# -- the bot's tools ---------------------------------------------------------------------------


async def _fuzz_bot(
    tmp_path: Path, tenants: list[Tenant], rng: random.Random, tally: Tally
) -> None:
    from pydantic_ai import RunContext
    from pydantic_ai.models.test import TestModel
    from pydantic_ai.usage import RunUsage

    from openviking_mcp.bot import tools
    from openviking_mcp.bot.tools import ChatDeps

    service = ContextService(tenant_config(tmp_path / "data"))
    await service.initialize()
    calls: list[tuple[str, Callable[..., Any], dict[str, Any]]] = []
    try:
        deadline = time.monotonic() + BUDGET["bot"]
        for caller in tenants:
            ctx = RequestContext(caller.account, caller.user, Role(caller.role))
            deps = ChatDeps(service=service, ctx=ctx, session_id="bot-fuzz")
            run = RunContext(deps=deps, model=TestModel(), usage=RunUsage())
            forbidden = _forbidden(caller, tenants)
            uris = ANCESTORS + rng.sample(_uris(caller, tenants), 12)
            calls = [
                (name, fn, args)
                for uri in uris
                for name, fn, args in (
                    ("find", tools.find, {"query": QUERY, "target_uri": uri, "limit": 20}),
                    ("read", tools.read, {"uri": uri}),
                    ("list", tools.list_, {"uri": uri}),
                    ("grep", tools.grep, {"uri": uri, "pattern": "PRIV|PUB"}),
                )
            ]
            calls.insert(0, ("search", tools.search, {"query": QUERY, "limit": 20}))
            for name, fn, args in calls:
                if time.monotonic() > deadline:
                    return
                text = await fn(run, **args)
                what = f"{caller.user} bot.{name} {args}"
                tally.count("bot", _mcp_outcome(text, text.startswith("Error [")), what)
                leaked = found_markers(text.encode(), forbidden)
                if leaked:
                    tally.leak("bot", what, leaked)
    finally:
        await service.close()


def test_no_tenant_sees_another_users_private_content(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    tally = Tally()
    with serving(tenant_config(tmp_path / "data")) as url:
        with httpx.Client(base_url=url, timeout=120) as http:
            tenants = seed_tenants(http, rng)
            _fuzz_rest(http, tenants, rng, tally)
            _fuzz_webdav(http, tenants, tally)
        asyncio.run(_fuzz_mcp(url, tenants, rng, tally))
        _fuzz_cli(url, tenants, tmp_path, tally)
    asyncio.run(_fuzz_bot(tmp_path, tenants, rng, tally))
    print(f"\ntenant fuzz (seed {SEED}):\n{tally.report()}")
    for surface, errors in tally.errors.items():
        print(f"5xx on {surface}: {errors[:3]}")
    for leak in tally.leaks[:10]:
        print(f"LEAK {leak}")
    assert min(tally.tries.get(s, 0) for s in ("rest", "mcp", "webdav", "cli", "bot")) > 0
    assert not tally.leaks
    assert not tally.errors
