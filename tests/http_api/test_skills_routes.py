"""`/api/v1/skills`: add (seed 004's shapes), list, get, replace, delete, bad input."""

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


def test_add_skill_matches_the_seed_envelope(client: TestClient) -> None:
    response = client.post("/api/v1/skills", json={"data": TOOL, "wait": True})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    result = body["result"]
    assert {k: result[k] for k in ("status", "uri", "name", "auxiliary_files")} == {
        "status": "success",
        "uri": "viking://agent/skills/search-web/",
        "name": "search-web",
        "auxiliary_files": 0,
    }
    assert isinstance(body["time"], float)

    listed = client.get("/api/v1/skills").json()["result"]
    assert listed["total"] == 1
    assert listed["skills"][0]["name"] == "search-web"
    got = client.get("/api/v1/skills/search-web").json()["result"]
    assert got["content"].startswith("---\nname: search-web\n")
    assert got["skill_md_uri"] == "viking://agent/skills/search-web/SKILL.md"


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
