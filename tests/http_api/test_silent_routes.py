"""Where the seed is silent we answer as the original OpenViking 0.5.2 does: limits of 0 and
below, a duplicate mkdir, deleting a missing session, a skill with only a name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from tests.http_api._routes import config_for, error_of, result_of

FS = "/api/v1/fs"
SEARCH = "/api/v1/search"


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    with TestClient(create_app(config_for(workspace))) as c:
        for name in ("a", "b", "c"):
            write = c.post(
                "/api/v1/content/write",
                json={
                    "uri": f"viking://resources/lim/{name}.md",
                    "content": "alpha line\nalpha again\n",
                    "mode": "create",
                    "wait": True,
                },
            )
            result_of(write)
        yield c


def test_duplicate_mkdir_is_the_originals_conflict(client: TestClient) -> None:
    result_of(client.post(f"{FS}/mkdir", json={"uri": "viking://resources/twice"}))
    again = error_of(
        client.post(f"{FS}/mkdir", json={"uri": "viking://resources/twice"}), 409, "CONFLICT"
    )
    assert again["details"] == {"resource": "viking://resources/twice"}


def test_deleting_a_missing_session_is_the_originals_404(client: TestClient) -> None:
    missing = error_of(client.delete("/api/v1/sessions/never"), 404, "NOT_FOUND")
    assert missing["details"] == {"type": "session", "resource": "never"}
    assert missing["message"] == "Session not found: never"


@pytest.mark.parametrize(("node_limit", "count"), [(0, 0), (-1, 1), (-50, 1), (2, 2)])
def test_ls_and_tree_node_limit(client: TestClient, node_limit: int, count: int) -> None:
    """0 lists nothing, a negative limit one entry (the original's paging stops there)."""
    params = {"uri": "viking://resources/lim", "node_limit": node_limit}
    assert len(result_of(client.get(f"{FS}/ls", params=params))) == count
    assert len(result_of(client.get(f"{FS}/tree", params=params))) == count
    missing = {"uri": "viking://resources/none", "node_limit": node_limit}
    error_of(client.get(f"{FS}/tree", params=missing), 404, "NOT_FOUND")


@pytest.mark.parametrize(("node_limit", "count"), [(0, 6), (-1, 1), (4, 4)])
def test_grep_node_limit(client: TestClient, node_limit: int, count: int) -> None:
    """0 means no cap; a negative limit stops after the first match, as the original."""
    body = {"uri": "viking://resources/lim", "pattern": "alpha", "node_limit": node_limit}
    assert result_of(client.post(f"{SEARCH}/grep", json=body))["count"] == count


@pytest.mark.parametrize(("node_limit", "count"), [(0, 3), (-1, 3), (2, 2)])
def test_glob_node_limit(client: TestClient, node_limit: int, count: int) -> None:
    """0 and negative limits mean no cap, as the original."""
    body = {"uri": "viking://resources/lim", "pattern": "*.md", "node_limit": node_limit}
    assert result_of(client.post(f"{SEARCH}/glob", json=body))["count"] == count


@pytest.mark.parametrize("route", ["find", "search"])
def test_find_limits(client: TestClient, route: str) -> None:
    """Below 1 is refused (the original's ``ge=1``); above our bound of 1000 is that bound."""
    for bad in (0, -3):
        body = {"query": "alpha", "limit": bad}
        refused = error_of(client.post(f"{SEARCH}/{route}", json=body), 400, "INVALID_ARGUMENT")
        assert refused["details"]["field"] == "limit"
    for big in (5000, 10**30):
        found = result_of(client.post(f"{SEARCH}/{route}", json={"query": "alpha", "limit": big}))
        assert found["total"] >= 3


def test_a_skill_with_only_a_name(client: TestClient) -> None:
    added = result_of(client.post("/api/v1/skills", json={"data": {"name": "bare"}, "wait": True}))
    assert added["name"] == "bare"
    got = result_of(client.get("/api/v1/skills/bare", params={"include_content": True}))
    assert got["description"] == ""
    no_name = error_of(
        client.post("/api/v1/skills", json={"data": {"content": "body only"}}),
        400,
        "INVALID_ARGUMENT",
    )
    assert no_name["details"]["field"] == "name"
    assert "Skill must have 'name' field" in no_name["message"]
