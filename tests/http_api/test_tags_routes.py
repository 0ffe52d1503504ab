"""Tags, attributes and batch writes over HTTP: ``/api/v1/content/set_tags``,
``/api/v1/fs/attrs``, ``/api/v1/fs/attrs/set_tags``, ``/api/v1/content/reindex`` with tags and
``/api/v1/content/batch-write``."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from tests.http_api._routes import Keyed, config_for, error_of, keyed_client, result_of

CONTENT = "/api/v1/content"
ATTRS = "/api/v1/fs/attrs"
DOC = "viking://resources/tagged/a.md"


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    with TestClient(create_app(config_for(workspace))) as c:
        yield c


@pytest.fixture
def keyed(workspace: Path) -> Iterator[Keyed]:
    with keyed_client(workspace) as k:
        yield k


def _write(client: TestClient, uri: str, text: str, **headers: Any) -> None:
    body = {"uri": uri, "content": text, "mode": "create", "wait": True}
    result_of(client.post(f"{CONTENT}/write", json=body, headers=headers or None))


def _tags(client: TestClient, uri: str) -> list[str]:
    return list(result_of(client.get(ATTRS, params={"uri": uri}))["attrs"]["tags"])


def test_set_tags_on_both_routes_and_read_them_back(client: TestClient) -> None:
    _write(client, DOC, "tagged notes\n")
    body = {"uri": DOC, "tags": ["Team=Core"], "telemetry": False}
    result = result_of(client.post(f"{CONTENT}/set_tags", json=body))
    assert result == {
        "uri": DOC,
        "updated_uris": [DOC],
        "root_uri": "viking://resources/tagged",
        "context_type": "resource",
        "tags": ["team=core"],
        "mode": "replace",
        "success_count": 1,
        "skipped_count": 0,
        "failed_count": 0,
        "tags_updated": True,
    }
    assert result_of(client.get(ATTRS, params={"uri": DOC})) == {
        "uri": DOC,
        "context_type": "resource",
        "attrs": {"tags": ["team=core"]},
    }
    appended = {"uri": DOC, "tags": ["kind=note"], "mode": "append", "recursive": False}
    assert result_of(client.post(f"{ATTRS}/set_tags", json=appended))["tags_updated"] is True
    assert _tags(client, DOC) == ["team=core", "kind=note"]
    found = client.post(
        "/api/v1/search/find", json={"query": "tagged notes", "tags": ["kind=note"]}
    )
    assert [hit["uri"] for hit in result_of(found)["resources"]] == [DOC]
    result_of(client.post(f"{ATTRS}/set_tags", json={"uri": DOC, "mode": "clear"}))
    assert _tags(client, DOC) == []


def test_set_tags_errors(client: TestClient) -> None:
    _write(client, DOC, "tagged notes\n")
    route = f"{CONTENT}/set_tags"
    error_of(client.post(route, json={"uri": DOC, "tags": ["novalue"]}), 400, "INVALID_ARGUMENT")
    error_of(client.post(route, json={"uri": DOC, "mode": "merge"}), 400, "INVALID_ARGUMENT")
    error_of(client.post(route, json={"uri": DOC, "colour": "red"}), 400, "INVALID_ARGUMENT")
    missing = {"uri": "viking://resources/nope.md", "tags": ["a=b"]}
    error_of(client.post(route, json=missing), 404, "NOT_FOUND")
    error_of(client.get(ATTRS, params={"uri": "viking://resources/nope.md"}), 404, "NOT_FOUND")
    error_of(client.get(ATTRS, params={"uri": "nope"}), 400, "INVALID_URI")
    assert _tags(client, DOC) == []


def test_reindex_with_tags(client: TestClient) -> None:
    _write(client, DOC, "tagged notes\n")
    body = {"uri": "viking://resources/tagged", "tags": ["src=import"], "tag_mode": "append"}
    result_of(client.post(f"{CONTENT}/reindex", json=body))
    assert _tags(client, DOC) == ["src=import"]
    assert _tags(client, "viking://resources/tagged") == ["src=import"]
    cleared = {"uri": "viking://resources/tagged", "tags": None, "tag_mode": "clear"}
    result_of(client.post(f"{CONTENT}/reindex", json=cleared))
    assert _tags(client, DOC) == []


def test_tags_of_another_users_space_are_403(keyed: Keyed) -> None:
    client, ann, ben = keyed
    uri = "viking://user/ann/resources/secret.md"
    _write(client, uri, "s3cret\n", **ann)
    body = {"uri": uri, "tags": ["a=b"]}
    error_of(client.post(f"{CONTENT}/set_tags", json=body, headers=ben), 403, "PERMISSION_DENIED")
    error_of(client.get(ATTRS, params={"uri": uri}, headers=ben), 403, "PERMISSION_DENIED")
    assert result_of(client.post(f"{ATTRS}/set_tags", json=body, headers=ann))["tags"] == ["a=b"]


def test_batch_write(client: TestClient) -> None:
    root = "viking://resources/batch"
    body = {
        "root_uri": root,
        "operations": [
            {"uri": f"{root}/a.md", "content": "alpha\n", "mode": "create"},
            {"uri": f"{root}/sub/b.bin", "content_base64": base64.b64encode(b"\x00\xff").decode()},
            {"uri": f"{root}/c.md", "content": "gamma\n", "tags": ["k=v"], "acl": None},
        ],
        "wait": True,
        "telemetry": False,
        "skip_conflicts": False,
    }
    result = result_of(client.post(f"{CONTENT}/batch-write", json=body))
    assert result["root_uri"] == root
    assert sorted(result["created"]) == [f"{root}/a.md", f"{root}/c.md", f"{root}/sub/b.bin"]
    assert (result["updated"], result["unchanged"]) == ([], [])
    assert result["semantic_status"] == result["vector_status"] == "complete"
    download = client.get(f"{CONTENT}/download", params={"uri": f"{root}/sub/b.bin"})
    assert download.content == b"\x00\xff"
    assert _tags(client, f"{root}/c.md") == ["k=v"]


def test_a_bad_batch_writes_nothing(client: TestClient) -> None:
    root = "viking://resources/batch"
    first = {"uri": f"{root}/first.md", "content": "x"}
    route = f"{CONTENT}/batch-write"
    outside = {"root_uri": root, "operations": [first, {"uri": "viking://resources/x.md"}]}
    error = error_of(client.post(route, json=outside), 400, "INVALID_ARGUMENT")
    assert "operations[1]" in error["message"]
    both = {"uri": f"{root}/b.md", "content": "x", "content_base64": "eA=="}
    error = error_of(client.post(route, json={"root_uri": root, "operations": [first, both]}), 400)
    assert "operations[1]" in error["message"]
    acl = {"root_uri": root, "operations": [{**first, "acl": {"entries": []}}]}
    error_of(client.post(route, json=acl), 501, "UNIMPLEMENTED")
    skip = {"root_uri": root, "operations": [first], "skip_conflicts": True}
    error_of(client.post(route, json=skip), 501, "UNIMPLEMENTED")
    typo = {"root_uri": root, "operations": [{**first, "contnet": "x"}]}
    error_of(client.post(route, json=typo), 400, "INVALID_ARGUMENT")
    error_of(client.get(f"{CONTENT}/read", params={"uri": f"{root}/first.md"}), 404)
