"""`/api/v1/fs`: ls, tree, stat, mkdir, rm (DELETE) and mv, with envelopes and errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import ContextService, OpenVikingConfig, RequestContext

BASE = "/api/v1/fs"
ROOT_KEY = "root-key-for-fs-route-tests"
Keyed = tuple[TestClient, dict[str, str], dict[str, str]]


def _config(workspace: Path, **server: Any) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "server": server,
        }
    )


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_config(workspace))) as c:
        yield c


@pytest.fixture
def keyed(workspace: Path) -> Iterator[Keyed]:
    """api_key mode with ann (ADMIN of acme) and ben (USER of acme): client and their headers."""
    with TestClient(create_app(_config(workspace, root_api_key=ROOT_KEY))) as c:
        service: ContextService = c.app.state.service  # type: ignore[attr-defined]
        assert c.portal is not None
        ann = c.portal.call(service.create_account, RequestContext.root(), "acme", "ann")
        ann_ctx = c.portal.call(service.resolve_api_key, ann["user_key"])
        ben = c.portal.call(service.create_user, ann_ctx, "acme", "ben")
        yield c, {"X-API-Key": ann["user_key"]}, {"Authorization": f"Bearer {ben['user_key']}"}


def _result(response: Any) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"status", "result", "time"}
    assert body["status"] == "ok"
    assert isinstance(body["time"], float)
    return body["result"]


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error"
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    return error


def _populate(client: TestClient) -> None:
    made = client.post(
        f"{BASE}/mkdir", json={"uri": "viking://resources/proj", "description": "Project notes"}
    )
    assert _result(made) == {"uri": "viking://resources/proj"}
    for path, text in (("proj/a.md", "alpha\n"), ("proj/sub/b.md", "beta\n")):
        write = client.post(
            "/api/v1/content/write",
            json={"uri": f"viking://resources/{path}", "content": text, "mode": "create"},
        )
        _result(write)


def test_mkdir(client: TestClient) -> None:
    _populate(client)
    again = client.post(f"{BASE}/mkdir", json={"uri": "viking://resources/proj"})
    assert _error(again, 409, "ALREADY_EXISTS")["details"]["resource"] == "viking://resources/proj"
    nested = client.post(f"{BASE}/mkdir", json={"uri": "viking://resources/n/e/s/t"})
    assert _result(nested) == {"uri": "viking://resources/n/e/s/t"}  # parents are created
    _error(client.post(f"{BASE}/mkdir", json={}), 400, "INVALID_ARGUMENT")
    _error(client.post(f"{BASE}/mkdir", json={"uri": "viking://temp/x"}), 400, "INVALID_URI")


def test_ls_forms(client: TestClient) -> None:
    _populate(client)
    agent = _result(client.get(f"{BASE}/ls", params={"uri": "viking://resources/proj"}))
    assert [e["uri"] for e in agent] == [
        "viking://resources/proj/sub",
        "viking://resources/proj/a.md",
    ]  # directories first, hidden sidecars left out
    assert all(set(e) == {"uri", "size", "isDir", "modTime", "abstract"} for e in agent)
    assert agent[1]["abstract"] == ""
    assert agent[1]["size"] == len(b"alpha\n")
    parent = _result(client.get(f"{BASE}/ls", params={"uri": "viking://resources"}))
    proj = next(e for e in parent if e["uri"] == "viking://resources/proj")
    assert proj["isDir"] is True
    assert proj["abstract"] == "Project notes"
    short = _result(client.get(f"{BASE}/ls", params={"uri": "viking://resources", "abs_limit": 6}))
    assert next(e for e in short if e["uri"].endswith("/proj"))["abstract"] == "Pro..."

    original = _result(
        client.get(f"{BASE}/ls", params={"uri": "viking://resources/proj", "output": "original"})
    )
    assert {e["name"] for e in original} == {"sub", "a.md"}
    assert {"name", "size", "mode", "modTime", "isDir", "uri"} <= set(original[0])

    simple = client.get(f"{BASE}/ls", params={"uri": "viking://resources/proj", "simple": True})
    assert _result(simple) == ["viking://resources/proj/sub", "viking://resources/proj/a.md"]
    limited = client.get(f"{BASE}/ls", params={"uri": "viking://resources/proj", "limit": 1})
    assert len(_result(limited)) == 1
    hidden = client.get(
        f"{BASE}/ls",
        params={"uri": "viking://resources/proj", "show_all_hidden": True, "simple": True},
    )
    assert "viking://resources/proj/.abstract.md" in _result(hidden)
    deep = client.get(
        f"{BASE}/ls", params={"uri": "viking://resources/proj", "recursive": True, "simple": True}
    )
    assert "viking://resources/proj/sub/b.md" in _result(deep)


def test_ls_errors(client: TestClient) -> None:
    missing = _error(
        client.get(f"{BASE}/ls", params={"uri": "viking://resources/none"}), 404, "NOT_FOUND"
    )
    assert "viking://resources/none" in missing["message"]
    bad = client.get(f"{BASE}/ls", params={"uri": "viking://resources", "output": "fancy"})
    assert _error(bad, 400, "INVALID_ARGUMENT")["details"]["validation_errors"]
    _error(client.get(f"{BASE}/ls"), 400, "INVALID_ARGUMENT")  # uri is required
    _error(client.get(f"{BASE}/ls", params={"uri": "http://x"}), 400, "INVALID_URI")
    zero = client.get(f"{BASE}/ls", params={"uri": "viking://resources", "node_limit": 0})
    _error(zero, 400, "INVALID_ARGUMENT")


def test_tree(client: TestClient) -> None:
    _populate(client)
    tree = _result(client.get(f"{BASE}/tree", params={"uri": "viking://resources/proj"}))
    assert {e["rel_path"] for e in tree} == {"a.md", "sub/", "sub/b.md"}
    assert all("abstract" in e for e in tree)
    shallow = client.get(
        f"{BASE}/tree", params={"uri": "viking://resources/proj", "level_limit": 1}
    )
    assert {e["rel_path"] for e in _result(shallow)} == {"a.md", "sub/"}
    _error(client.get(f"{BASE}/tree", params={"uri": "viking://resources/x"}), 404, "NOT_FOUND")


def test_stat(client: TestClient) -> None:
    _populate(client)
    _result(client.post("/api/v1/system/wait", json={"timeout": 60}))  # refreshes hold locks
    info = _result(client.get(f"{BASE}/stat", params={"uri": "viking://resources/proj/a.md"}))
    assert info["name"] == "a.md"
    assert info["size"] == len(b"alpha\n")
    assert info["isDir"] is False
    assert info["isLocked"] is False
    assert {"mode", "modTime"} <= set(info)
    assert _result(client.get(f"{BASE}/stat", params={"uri": "viking://resources/proj"}))["isDir"]
    _error(client.get(f"{BASE}/stat", params={"uri": "viking://resources/q"}), 404, "NOT_FOUND")


def test_rm(client: TestClient) -> None:
    _populate(client)
    refused = client.delete(BASE, params={"uri": "viking://resources/proj"})
    assert _error(refused, 412, "FAILED_PRECONDITION")["details"]["expected_flag"] == "recursive"
    removed = client.delete(BASE, params={"uri": "viking://resources/proj/a.md"})
    assert _result(removed)["uri"] == "viking://resources/proj/a.md"
    gone = client.delete(BASE, params={"uri": "viking://resources/proj", "recursive": True})
    assert _result(gone)["uri"] == "viking://resources/proj"
    _error(client.get(f"{BASE}/stat", params={"uri": "viking://resources/proj"}), 404, "NOT_FOUND")
    _error(client.delete(BASE, params={"uri": "viking://resources/proj"}), 404, "NOT_FOUND")


def test_mv(client: TestClient) -> None:
    _populate(client)
    body = {"from_uri": "viking://resources/proj", "to_uri": "viking://resources/archive/proj"}
    assert _result(client.post(f"{BASE}/mv", json=body)) == {
        "from": "viking://resources/proj",
        "to": "viking://resources/archive/proj",
    }
    moved = client.get(f"{BASE}/stat", params={"uri": "viking://resources/archive/proj/a.md"})
    assert _result(moved)["name"] == "a.md"
    _error(client.post(f"{BASE}/mv", json=body), 404, "NOT_FOUND")  # the source is gone
    _populate(client)
    _error(client.post(f"{BASE}/mv", json=body), 409, "ALREADY_EXISTS")
    to_dir = {"from_uri": "viking://resources/proj/a.md", "to_uri": "viking://resources/x/"}
    _error(client.post(f"{BASE}/mv", json=to_dir), 400, "INVALID_ARGUMENT")
    _error(client.post(f"{BASE}/mv", json={"from_uri": "x"}), 400, "INVALID_ARGUMENT")


def test_another_users_space_is_403(keyed: Keyed) -> None:
    client, ann, ben = keyed
    own = client.get(f"{BASE}/ls", params={"uri": "viking://~", "simple": True}, headers=ann)
    assert "viking://user/ann/memories" in _result(own)
    uri = "viking://user/ann/resources"
    for response in (
        client.get(f"{BASE}/ls", params={"uri": uri}, headers=ben),
        client.get(f"{BASE}/tree", params={"uri": uri}, headers=ben),
        client.get(f"{BASE}/stat", params={"uri": uri}, headers=ben),
        client.post(f"{BASE}/mkdir", json={"uri": f"{uri}/x"}, headers=ben),
        client.delete(BASE, params={"uri": uri, "recursive": True}, headers=ben),
        client.post(
            f"{BASE}/mv", json={"from_uri": uri, "to_uri": "viking://~/resources/x"}, headers=ben
        ),
    ):
        _error(response, 403, "PERMISSION_DENIED")
    _error(client.get(f"{BASE}/ls", params={"uri": uri}), 401, "UNAUTHENTICATED")
