"""`/api/v1/skills`: add (the original's result shape), list, get, replace, delete, bad
input."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import OpenVikingConfig

TOOL = {
    "name": "search_web",
    "description": "Search the web",
    "inputSchema": {
        "type": "object",
        "properties": {"query": {"type": "string", "description": "Search query"}},
        "required": ["query"],
    },
}


@pytest.fixture
def client(config: OpenVikingConfig) -> Iterator[TestClient]:
    with TestClient(create_app(config)) as c:
        yield c


def test_add_skill_result_and_list_shapes(client: TestClient) -> None:
    response = client.post("/api/v1/skills", json={"data": TOOL, "wait": True})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    result = body["result"]
    folder = "viking://user/default/skills/search-web"  # no target: the caller's own root
    assert {k: result[k] for k in ("status", "uri", "root_uri", "name", "auxiliary_files")} == {
        "status": "success",
        "uri": folder,
        "root_uri": folder,
        "name": "search-web",
        "auxiliary_files": 0,
    }
    assert result["skills_root"] == "viking://user/default/skills"
    queues = result["queue_status"]
    assert sorted(queues) == ["Embedding", "Semantic"]
    assert all(
        (q["processed"], q["error_count"], q["errors"]) == (1, 0, []) for q in queues.values()
    )
    assert isinstance(body["time"], float)
    queued = client.post(
        "/api/v1/skills",
        json={"data": {**TOOL, "name": "other"}, "target_uri": "viking://agent/skills"},
    ).json()["result"]
    assert queued["uri"] == "viking://agent/skills/other"
    assert queued["task_id"]
    assert "queue_status" not in queued

    listed = client.get("/api/v1/skills").json()["result"]
    assert listed["root_uris"] == ["viking://user/default/skills", "viking://agent/skills"]
    assert "root_uri" not in listed
    assert listed["total"] == 2
    mine = next(s for s in listed["skills"] if s["name"] == "search-web")
    assert (mine["type"], mine["uri"], mine["root_uri"], mine["scope"]) == (
        "skill",
        folder,
        folder,
        "user",
    )
    assert mine["skill_md_uri"] == f"{folder}/SKILL.md"
    shared = client.get("/api/v1/skills", params={"target_uri": "viking://agent/skills"})
    one = shared.json()["result"]
    assert (one["root_uri"], one["total"], "root_uris" in one) == (
        "viking://agent/skills",
        1,
        False,
    )
    assert one["skills"][0]["skill_md_uri"] == "viking://agent/skills/other/SKILL.md"
    got = client.get("/api/v1/skills/search-web").json()["result"]
    assert got["content"].startswith("---\nname: search-web\n")
    assert got["skill_md_uri"] == f"{folder}/SKILL.md"


def test_a_bad_target_names_the_allowed_roots(client: TestClient) -> None:
    response = client.post(
        "/api/v1/skills", json={"data": TOOL, "target_uri": "viking://resources"}
    )
    assert response.status_code == 400, response.text
    details = response.json()["error"]["details"]
    assert details["allowed"] == ["viking://user/default/skills", "viking://agent/skills"]
    assert details["field"] == "target_uri"
    assert (
        client.get("/api/v1/skills", params={"target_uri": "viking://resources"}).status_code == 400
    )


def test_replace_and_delete(client: TestClient) -> None:
    client.post("/api/v1/skills", json={"data": TOOL})
    md = "---\nname: search-web\ndescription: Search, better\n---\n\nBody.\n"
    replaced = client.put("/api/v1/skills/search-web", json={"data": md})
    assert replaced.status_code == 200
    assert replaced.json()["result"]["action"] == "update"
    mismatch = client.put("/api/v1/skills/search-web", json={"data": md.replace("search-web", "x")})
    assert mismatch.status_code == 400
    assert "does not match" in mismatch.json()["error"]["message"]
    missing = client.put("/api/v1/skills/nothing", json={"data": md})
    assert missing.status_code == 404
    deleted = client.delete("/api/v1/skills/search-web")
    assert deleted.status_code == 200
    assert client.get("/api/v1/skills/search-web").status_code == 404


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        ({"description": "no name"}, 400, "'name'"),
        ("---\nname: x\n---\nbody", 400, "'description'"),
        ("---\nname: [oops\n---\n", 400, "YAML"),
        ({"name": "bad name", "description": "d"}, 400, "name"),
        ("./skills/search-web/SKILL.md", 403, "temp-uploaded"),
        ("/etc/passwd", 403, "temp-uploaded"),
    ],
)
def test_bad_input(client: TestClient, data: object, status: int, words: str) -> None:
    response = client.post("/api/v1/skills", json={"data": data})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert words in error["message"]
    assert client.get("/api/v1/skills").json()["result"]["total"] == 0


def test_neither_data_nor_upload(client: TestClient) -> None:
    response = client.post("/api/v1/skills", json={})
    assert response.status_code == 400
    unknown = client.post("/api/v1/skills", json={"data": TOOL, "surprise": 1})
    assert unknown.status_code == 400


KETTLE = {"name": "kettle", "description": "Boil water in a kettle", "content": "Fill it."}


def test_find_route_answers_both_roots_and_ignores_telemetry(client: TestClient) -> None:
    client.post("/api/v1/skills", json={"data": KETTLE, "wait": True})
    body = {"query": "boil water", "limit": 10, "score_threshold": None, "level": None}
    found = client.post("/api/v1/skills/find", json={**body, "telemetry": False})
    assert found.status_code == 200, found.text
    result = found.json()["result"]
    assert result["root_uris"] == ["viking://user/default/skills", "viking://agent/skills"]
    assert [(h["name"], h["type"]) for h in result["skills"]] == [("kettle", "skill")]
    assert result["total"] == 1
    one = client.post(
        "/api/v1/skills/find", json={"query": "boil", "target_uri": "viking://agent/skills"}
    ).json()["result"]
    assert one["root_uri"] == "viking://agent/skills"
    assert client.post("/api/v1/skills/find", json={"query": "x", "oops": 1}).status_code == 400
    assert client.post("/api/v1/skills/find", json={"query": " "}).status_code == 400


def test_validate_route_stores_nothing(client: TestClient) -> None:
    text = "---\nname: v\ndescription: d\n---\nbody"
    response = client.post("/api/v1/skills/validate", json={"data": text, "strict": False})
    assert response.status_code == 200, response.text
    report = response.json()["result"]
    assert (report["valid"], report["name"], report["body_lines"]) == (True, "v", 1)
    bad = client.post(
        "/api/v1/skills/validate",
        json={"data": text, "strict": True, "skill_dir_name": "w", "source_path": "w/SKILL.md"},
    ).json()["result"]
    assert bad["valid"] is False
    assert bad["errors"][0]["rule"] == "name_matches_directory"
    assert bad["source_path"] == "w/SKILL.md"
    assert client.get("/api/v1/skills").json()["result"]["total"] == 0
    assert client.post("/api/v1/skills/validate", json={}).status_code == 400


def test_get_route_parameters(client: TestClient) -> None:
    client.post("/api/v1/skills", json={"data": KETTLE, "wait": True})
    params = {"level": 0, "include_files": "false", "include_source": "true"}
    got = client.get("/api/v1/skills/kettle", params=params).json()["result"]
    assert "abstract" in got
    assert "overview" not in got
    assert "content" not in got
    assert "files" not in got
    assert got["source"]["tracked"] is False
    sealed = client.get("/api/v1/skills/kettle", params={"include_integrity": "true"})
    result = sealed.json()["result"]
    assert len(result["revision"]) == 64
    assert all("sha256" in f for f in result["files"] if not f["is_dir"])
    assert client.get("/api/v1/skills/kettle", params={"level": 7}).status_code == 400
    assert client.get("/api/v1/skills/bad name").status_code == 400
    assert client.get("/api/v1/skills/find").status_code == 404  # a skill named "find"


def test_put_route_takes_the_sdk_body(client: TestClient) -> None:
    client.post("/api/v1/skills", json={"data": KETTLE})
    body = {
        "data": {**KETTLE, "content": "Pour it."},
        "wait": True,
        "telemetry": False,
        "from_source": False,
        "source_metadata": {"type": "api"},
    }
    updated = client.put("/api/v1/skills/kettle", json=body)
    assert updated.status_code == 200, updated.text
    assert updated.json()["result"]["action"] == "update"
    got = client.get("/api/v1/skills/kettle", params={"level": 2}).json()["result"]
    assert got["body"] == "Pour it."
    git = client.put("/api/v1/skills/kettle", json={"from_source": True})
    assert git.status_code == 501
    named = client.put("/api/v1/skills/kettle", json={**body, "skill_name": "kettle"})
    assert named.status_code == 400


def test_list_route_node_limit(client: TestClient) -> None:
    for name in ("a-skill", "b-skill"):
        client.post("/api/v1/skills", json={"data": {"name": name, "description": "d"}})
    listed = client.get("/api/v1/skills", params={"node_limit": 1}).json()["result"]
    assert listed["total"] == 1
    assert client.get("/api/v1/skills", params={"node_limit": 0}).json()["result"]["total"] == 2
