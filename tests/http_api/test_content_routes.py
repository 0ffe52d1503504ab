"""`/api/v1/content`: read, abstract, overview, download (exact bytes), write and reindex."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import ContextService, OpenVikingConfig, RequestContext

BASE = "/api/v1/content"
ROOT_KEY = "root-key-for-content-route-tests"
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


def _write(client: TestClient, uri: str, content: str, mode: str = "create", **extra: Any) -> Any:
    body = {"uri": uri, "content": content, "mode": mode, **extra}
    return client.post(f"{BASE}/write", json=body, headers=extra.pop("headers", None))


def _read(client: TestClient, uri: str, **params: Any) -> Any:
    return client.get(f"{BASE}/read", params={"uri": uri, **params})


def test_write_modes_and_read(client: TestClient) -> None:
    uri = "viking://resources/notes/todo.md"
    created = _result(_write(client, uri, "- ship it\n", wait=True))
    assert created["uri"] == uri
    assert created["context_type"] == "resource"
    assert created["mode"] == "create"
    assert created["written_bytes"] == len(b"- ship it\n")
    assert created["content_updated"] is True
    assert created["semantic_status"] == created["vector_status"] == "complete"
    _result(_write(client, uri, "- test it\n", mode="append"))
    assert _result(_read(client, uri)) == "- ship it\n- test it\n"
    assert _result(_read(client, uri, offset=1)) == "- test it\n"
    assert _result(_read(client, uri, offset=0, limit=1)) == "- ship it\n"
    assert _result(_read(client, uri, raw=True)) == "- ship it\n- test it\n"
    replaced = _result(_write(client, uri, "new\n", mode="replace"))
    assert replaced["semantic_status"] == "queued"
    assert _result(_read(client, uri)) == "new\n"


def test_write_errors(client: TestClient) -> None:
    uri = "viking://resources/notes/todo.md"
    _error(_write(client, uri, "x", mode="replace"), 404, "NOT_FOUND")
    _error(_write(client, uri, "x", mode="append"), 404, "NOT_FOUND")
    _result(_write(client, uri, "x"))
    _error(_write(client, uri, "x"), 409, "ALREADY_EXISTS")
    bad_mode = _error(_write(client, uri, "x", mode="upsert"), 400, "INVALID_ARGUMENT")
    assert bad_mode["details"]["validation_errors"][0]["loc"] == ["body", "mode"]
    _error(_write(client, uri, "x", surprise=1), 400, "INVALID_ARGUMENT")  # extra="forbid"
    _error(_write(client, "viking://resources/notes", "x", mode="replace"), 400, "INVALID_ARGUMENT")
    missing = client.post(f"{BASE}/write", json={"uri": uri})
    _error(missing, 400, "INVALID_ARGUMENT")


def test_read_errors(client: TestClient) -> None:
    _error(_read(client, "viking://resources/none.md"), 404, "NOT_FOUND")
    _error(_read(client, "resources/none.md"), 400, "INVALID_URI")
    _result(_write(client, "viking://resources/r/a.md", "a\n"))
    _error(_read(client, "viking://resources/r/a.md", offset=-1), 400, "INVALID_ARGUMENT")
    _error(_read(client, "viking://resources/r/a.md", offset="x"), 400, "INVALID_ARGUMENT")


def test_abstract_and_overview(client: TestClient) -> None:
    empty = client.post("/api/v1/fs/mkdir", json={"uri": "viking://resources/e"})
    _result(empty)
    client.post("/api/v1/system/wait", json={"timeout": 60})
    placeholder = _result(client.get(f"{BASE}/overview", params={"uri": "viking://resources/e"}))
    assert placeholder == "# viking://resources/e\n\n[Directory overview is not ready]"

    made = client.post("/api/v1/fs/mkdir", json={"uri": "viking://resources/d", "description": "D"})
    _result(made)
    _result(_write(client, "viking://resources/d/f.md", "text about rollbacks\n", wait=True))
    client.post("/api/v1/system/wait", json={"timeout": 60})
    for uri in ("viking://resources/d", "viking://resources/d/f.md"):  # a file: its directory
        got = _result(client.get(f"{BASE}/abstract", params={"uri": uri}))
        assert got == "D"
        overview = _result(client.get(f"{BASE}/overview", params={"uri": uri}))
        assert isinstance(overview, str)
        assert "f.md" in overview
        assert not overview.startswith("---")  # body only, no front matter
    for route in ("abstract", "overview"):
        missing = client.get(f"{BASE}/{route}", params={"uri": "viking://resources/none"})
        _error(missing, 404, "NOT_FOUND")
        _error(client.get(f"{BASE}/{route}"), 400, "INVALID_ARGUMENT")


def test_download_returns_the_exact_bytes(client: TestClient) -> None:
    service: ContextService = client.app.state.service  # type: ignore[attr-defined]
    blob = bytes(range(256)) * 4 + b"\x00\xff end"
    assert client.portal is not None
    client.portal.call(service.store.write_bytes, "default/resources/bin/naïve file.bin", blob)
    response = client.get(
        f"{BASE}/download", params={"uri": "viking://resources/bin/naïve file.bin"}
    )
    assert response.status_code == 200
    assert response.content == blob
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == (
        "attachment; filename*=UTF-8''na%C3%AFve%20file.bin"
    )
    text = "héllo ✓\r\nno trailing newline"
    _result(_write(client, "viking://resources/bin/t.md", text))
    got = client.get(f"{BASE}/download", params={"uri": "viking://resources/bin/t.md"})
    assert got.content == text.encode("utf-8")
    # Binary content is for download only; read refuses it.
    _error(_read(client, "viking://resources/bin/naïve file.bin"), 400, "INVALID_ARGUMENT")


def test_download_errors(client: TestClient) -> None:
    missing = client.get(f"{BASE}/download", params={"uri": "viking://resources/none.bin"})
    assert _error(missing, 404, "NOT_FOUND")["details"]["resource"] == "viking://resources/none.bin"
    directory = client.get(f"{BASE}/download", params={"uri": "viking://resources"})
    _error(directory, 400, "INVALID_ARGUMENT")


def test_reindex(client: TestClient) -> None:
    _result(_write(client, "viking://resources/ri/a.md", "reindex me\n"))
    done = _result(client.post(f"{BASE}/reindex", json={"uri": "viking://resources/ri"}))
    assert done["status"] == "success"
    assert done["uri"] == "viking://resources/ri"
    queued = client.post(
        f"{BASE}/reindex",
        json={"uri": "viking://resources/ri", "mode": "semantic_and_vectors", "wait": False},
    )
    assert _result(queued)["status"] == "accepted"
    assert _result(queued)["task_id"]
    shallow = client.post(
        f"{BASE}/reindex", json={"uri": "viking://resources/ri", "recursive": False}
    )
    assert _result(shallow)["status"] == "success"


def test_reindex_errors(client: TestClient) -> None:
    uri = "viking://resources"
    _error(client.post(f"{BASE}/reindex", json={"uri": uri, "x": 1}), 400, "INVALID_ARGUMENT")
    _error(
        client.post(f"{BASE}/reindex", json={"uri": uri, "mode": "all"}), 400, "INVALID_ARGUMENT"
    )
    dry = client.post(f"{BASE}/reindex", json={"uri": uri, "dry_run": True})
    _error(dry, 400, "INVALID_ARGUMENT")
    prune = client.post(f"{BASE}/reindex", json={"uri": uri, "mode": "prune_orphans"})
    _error(prune, 501, "UNIMPLEMENTED")
    _error(client.post(f"{BASE}/reindex", json={"uri": "nope"}), 400, "INVALID_URI")


def test_another_users_space_is_403(keyed: Keyed) -> None:
    client, ann, ben = keyed
    uri = "viking://user/ann/resources/secret.md"
    mine = client.post(
        f"{BASE}/write", json={"uri": uri, "content": "s3cret\n", "mode": "create"}, headers=ann
    )
    assert _result(mine)["uri"] == uri
    assert _result(client.get(f"{BASE}/read", params={"uri": uri}, headers=ann)) == "s3cret\n"
    for response in (
        client.get(f"{BASE}/read", params={"uri": uri}, headers=ben),
        client.get(f"{BASE}/abstract", params={"uri": uri}, headers=ben),
        client.get(f"{BASE}/overview", params={"uri": uri}, headers=ben),
        client.get(f"{BASE}/download", params={"uri": uri}, headers=ben),
        client.post(
            f"{BASE}/write", json={"uri": uri, "content": "x", "mode": "replace"}, headers=ben
        ),
        client.post(f"{BASE}/reindex", json={"uri": "viking://user/ann"}, headers=ben),
    ):
        _error(response, 403, "PERMISSION_DENIED")
    _error(client.get(f"{BASE}/read", params={"uri": uri}), 401, "UNAUTHENTICATED")
