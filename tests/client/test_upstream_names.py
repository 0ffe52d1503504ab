"""The HTTP clients answer to openviking-sdk's method names, with its parameters.

``upstream_sdk_0_1_17.json`` is the SDK's public surface, read from its source by
``snapshot_upstream_sdk.py`` (regenerate it with that script when the SDK is upgraded). The
tests need no SDK installed; when its source is at hand (``OPENVIKING_SDK_SOURCE``, or the
unpacked wheel at /tmp/ovref/sdk) they also check the snapshot against it, live.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from openviking_mcp import AsyncHTTPClient, SyncHTTPClient
from openviking_mcp.client._upstream import UPSTREAM_ADAPTERS
from openviking_mcp.client._upstream_unsupported import UNSUPPORTED
from openviking_mcp.contract.errors import NotFoundError, UnimplementedError
from tests.client._mock import Recorder, envelope_error, envelope_ok
from tests.client.snapshot_upstream_sdk import SNAPSHOT, snapshot

URL = "http://ov.test"
CLIENTS = {"SyncHTTPClient": SyncHTTPClient, "AsyncHTTPClient": AsyncHTTPClient}
UPSTREAM: dict[str, dict[str, Any]] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["classes"]

# Methods that both have: the SDK parameters our method does not take yet (each also listed in
# docs/compatibility.md). A new gap fails the test; a closed one only needs removing here.
KNOWN_GAPS: dict[str, set[str]] = {
    "glob": {"extra_fields"},
    "reindex": {"force"},
}


def _ours(cls: type, name: str) -> list[dict[str, Any]]:
    """Our method's parameters in the snapshot's form."""
    params = []
    for p in inspect.signature(getattr(cls, name)).parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        kind = "keyword" if p.kind is p.KEYWORD_ONLY else "positional"
        params.append({"name": p.name, "kind": kind, "default": p.default is not p.empty})
    return params


def _methods(cls_name: str) -> list[str]:
    members = UPSTREAM[cls_name]
    return [n for n, m in members.items() if m["kind"] in ("sync", "async")]


# -- names and parameters ------------------------------------------------------------------


def test_snapshot_is_the_sdks_surface() -> None:
    assert set(UPSTREAM) == set(CLIENTS)
    assert len(_methods("SyncHTTPClient")) > 90
    assert "wait_processed" in UPSTREAM["SyncHTTPClient"]
    assert "git_commit" in UPSTREAM["AsyncHTTPClient"]  # the async client has more


@pytest.mark.parametrize("cls_name", sorted(CLIENTS))
def test_every_upstream_name_exists(cls_name: str) -> None:
    ours = CLIENTS[cls_name]
    missing = [name for name in UPSTREAM[cls_name] if not hasattr(ours, name)]
    assert missing == []


@pytest.mark.parametrize("cls_name", sorted(CLIENTS))
def test_adapters_take_the_sdks_parameters_exactly(cls_name: str) -> None:
    """Names only the SDK has: same parameter names, order, kinds and optionality."""
    checked = 0
    for name in _methods(cls_name):
        if name in UPSTREAM_ADAPTERS or name in UNSUPPORTED:
            expected = UPSTREAM[cls_name][name]["parameters"]
            assert _ours(CLIENTS[cls_name], name) == expected, name
            checked += 1
    assert checked > 50


@pytest.mark.parametrize("cls_name", sorted(CLIENTS))
def test_shared_names_accept_the_sdks_parameters(cls_name: str) -> None:
    """Names both have: every SDK parameter is accepted, but for the listed gaps."""
    for name in _methods(cls_name):
        if name in UPSTREAM_ADAPTERS or name in UNSUPPORTED:
            continue
        ours = {p["name"] for p in _ours(CLIENTS[cls_name], name)}
        theirs = {p["name"] for p in UPSTREAM[cls_name][name]["parameters"]}
        assert theirs - ours <= KNOWN_GAPS.get(name, set()), name


# Methods whose positional parameters do not follow the SDK's order (none left); the SDK's
# names of parameters we call otherwise (none left either).
KNOWN_ORDER_GAPS: set[str] = set()
RENAMED: dict[str, str] = {}


@pytest.mark.parametrize("cls_name", sorted(CLIENTS))
def test_shared_names_take_positional_arguments_in_the_sdks_order(cls_name: str) -> None:
    for name in _methods(cls_name):
        if name in UPSTREAM_ADAPTERS or name in UNSUPPORTED or name in KNOWN_ORDER_GAPS:
            continue
        params = _ours(CLIENTS[cls_name], name)
        ours = [p["name"] for p in params if p["kind"] == "positional"]
        theirs = [
            RENAMED.get(p["name"], p["name"])
            for p in UPSTREAM[cls_name][name]["parameters"]
            if p["kind"] == "positional"
        ]
        taken = {p["name"] for p in params}
        common = next((i for i, n in enumerate(theirs) if n not in taken), len(theirs))
        assert ours[:common] == theirs[:common], name


def test_the_async_client_awaits_what_the_sdk_awaits() -> None:
    for name in _methods("AsyncHTTPClient"):
        if UPSTREAM["AsyncHTTPClient"][name]["kind"] == "async":
            assert inspect.iscoroutinefunction(getattr(AsyncHTTPClient, name)), name
    for name in _methods("SyncHTTPClient"):
        assert not inspect.iscoroutinefunction(getattr(SyncHTTPClient, name)), name


def _sdk_source() -> Path | None:
    for root in (os.environ.get("OPENVIKING_SDK_SOURCE"), "/tmp/ovref/sdk"):
        if root and (Path(root) / "openviking_sdk" / "client.py").is_file():
            return Path(root)
    return None


def test_snapshot_matches_the_sdk_when_at_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    root = _sdk_source()
    if root is None:
        pytest.skip("openviking-sdk source not found (set OPENVIKING_SDK_SOURCE to compare live)")
    source = (root / "openviking_sdk" / "client.py").read_text(encoding="utf-8")
    assert snapshot(source) == UPSTREAM
    monkeypatch.syspath_prepend(str(root))
    try:
        sdk = importlib.import_module("openviking_sdk")
    except ImportError as exc:  # its own dependencies are missing here
        pytest.skip(f"openviking-sdk not importable: {exc}")
    try:
        for cls_name, ours in CLIENTS.items():
            theirs = getattr(sdk, cls_name)
            public = [n for n in dir(theirs) if not n.startswith("_")]
            assert [n for n in public if not hasattr(ours, n)] == [], cls_name
    finally:
        for module in [m for m in sys.modules if m.split(".")[0] == "openviking_sdk"]:
            del sys.modules[module]


# -- behaviour against a mock server -------------------------------------------------------


def _session(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/s1"):
        return envelope_ok({"session_id": "s1"})
    return envelope_error(404, "NOT_FOUND", "Session not found: nope", {"resource": "nope"})


def _recorder() -> Recorder:
    users = [{"user_id": "alice", "role": "admin"}, {"user_id": "bob", "role": "user"}]
    return Recorder(
        {
            "POST /api/v1/system/wait": envelope_ok({"pending": 0, "queues": {}}),
            "GET /api/v1/sessions/s1": _session,
            "GET /api/v1/sessions/nope": _session,
            "GET /api/v1/sessions/s1/context": envelope_ok({"messages": [], "budget": 64}),
            "POST /api/v1/admin/accounts/acme/users": envelope_ok({"user_id": "bob", "key": "k"}),
            "GET /api/v1/admin/accounts/acme/users": envelope_ok(users),
            "GET /api/v1/admin/accounts/acme/users/alice": envelope_ok(users[0]),
            "GET /api/v1/observer/system": envelope_ok({"is_healthy": True, "components": {}}),
            "GET /api/v1/content/read": envelope_ok("---\nmeta\n---\nbody"),
            "POST /api/v1/pack/export": httpx.Response(200, content=b"PK-pack-bytes"),
        }
    )


def test_sync_aliases_call_our_routes(tmp_path: Path) -> None:
    recorder = _recorder()
    with SyncHTTPClient(URL, "k", timeout=5.0, transport=recorder.transport) as ov:
        assert ov.wait_processed() == {"pending": 0, "queues": {}}
        assert recorder.last.url.path == "/api/v1/system/wait"
        assert ov.session_exists("s1") is True
        assert ov.session_exists("nope") is False
        assert ov.get_session_context("s1", 64) == {"messages": [], "budget": 64}
        assert recorder.last.url.params["token_budget"] == "64"
        assert ov.admin_register_user("acme", "bob", "user") == {"user_id": "bob", "key": "k"}
        assert recorder.json() == {"user_id": "bob", "role": "user"}
        assert ov.admin_get_user("acme", "alice") == {"user_id": "alice", "role": "admin"}
        assert ov.admin_list_users("acme", role="user") == [{"user_id": "bob", "role": "user"}]
        assert ov.admin_list_users("acme", 1, page=2) == [{"user_id": "bob", "role": "user"}]
        with pytest.raises(NotFoundError):
            ov.admin_get_user("acme", "carol")
        assert ov.is_healthy() is True
        assert ov.observer.system["is_healthy"] is True
        assert ov.read_raw("viking://resources/a.md", 0, 5).endswith("body")
        assert recorder.last.url.params["raw"] == "true"
        assert recorder.last.url.params["limit"] == "5"
        saved = ov.export_ovpack("viking://resources/docs", str(tmp_path))
    assert saved == str(tmp_path / "docs.ovpack")
    assert Path(saved).read_bytes() == b"PK-pack-bytes"


@pytest.mark.anyio
async def test_async_aliases_call_our_routes(tmp_path: Path) -> None:
    recorder = _recorder()
    async with AsyncHTTPClient(URL, "k", timeout=5.0, transport=recorder.transport) as ov:
        assert await ov.wait_processed() == {"pending": 0, "queues": {}}
        assert await ov.session_exists("nope") is False
        assert await ov.get_status() == {"is_healthy": True, "components": {}}
        assert await ov.observer.system == {"is_healthy": True, "components": {}}
        assert await ov.is_healthy() is True
        target = tmp_path / "out" / "backup"
        saved = await ov.export_ovpack("viking://resources/docs", str(target))
    assert saved == f"{target}.ovpack"
    assert await asyncio.to_thread(Path(saved).read_bytes) == b"PK-pack-bytes"


@pytest.mark.anyio
async def test_key_seeds_are_refused_not_dropped() -> None:
    recorder = _recorder()
    async with AsyncHTTPClient(URL, "k", timeout=5.0, transport=recorder.transport) as ov:
        with pytest.raises(UnimplementedError, match="seed"):
            await ov.admin_register_user("acme", "bob", seed="fixed")
    assert recorder.requests == []


def test_sdk_positional_calls_and_options_reach_the_body() -> None:
    recorder = Recorder({"POST /api/v1/search/find": envelope_ok({"resources": [], "total": 0})})
    with SyncHTTPClient(URL, "k", timeout=5.0, transport=recorder.transport) as ov:
        options = {"score_threshold": 0.5, "tags": None, "extra": {"tags": ["a"]}}
        assert ov.find("q", "viking://resources", 5, None, options)["total"] == 0
    assert recorder.json() == {
        "query": "q",
        "target_uri": "viking://resources",
        "limit": 5,
        "score_threshold": 0.5,  # from options
        "tags": ["a"],  # from options' extra
        "time_field": "updated_at",
        "include_provenance": False,
    }


def test_missing_features_raise_unimplemented_without_a_request() -> None:
    recorder = _recorder()
    with SyncHTTPClient(URL, "k", timeout=5.0, transport=recorder.transport) as ov:
        with pytest.raises(UnimplementedError, match="acl_get") as info:
            ov.acl_get("viking://resources")
        assert info.value.details == {"method": "acl_get", "feature": "access control lists"}
        with pytest.raises(UnimplementedError, match="snapshots"):
            ov.snapshot  # noqa: B018 - a property that refuses
        with pytest.raises(UnimplementedError, match="resource watches"):
            ov.list_watches()
    assert recorder.requests == []
