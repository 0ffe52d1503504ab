"""`/api/v1/content`: read, abstract, overview, download (exact bytes), write and reindex."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import ContextService
from tests.http_api._routes import Keyed, config_for, error_of, keyed_client, result_of

BASE = "/api/v1/content"


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    with TestClient(create_app(config_for(workspace))) as c:
        yield c


@pytest.fixture
def keyed(workspace: Path) -> Iterator[Keyed]:
    with keyed_client(workspace) as k:
        yield k


def _write(client: TestClient, uri: str, content: str, mode: str = "create", **extra: Any) -> Any:
    body = {"uri": uri, "content": content, "mode": mode, **extra}
    return client.post(f"{BASE}/write", json=body, headers=extra.pop("headers", None))


def _read(client: TestClient, uri: str, **params: Any) -> Any:
    return client.get(f"{BASE}/read", params={"uri": uri, **params})


def test_write_modes_and_read(client: TestClient) -> None:
    uri = "viking://resources/notes/todo.md"
    created = result_of(_write(client, uri, "- ship it\n", wait=True))
    assert created["uri"] == uri
    assert created["context_type"] == "resource"
    assert created["mode"] == "create"
    assert created["written_bytes"] == len(b"- ship it\n")
    assert created["content_updated"] is True
    assert created["semantic_status"] == created["vector_status"] == "complete"
    result_of(_write(client, uri, "- test it\n", mode="append"))
    assert result_of(_read(client, uri)) == "- ship it\n- test it\n"
    assert result_of(_read(client, uri, offset=1)) == "- test it\n"
    assert result_of(_read(client, uri, offset=0, limit=1)) == "- ship it\n"
    assert result_of(_read(client, uri, raw=True)) == "- ship it\n- test it\n"
    replaced = result_of(_write(client, uri, "new\n", mode="replace"))
    assert replaced["semantic_status"] == "queued"
    assert result_of(_read(client, uri)) == "new\n"


def test_replace_and_append_create_a_missing_file(client: TestClient) -> None:
    made = result_of(_write(client, "viking://resources/new/a/b.md", "one\n", mode="replace"))
    assert made["mode"] == "replace"
    assert made["root_uri"] == "viking://resources/new/a"
    assert made["queue_status"] is None  # not waited
    assert made["written_bytes"] == 4
    assert result_of(_read(client, "viking://resources/new/a/b.md")) == "one\n"
    stat = client.get("/api/v1/fs/stat", params={"uri": "viking://resources/new/a"})
    assert result_of(stat)["isDir"] is True  # parents are made, as create makes them
    uri = "viking://resources/new/log.txt"
    result_of(_write(client, uri, "a\n", mode="append"))
    result_of(_write(client, uri, "b\n", mode="append"))
    assert result_of(_read(client, uri)) == "a\nb\n"
    waited = result_of(
        _write(client, "viking://resources/new/c.json", "{}", mode="replace", wait=True)
    )
    queues = waited["queue_status"]
    assert {"Embedding", "Semantic"} <= set(queues)
    assert queues["Semantic"]["processed"] >= 1
    assert set(queues["Semantic"]) >= {"processed", "requeue_count", "error_count", "errors"}


def test_replace_creates_only_text_extensions(client: TestClient) -> None:
    for mode in ("replace", "append"):
        refused = error_of(
            _write(client, "viking://resources/n/data.csv", "x", mode=mode), 400, "INVALID_ARGUMENT"
        )
        assert refused["message"] == (
            "creating a new file does not allow extension '.csv': viking://resources/n/data.csv"
        )
        assert refused["details"]["extension"] == ".csv"
        hidden = error_of(
            _write(client, "viking://resources/n/.env", "x", mode=mode), 400, "INVALID_ARGUMENT"
        )
        assert "extension ''" in hidden["message"]
    missing = client.get("/api/v1/fs/stat", params={"uri": "viking://resources/n"})
    error_of(missing, 404, "NOT_FOUND")  # a refused write makes no folder either
    upper = result_of(_write(client, "viking://resources/n/README.MD", "r", mode="replace"))
    assert upper["uri"] == "viking://resources/n/README.MD"
    result_of(_write(client, "viking://resources/n/data.csv", "a,b\n", mode="create"))
    replaced = _write(client, "viking://resources/n/data.csv", "c,d\n", mode="replace")
    assert result_of(replaced)["written_bytes"] == 4  # an existing file of any name
    result_of(client.post("/api/v1/fs/mkdir", json={"uri": "viking://resources/s"}))
    for name in (".abstract.md", ".overview.md"):
        sidecar = _write(client, f"viking://resources/s/x/{name}", "x", mode="replace")
        assert "cannot create generated abstract overview" in error_of(sidecar, 400)["message"]


def test_write_errors(client: TestClient) -> None:
    uri = "viking://resources/notes/todo.md"
    result_of(_write(client, uri, "x"))
    error_of(_write(client, uri, "x"), 409, "ALREADY_EXISTS")
    bad_mode = error_of(_write(client, uri, "x", mode="upsert"), 400, "INVALID_ARGUMENT")
    assert bad_mode["details"]["validation_errors"][0]["loc"] == ["body", "mode"]
    error_of(_write(client, uri, "x", surprise=1), 400, "INVALID_ARGUMENT")  # extra="forbid"
    error_of(
        _write(client, "viking://resources/notes", "x", mode="replace"), 400, "INVALID_ARGUMENT"
    )
    missing = client.post(f"{BASE}/write", json={"uri": uri})
    error_of(missing, 400, "INVALID_ARGUMENT")


def test_read_errors(client: TestClient) -> None:
    error_of(_read(client, "viking://resources/none.md"), 404, "NOT_FOUND")
    error_of(_read(client, "resources/none.md"), 400, "INVALID_URI")
    result_of(_write(client, "viking://resources/r/a.md", "a\n"))
    error_of(_read(client, "viking://resources/r/a.md", offset=-1), 400, "INVALID_ARGUMENT")
    error_of(_read(client, "viking://resources/r/a.md", offset="x"), 400, "INVALID_ARGUMENT")


def test_abstract_and_overview(client: TestClient) -> None:
    empty = client.post("/api/v1/fs/mkdir", json={"uri": "viking://resources/e"})
    result_of(empty)
    client.post("/api/v1/system/wait", json={"timeout": 60})
    placeholder = result_of(client.get(f"{BASE}/overview", params={"uri": "viking://resources/e"}))
    assert placeholder == "# viking://resources/e\n\n[Directory overview is not ready]"

    made = client.post("/api/v1/fs/mkdir", json={"uri": "viking://resources/d", "description": "D"})
    result_of(made)
    result_of(_write(client, "viking://resources/d/f.md", "text about rollbacks\n", wait=True))
    client.post("/api/v1/system/wait", json={"timeout": 60})
    for uri in ("viking://resources/d", "viking://resources/d/f.md"):  # a file: its directory
        got = result_of(client.get(f"{BASE}/abstract", params={"uri": uri}))
        assert got == "D"
        overview = result_of(client.get(f"{BASE}/overview", params={"uri": uri}))
        assert isinstance(overview, str)
        assert "f.md" in overview
        assert not overview.startswith("---")  # body only, no front matter
    for route in ("abstract", "overview"):
        missing = client.get(f"{BASE}/{route}", params={"uri": "viking://resources/none"})
        error_of(missing, 404, "NOT_FOUND")
        error_of(client.get(f"{BASE}/{route}"), 400, "INVALID_ARGUMENT")


def test_download_returns_the_exact_bytes(client: TestClient) -> None:
    service: ContextService = client.app.state.service  # type: ignore[attr-defined]
    blob = bytes(range(256)) * 4 + b"\x00\xff end"
    assert client.portal is not None
    client.portal.call(
        service.store.content.write_bytes, "default/resources/bin/naïve file.bin", blob
    )
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
    result_of(_write(client, "viking://resources/bin/t.md", text))
    got = client.get(f"{BASE}/download", params={"uri": "viking://resources/bin/t.md"})
    assert got.content == text.encode("utf-8")
    # Binary content is for download only; read refuses it.
    error_of(_read(client, "viking://resources/bin/naïve file.bin"), 400, "INVALID_ARGUMENT")


def test_download_errors(client: TestClient) -> None:
    missing = client.get(f"{BASE}/download", params={"uri": "viking://resources/none.bin"})
    assert (
        error_of(missing, 404, "NOT_FOUND")["details"]["resource"] == "viking://resources/none.bin"
    )
    directory = client.get(f"{BASE}/download", params={"uri": "viking://resources"})
    error_of(directory, 400, "INVALID_ARGUMENT")


def test_reindex(client: TestClient) -> None:
    result_of(_write(client, "viking://resources/ri/a.md", "reindex me\n"))
    result_of(_write(client, "viking://resources/ri/sub/b.md", "and me\n"))
    done = result_of(client.post(f"{BASE}/reindex", json={"uri": "viking://resources/ri"}))
    assert done["status"] == "completed"
    assert done["uri"] == "viking://resources/ri"
    assert (done["object_type"], done["mode"]) == ("resource", "vectors_only")
    # two files and two directories (ri, ri/sub) rebuilt
    assert (done["scanned_records"], done["rebuilt_records"], done["files_indexed"]) == (4, 4, 2)
    assert done["deleted_records"] == done["unsupported_records"] == done["failed_records"] == 0
    assert done["rows_written"] >= 4
    assert isinstance(done["duration_ms"], int)
    assert done["warnings"] == []
    queued = client.post(
        f"{BASE}/reindex",
        json={"uri": "viking://resources/ri", "mode": "semantic_and_vectors", "wait": False},
    )
    assert set(result_of(queued)) == {"status", "task_id", "uri", "object_type", "mode"}
    assert result_of(queued)["status"] == "accepted"
    assert result_of(queued)["task_id"]
    assert result_of(queued)["mode"] == "semantic_and_vectors"
    shallow = client.post(
        f"{BASE}/reindex", json={"uri": "viking://resources/ri/a.md", "recursive": False}
    )
    assert result_of(shallow)["status"] == "completed"
    assert result_of(shallow)["rebuilt_records"] == 1


def test_reindex_object_types_and_sessions(client: TestClient) -> None:
    def reindex(uri: str) -> Any:
        return client.post(f"{BASE}/reindex", json={"uri": uri})

    kinds = {
        "viking://": "global_namespace",
        "viking://user/default": "user_namespace",
        "viking://~/memories": "memory",
        "viking://agent/skills": "skill_namespace",
        "viking://resources": "resource",
    }
    for uri, kind in kinds.items():
        assert result_of(reindex(uri))["object_type"] == kind, uri
    for uri in ("viking://~/sessions", "viking://session/s1", "viking://user/default/sessions/x"):
        refused = error_of(reindex(uri), 400, "INVALID_URI")
        assert refused["details"]["reason"] == "sessions are not indexed and cannot be reindexed"


def test_reindex_errors(client: TestClient) -> None:
    uri = "viking://resources"
    error_of(client.post(f"{BASE}/reindex", json={"uri": uri, "x": 1}), 400, "INVALID_ARGUMENT")
    error_of(
        client.post(f"{BASE}/reindex", json={"uri": uri, "mode": "all"}), 400, "INVALID_ARGUMENT"
    )
    dry = client.post(f"{BASE}/reindex", json={"uri": uri, "dry_run": True})
    error_of(dry, 400, "INVALID_ARGUMENT")
    prune = client.post(f"{BASE}/reindex", json={"uri": uri, "mode": "prune_orphans"})
    error_of(prune, 501, "UNIMPLEMENTED")
    error_of(client.post(f"{BASE}/reindex", json={"uri": "nope"}), 400, "INVALID_URI")


def test_another_users_space_is_403(keyed: Keyed) -> None:
    client, ann, ben = keyed
    uri = "viking://user/ann/resources/secret.md"
    mine = client.post(
        f"{BASE}/write", json={"uri": uri, "content": "s3cret\n", "mode": "create"}, headers=ann
    )
    assert result_of(mine)["uri"] == uri
    assert result_of(client.get(f"{BASE}/read", params={"uri": uri}, headers=ann)) == "s3cret\n"
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
        error_of(response, 403, "PERMISSION_DENIED")
    error_of(client.get(f"{BASE}/read", params={"uri": uri}), 401, "UNAUTHENTICATED")
