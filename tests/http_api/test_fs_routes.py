"""`/api/v1/fs`: ls, tree, stat, mkdir, rm (DELETE), mv and cp, with envelopes and errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from tests.http_api._routes import Keyed, config_for, error_of, keyed_client, result_of

BASE = "/api/v1/fs"


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    with TestClient(create_app(config_for(workspace))) as c:
        yield c


@pytest.fixture
def keyed(workspace: Path) -> Iterator[Keyed]:
    with keyed_client(workspace) as k:
        yield k


def _populate(client: TestClient) -> None:
    made = client.post(
        f"{BASE}/mkdir", json={"uri": "viking://resources/proj", "description": "Project notes"}
    )
    assert result_of(made) == {"uri": "viking://resources/proj"}
    for path, text in (("proj/a.md", "alpha\n"), ("proj/sub/b.md", "beta\n")):
        write = client.post(
            "/api/v1/content/write",
            json={"uri": f"viking://resources/{path}", "content": text, "mode": "create"},
        )
        result_of(write)


def test_mkdir(client: TestClient) -> None:
    _populate(client)
    again = client.post(f"{BASE}/mkdir", json={"uri": "viking://resources/proj"})
    conflict = error_of(again, 409, "CONFLICT")  # as the original (its storage's answer)
    assert conflict["details"] == {"resource": "viking://resources/proj"}
    assert conflict["message"] == "already exists: viking://resources/proj"
    nested = client.post(f"{BASE}/mkdir", json={"uri": "viking://resources/n/e/s/t"})
    assert result_of(nested) == {"uri": "viking://resources/n/e/s/t"}  # parents are created
    error_of(client.post(f"{BASE}/mkdir", json={}), 400, "INVALID_ARGUMENT")
    error_of(client.post(f"{BASE}/mkdir", json={"uri": "viking://temp/x"}), 400, "INVALID_URI")


def test_ls_forms(client: TestClient) -> None:
    _populate(client)
    agent = result_of(client.get(f"{BASE}/ls", params={"uri": "viking://resources/proj"}))
    assert [e["uri"] for e in agent] == [
        "viking://resources/proj/sub",
        "viking://resources/proj/a.md",
    ]  # directories first, hidden sidecars left out
    assert all(set(e) == {"uri", "size", "isDir", "modTime", "abstract"} for e in agent)
    assert agent[1]["abstract"] == ""
    assert agent[1]["size"] == len(b"alpha\n")
    parent = result_of(client.get(f"{BASE}/ls", params={"uri": "viking://resources"}))
    proj = next(e for e in parent if e["uri"] == "viking://resources/proj")
    assert proj["isDir"] is True
    assert proj["abstract"] == "Project notes"
    short = result_of(
        client.get(f"{BASE}/ls", params={"uri": "viking://resources", "abs_limit": 6})
    )
    assert next(e for e in short if e["uri"].endswith("/proj"))["abstract"] == "Pro..."

    original = result_of(
        client.get(f"{BASE}/ls", params={"uri": "viking://resources/proj", "output": "original"})
    )
    assert {e["name"] for e in original} == {"sub", "a.md"}
    assert {"name", "size", "mode", "modTime", "isDir", "uri"} <= set(original[0])

    simple = client.get(f"{BASE}/ls", params={"uri": "viking://resources/proj", "simple": True})
    assert result_of(simple) == ["viking://resources/proj/sub", "viking://resources/proj/a.md"]
    limited = client.get(f"{BASE}/ls", params={"uri": "viking://resources/proj", "limit": 1})
    assert len(result_of(limited)) == 1
    hidden = client.get(
        f"{BASE}/ls",
        params={"uri": "viking://resources/proj", "show_all_hidden": True, "simple": True},
    )
    assert "viking://resources/proj/.abstract.md" in result_of(hidden)
    deep = client.get(
        f"{BASE}/ls", params={"uri": "viking://resources/proj", "recursive": True, "simple": True}
    )
    assert "viking://resources/proj/sub/b.md" in result_of(deep)


def test_ls_errors(client: TestClient) -> None:
    missing = error_of(
        client.get(f"{BASE}/ls", params={"uri": "viking://resources/none"}), 404, "NOT_FOUND"
    )
    assert "viking://resources/none" in missing["message"]
    bad = client.get(f"{BASE}/ls", params={"uri": "viking://resources", "output": "fancy"})
    assert error_of(bad, 400, "INVALID_ARGUMENT")["details"]["validation_errors"]
    error_of(client.get(f"{BASE}/ls"), 400, "INVALID_ARGUMENT")  # uri is required
    error_of(client.get(f"{BASE}/ls", params={"uri": "http://x"}), 400, "INVALID_URI")
    zero = client.get(f"{BASE}/ls", params={"uri": "viking://resources", "node_limit": 0})
    assert result_of(zero) == []  # as the original: no entries


def test_tree(client: TestClient) -> None:
    _populate(client)
    tree = result_of(client.get(f"{BASE}/tree", params={"uri": "viking://resources/proj"}))
    assert {e["rel_path"] for e in tree} == {"a.md", "sub/", "sub/b.md"}
    assert all("abstract" in e for e in tree)
    shallow = client.get(
        f"{BASE}/tree", params={"uri": "viking://resources/proj", "level_limit": 1}
    )
    assert {e["rel_path"] for e in result_of(shallow)} == {"a.md", "sub/"}
    error_of(client.get(f"{BASE}/tree", params={"uri": "viking://resources/x"}), 404, "NOT_FOUND")


def test_stat(client: TestClient) -> None:
    _populate(client)
    result_of(client.post("/api/v1/system/wait", json={"timeout": 60}))  # refreshes hold locks
    info = result_of(client.get(f"{BASE}/stat", params={"uri": "viking://resources/proj/a.md"}))
    assert info["name"] == "a.md"
    assert info["size"] == len(b"alpha\n")
    assert info["isDir"] is False
    assert info["isLocked"] is False
    assert {"mode", "modTime"} <= set(info)
    assert result_of(client.get(f"{BASE}/stat", params={"uri": "viking://resources/proj"}))["isDir"]
    error_of(client.get(f"{BASE}/stat", params={"uri": "viking://resources/q"}), 404, "NOT_FOUND")


def test_stat_adds_the_index_count_of_a_directory_and_the_record_id_of_a_file(
    client: TestClient,
) -> None:
    _populate(client)
    result_of(client.post("/api/v1/system/wait", json={"timeout": 60}))
    listed = client.get(
        f"{BASE}/ls",
        params={"uri": "viking://resources", "output": "original", "extra_fields": "count"},
    )
    (proj,) = [e for e in result_of(listed) if e["name"] == "proj"]
    folder = result_of(client.get(f"{BASE}/stat", params={"uri": "viking://resources/proj"}))
    assert folder["count"] == proj["count"] > 0
    assert "id" not in folder
    files = client.get(
        f"{BASE}/ls",
        params={"uri": "viking://resources/proj", "output": "original", "extra_fields": "id"},
    )
    (a,) = [e for e in result_of(files) if e["name"] == "a.md"]
    info = result_of(client.get(f"{BASE}/stat", params={"uri": "viking://resources/proj/a.md"}))
    assert info["id"] == a["id"]
    assert len(info["id"]) == 40
    assert "count" not in info


def test_stat_counts_only_the_rows_the_caller_may_read(keyed: Keyed) -> None:
    client, ann, ben = keyed
    write = client.post(
        "/api/v1/content/write",
        json={"uri": "viking://user/ann/resources/p.md", "content": "secret\n", "mode": "create"},
        headers=ann,
    )
    result_of(write)
    result_of(client.post("/api/v1/system/wait", json={"timeout": 60}, headers=ann))
    params = {"uri": "viking://user"}
    own = result_of(client.get(f"{BASE}/stat", params=params, headers=ann))["count"]
    other = result_of(client.get(f"{BASE}/stat", params=params, headers=ben))["count"]
    assert own > other


def test_rm(client: TestClient) -> None:
    _populate(client)
    refused = client.delete(BASE, params={"uri": "viking://resources/proj"})
    assert error_of(refused, 412, "FAILED_PRECONDITION")["details"]["expected_flag"] == "recursive"
    removed = client.delete(BASE, params={"uri": "viking://resources/proj/a.md"})
    assert result_of(removed)["uri"] == "viking://resources/proj/a.md"
    gone = client.delete(BASE, params={"uri": "viking://resources/proj", "recursive": True})
    assert result_of(gone)["uri"] == "viking://resources/proj"
    error_of(
        client.get(f"{BASE}/stat", params={"uri": "viking://resources/proj"}), 404, "NOT_FOUND"
    )
    again = result_of(client.delete(BASE, params={"uri": "viking://resources/proj"}))
    assert again == {"uri": "viking://resources/proj", "isDir": False, "estimated_deleted_count": 0}


def test_mv(client: TestClient) -> None:
    _populate(client)
    body = {"from_uri": "viking://resources/proj", "to_uri": "viking://resources/archive/proj"}
    assert result_of(client.post(f"{BASE}/mv", json=body)) == {
        "from": "viking://resources/proj",
        "to": "viking://resources/archive/proj",
    }
    moved = client.get(f"{BASE}/stat", params={"uri": "viking://resources/archive/proj/a.md"})
    assert result_of(moved)["name"] == "a.md"
    error_of(client.post(f"{BASE}/mv", json=body), 404, "NOT_FOUND")  # the source is gone
    _populate(client)
    error_of(client.post(f"{BASE}/mv", json=body), 409, "ALREADY_EXISTS")
    to_dir = {"from_uri": "viking://resources/proj/a.md", "to_uri": "viking://resources/x/"}
    error_of(client.post(f"{BASE}/mv", json=to_dir), 400, "INVALID_ARGUMENT")
    error_of(client.post(f"{BASE}/mv", json={"from_uri": "x"}), 400, "INVALID_ARGUMENT")


def test_another_users_space_is_403(keyed: Keyed) -> None:
    client, ann, ben = keyed
    own = client.get(f"{BASE}/ls", params={"uri": "viking://~", "simple": True}, headers=ann)
    assert "viking://user/ann/memories" in result_of(own)
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
        client.post(
            f"{BASE}/cp",
            json={"from_uri": uri, "to_uri": "viking://~/resources/x", "recursive": True},
            headers=ben,
        ),
        client.post(
            f"{BASE}/cp",
            json={"from_uri": "viking://~/memories", "to_uri": f"{uri}/m"},
            headers=ben,
        ),
    ):
        error_of(response, 403, "PERMISSION_DENIED")
    error_of(client.get(f"{BASE}/ls", params={"uri": uri}), 401, "UNAUTHENTICATED")


def _page(client: TestClient, route: str, **params: object) -> tuple[list[str], bool]:
    response = client.get(f"{BASE}/{route}", params={"output": "original", **params})
    rows = result_of(response)
    return [r.get("rel_path") or r["name"] for r in rows], response.json()["has_more"]


def test_paged_listings_carry_has_more_at_the_top_level(client: TestClient) -> None:
    _populate(client)
    for name in ("c", "d"):
        write = {"uri": f"viking://resources/proj/{name}.md", "content": name, "mode": "create"}
        result_of(client.post("/api/v1/content/write", json=write))
    uri = "viking://resources/proj"
    assert _page(client, "ls", uri=uri, limit=2) == (["sub", "a.md"], True)
    assert _page(client, "ls", uri=uri, offset=2, node_limit=2) == (["c.md", "d.md"], False)
    assert _page(client, "ls", uri=uri, node_limit=1, limit=3) == (["sub", "a.md", "c.md"], True)
    assert _page(client, "ls", uri=uri) == (["sub", "a.md", "c.md", "d.md"], False)
    assert _page(client, "tree", uri=uri, offset=1, limit=2) == (["sub/b.md", "a.md"], True)
    assert _page(client, "tree", uri=uri, directories_only=True) == (["sub/"], False)
    extra = client.get(
        f"{BASE}/ls",
        params=[
            ("uri", uri),
            ("output", "original"),
            ("extra_fields", "locked"),
            ("extra_fields", "id"),
            ("include_overview", "true"),
            ("overview_limit", "4"),
        ],
    )
    folder, doc = result_of(extra)[:2]
    assert "isLocked" in folder
    assert "id" in doc
    assert "id" not in folder
    assert folder["overview"].endswith("...")
    assert len(folder["overview"]) == 4
    error_of(client.get(f"{BASE}/ls", params={"uri": uri, "offset": -1}), 400, "INVALID_ARGUMENT")
    error_of(client.get(f"{BASE}/tree", params={"uri": uri, "limit": 0}), 400, "INVALID_ARGUMENT")


def test_cp(client: TestClient) -> None:
    _populate(client)
    body = {"from_uri": "viking://resources/proj/a.md", "to_uri": "viking://resources/c/a.md"}
    copied = result_of(client.post(f"{BASE}/cp", json=body))
    assert {k: copied[k] for k in ("from", "to", "recursive", "operation", "files_created")} == {
        "from": "viking://resources/proj/a.md",
        "to": "viking://resources/c/a.md",
        "recursive": False,
        "operation": "copy",
        "files_created": 1,
    }
    read = client.get("/api/v1/content/read", params={"uri": "viking://resources/c/a.md"})
    assert result_of(read) == "alpha\n"
    error_of(client.post(f"{BASE}/cp", json=body), 409, "ALREADY_EXISTS")
    tree = {"from_uri": "viking://resources/proj", "to_uri": "viking://resources/twin"}
    refused = error_of(client.post(f"{BASE}/cp", json=tree), 400, "INVALID_ARGUMENT")
    assert refused["details"]["expected_flag"] == "recursive"
    twin = result_of(client.post(f"{BASE}/cp", json={**tree, "recursive": True}))
    assert twin["recursive"] is True
    stat = client.get(f"{BASE}/stat", params={"uri": "viking://resources/twin/sub/b.md"})
    assert result_of(stat)["size"] == len("beta\n")
    inside = {**tree, "to_uri": "viking://resources/proj/inner", "recursive": True}
    error_of(client.post(f"{BASE}/cp", json=inside), 400, "INVALID_ARGUMENT")
    missing = {"from_uri": "viking://resources/none.md", "to_uri": "viking://resources/n2.md"}
    error_of(client.post(f"{BASE}/cp", json=missing), 404, "NOT_FOUND")


def test_a_copy_belongs_to_its_copier(keyed: Keyed) -> None:
    client, ann, ben = keyed
    write = {"uri": "viking://resources/own/doc.md", "content": "ann's", "mode": "create"}
    result_of(client.post("/api/v1/content/write", json=write, headers=ann))
    body = {"from_uri": "viking://resources/own/doc.md", "to_uri": "viking://resources/bens.md"}
    result_of(client.post(f"{BASE}/cp", json=body, headers=ben))
    theirs = {"uri": "viking://resources/own/doc.md"}
    error_of(client.delete(BASE, params=theirs, headers=ben), 403, "PERMISSION_DENIED")
    mine = client.delete(BASE, params={"uri": "viking://resources/bens.md"}, headers=ben)
    assert result_of(mine)["uri"] == "viking://resources/bens.md"
