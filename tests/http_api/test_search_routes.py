"""`/api/v1/search`: find, search (list and context modes), grep and glob, with bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import ContextService, RequestContext
from tests.http_api._routes import ROOT_KEY, Keyed, config_for, error_of, result_of

BASE = "/api/v1/search"
GUIDE = "# Release guide\n\nRollback: revert the deploy tag, then redeploy.\nCanary first.\n"
NOTES = "Kubernetes notes\nTODO: document the rollback drill\n"


def _seed(client: TestClient, headers: dict[str, str] | None = None, root: str = "") -> None:
    root = root or "viking://resources/docs"
    for name, text in (("guide.md", GUIDE), ("ops/notes.md", NOTES)):
        response = client.post(
            "/api/v1/content/write",
            json={"uri": f"{root}/{name}", "content": text, "mode": "create", "wait": True},
            headers=headers,
        )
        assert response.status_code == 200, response.text
    wait = client.post("/api/v1/system/wait", json={"timeout": 60}, headers=headers)
    assert wait.status_code == 200, wait.text


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    with TestClient(create_app(config_for(workspace))) as c:
        _seed(c)
        yield c


@pytest.fixture
def keyed(workspace: Path) -> Iterator[Keyed]:
    """api_key mode with ann (ADMIN of acme) and ben (USER of acme): client and their headers."""
    with TestClient(create_app(config_for(workspace, root_api_key=ROOT_KEY))) as c:
        service: ContextService = c.app.state.service  # type: ignore[attr-defined]
        assert c.portal is not None
        ann = c.portal.call(service.create_account, RequestContext.root(), "acme", "ann")
        ann_ctx = c.portal.call(service.auth.resolve_api_key, ann["user_key"])
        ben = c.portal.call(service.create_user, ann_ctx, "acme", "ben")
        ann_headers = {"X-API-Key": ann["user_key"]}
        _seed(c, ann_headers, "viking://user/ann/resources/private")
        yield c, ann_headers, {"Authorization": f"Bearer {ben['user_key']}"}


def _uris(result: dict[str, Any]) -> list[str]:
    return [hit["uri"] for bucket in ("memories", "resources", "skills") for hit in result[bucket]]


def test_find(client: TestClient) -> None:
    result = result_of(client.post(f"{BASE}/find", json={"query": "rollback deploy tag"}))
    assert {"memories", "resources", "skills", "total"} <= set(result)
    assert result["total"] == len(_uris(result))
    assert "viking://resources/docs/guide.md" in _uris(result)
    hit = next(h for h in result["resources"] if h["uri"] == "viking://resources/docs/guide.md")
    assert {"context_type", "uri", "level", "score", "abstract"} <= set(hit)
    assert hit["context_type"] == "resource"
    assert hit["level"] == 2
    one = client.post(f"{BASE}/find", json={"query": "rollback", "node_limit": 1, "limit": 5})
    assert result_of(one)["total"] == 1  # node_limit overrides limit
    scoped = client.post(
        f"{BASE}/find",
        json={"query": "rollback", "target_uri": "viking://resources/docs/ops", "level": 2},
    )
    assert _uris(result_of(scoped)) == ["viking://resources/docs/ops/notes.md"]
    memories = client.post(f"{BASE}/find", json={"query": "rollback", "context_type": "memory"})
    assert result_of(memories)["resources"] == []
    ops_only = {
        "op": "and",
        "conds": [
            {"op": "must", "field": "uri", "conds": ["viking://resources/docs/ops"]},
            {"op": "must", "field": "level", "conds": [2]},
        ],
    }
    for route in ("find", "search"):
        filtered = client.post(f"{BASE}/{route}", json={"query": "rollback", "filter": ops_only})
        assert _uris(result_of(filtered)) == ["viking://resources/docs/ops/notes.md"]


@pytest.mark.parametrize(
    ("body", "status", "code", "words"),
    [
        ({}, 400, "INVALID_ARGUMENT", "Search query or image_url must not be empty."),
        ({"query": "   "}, 400, "INVALID_ARGUMENT", "Search query or image_url must not be empty."),
        ({"query": "x", "surprise": 1}, 400, "INVALID_ARGUMENT", "surprise"),
        ({"query": "x", "limit": 0}, 400, "INVALID_ARGUMENT", "limit"),
        ({"query": "x", "context_type": "doc"}, 400, "INVALID_ARGUMENT", "context_type"),
        ({"query": "x", "since": "last tuesday"}, 400, "INVALID_ARGUMENT", "since"),
        ({"query": "x", "target_uri": "nope"}, 400, "INVALID_URI", "nope"),
        ({"image_url": "https://example.com/a.png"}, 400, "INVALID_ARGUMENT", "multimodal"),
        ({"query": "x", "filter": {"op": "and"}}, 400, "INVALID_FILTER", "conds"),
        (
            {"query": "x", "filter": {"op": "must", "field": "colour"}},
            400,
            "INVALID_FILTER",
            "colour",
        ),
    ],
)
def test_find_bad_input(
    client: TestClient, body: dict[str, Any], status: int, code: str, words: str
) -> None:
    for route in ("find", "search"):
        error = error_of(client.post(f"{BASE}/{route}", json=body), status, code)
        assert words in error["message"]


def test_include_provenance_adds_a_top_level_provenance(client: TestClient) -> None:
    plain = result_of(client.post(f"{BASE}/find", json={"query": "rollback deploy tag"}))
    assert "provenance" not in plain
    body = {"query": "rollback deploy tag", "include_provenance": True}
    for route in ("find", "search"):
        result = result_of(client.post(f"{BASE}/{route}", json=body))
        hits = [h for bucket in ("memories", "resources", "skills") for h in result[bucket]]
        assert hits
        assert all("trajectory" in h for h in hits)  # the per-hit form stays
        (trace,) = result["provenance"]
        assert set(trace) == {
            "query",
            "searched_directories",
            "matched_contexts",
            "thinking_trace",
        }
        assert trace["query"] == "rollback deploy tag"
        matched = trace["matched_contexts"]
        assert sorted(m["uri"] for m in matched) == sorted(h["uri"] for h in hits)
        assert {m["tier"] for m in matched} <= {"L0", "L1", "L2"}
        assert all(
            set(m) == {"uri", "tier", "context_type", "score", "match_reason"} for m in matched
        )
        expanded = {step["uri"] for h in hits for step in h["trajectory"]}
        assert trace["searched_directories"]
        assert expanded <= set(trace["searched_directories"])
        assert trace["thinking_trace"][-1] == f"matched {len(hits)} contexts"


def test_search_list_mode(client: TestClient) -> None:
    result = result_of(client.post(f"{BASE}/search", json={"query": "rollback deploy"}))
    assert "viking://resources/docs/guide.md" in _uris(result)
    plan = result["query_plan"]
    assert plan["queries"][0]["query"] == "rollback deploy"
    assert {"reasoning", "queries"} <= set(plan)
    session = client.post("/api/v1/sessions", json={"session_id": "s1"})
    assert session.status_code == 200, session.text
    client.post("/api/v1/sessions/s1/messages", json={"role": "user", "content": "canary"})
    with_session = client.post(f"{BASE}/search", json={"query": "rollback", "session_id": "s1"})
    assert result_of(with_session)["query_plan"]["queries"]
    missing = client.post(f"{BASE}/search", json={"query": "rollback", "session_id": "nope"})
    assert "viking://resources/docs/guide.md" in _uris(result_of(missing))  # plain find


@pytest.mark.parametrize(
    "extra",
    [
        {"max_tokens": 500},
        {"purpose": "coding"},
        {"exclude_uris": ["viking://resources/docs"]},
        {"query_expansion": "auto"},
        {"peer_scope": "all"},
        {"other_peer_penalty": 0.5},
    ],
)
def test_context_only_fields_in_list_mode_are_400(
    client: TestClient, extra: dict[str, Any]
) -> None:
    response = client.post(f"{BASE}/search", json={"query": "rollback", **extra})
    error = error_of(response, 400, "INVALID_ARGUMENT")
    assert "mode='context'" in error["message"]
    assert next(iter(extra)) in error["message"]


def test_search_context_mode(client: TestClient) -> None:
    body = {"query": "rollback deploy", "mode": "context", "max_tokens": 400}
    result = result_of(client.post(f"{BASE}/search", json=body))
    assert {"entries", "rendered", "digest", "stats"} <= set(result)
    assert result["stats"]["max_tokens"] == 400
    assert any(e["uri"] == "viking://resources/docs/guide.md" for e in result["entries"])
    assert "viking://resources/docs/guide.md" in result["rendered"]
    ignored = client.post(f"{BASE}/search", json={**body, "query_expansion": "auto"})
    assert result_of(ignored)["stats"]["ignored"] == ["query_expansion"]
    targeted = client.post(f"{BASE}/search", json={**body, "target_uri": "viking://resources/docs"})
    assert "target_uri" in error_of(targeted, 400, "INVALID_ARGUMENT")["message"]
    too_small = client.post(f"{BASE}/search", json={**body, "max_tokens": 1})
    error_of(too_small, 400, "INVALID_ARGUMENT")


def test_recall_is_a_deprecated_preset_over_context_mode(client: TestClient) -> None:
    response = client.post(f"{BASE}/recall", json={"query": "rollback deploy"})
    assert response.headers["Deprecation"] == "true"
    assert response.headers["Link"] == '</api/v1/search/search>; rel="successor-version"'
    result = result_of(response)
    assert {"entries", "rendered", "digest", "stats"} <= set(result)
    assert any(e["uri"] == "viking://resources/docs/guide.md" for e in result["entries"])
    assert "viking://resources/docs/guide.md" in result["rendered"]
    stats = result["stats"]
    assert stats["deprecated"] == {
        "endpoint": "/api/v1/search/recall",
        "successor": "/api/v1/search/search",
        "successor_body": {"mode": "context"},
        "aliases_used": [],
    }
    assert stats["quotas"]["events"] == 10  # the first version's quotas over "coding"
    assert stats["max_tokens"] == 1600
    v1 = {"query": "rollback deploy", "max_chars": 2000, "render": False, "peer_scope": "all"}
    folded = result_of(client.post(f"{BASE}/recall", json=v1))
    assert folded["stats"]["max_tokens"] == 500  # 2000 characters at four a token
    assert folded["rendered"] == ""
    assert folded["entries"]
    assert folded["stats"]["deprecated"]["aliases_used"] == ["max_chars", "render"]
    assert folded["stats"]["ignored"] == ["peer_scope"]
    both = {"query": "rollback deploy", "max_chars": 2000, "max_tokens": 300}
    assert result_of(client.post(f"{BASE}/recall", json=both))["stats"]["max_tokens"] == 300
    unknown = client.post(f"{BASE}/recall", json={"query": "x", "target_uri": "viking://"})
    error_of(unknown, 400, "INVALID_ARGUMENT")
    bad_quota = client.post(f"{BASE}/recall", json={"query": "x", "quotas": {"gadgets": 1}})
    error_of(bad_quota, 400, "INVALID_ARGUMENT")
    bad_render = client.post(f"{BASE}/recall", json={"query": "x", "render": "weird"})
    error_of(bad_render, 400, "INVALID_ARGUMENT")


def test_grep(client: TestClient) -> None:
    body = {"uri": "viking://resources/docs", "pattern": "ROLLBACK", "case_insensitive": True}
    result = result_of(client.post(f"{BASE}/grep", json=body))
    assert result["count"] == len(result["matches"]) == 2
    guide = next(m for m in result["matches"] if m["uri"].endswith("guide.md"))
    assert guide["line"] == 3
    assert guide["content"].startswith("Rollback:")
    assert set(guide) == {"uri", "line", "content"}
    assert (
        result_of(client.post(f"{BASE}/grep", json={**body, "case_insensitive": False}))["count"]
        == 0
    )
    excluded = client.post(
        f"{BASE}/grep", json={**body, "exclude_uri": "viking://resources/docs/ops"}
    )
    assert [m["uri"] for m in result_of(excluded)["matches"]] == [
        "viking://resources/docs/guide.md"
    ]
    capped = client.post(f"{BASE}/grep", json={**body, "node_limit": 1})
    assert result_of(capped)["count"] == 1


def test_grep_errors(client: TestClient) -> None:
    bad = client.post(f"{BASE}/grep", json={"uri": "viking://resources", "pattern": "(unclosed"})
    error_of(bad, 400, "INVALID_ARGUMENT")
    missing = client.post(f"{BASE}/grep", json={"uri": "viking://resources/none", "pattern": "x"})
    error_of(missing, 404, "NOT_FOUND")
    error_of(
        client.post(f"{BASE}/grep", json={"uri": "viking://resources"}), 400, "INVALID_ARGUMENT"
    )


def test_glob(client: TestClient) -> None:
    everywhere = result_of(client.post(f"{BASE}/glob", json={"pattern": "**/*.md"}))
    assert "viking://resources/docs/guide.md" in everywhere["matches"]
    assert "viking://resources/docs/ops/notes.md" in everywhere["matches"]
    assert not any("/." in uri for uri in everywhere["matches"])  # hidden entries never match
    assert everywhere["count"] == len(everywhere["matches"])
    scoped = client.post(f"{BASE}/glob", json={"pattern": "*.md", "uri": "viking://resources/docs"})
    assert result_of(scoped) == {"matches": ["viking://resources/docs/guide.md"], "count": 1}
    capped = client.post(f"{BASE}/glob", json={"pattern": "**/*.md", "node_limit": 1})
    assert result_of(capped)["count"] == 1


def test_glob_errors(client: TestClient) -> None:
    missing = client.post(f"{BASE}/glob", json={"pattern": "*", "uri": "viking://resources/none"})
    error_of(missing, 404, "NOT_FOUND")
    error_of(
        client.post(f"{BASE}/glob", json={"uri": "viking://resources"}), 400, "INVALID_ARGUMENT"
    )


def test_another_users_space_is_403(keyed: Keyed) -> None:
    client, ann, ben = keyed
    space = "viking://user/ann/resources/private"
    own = client.post(f"{BASE}/find", json={"query": "rollback", "target_uri": space}, headers=ann)
    assert f"{space}/guide.md" in _uris(result_of(own))
    everything = client.post(f"{BASE}/find", json={"query": "rollback deploy"}, headers=ben)
    assert not any(uri.startswith("viking://user/ann") for uri in _uris(result_of(everything)))
    grep_all = client.post(
        f"{BASE}/grep", json={"uri": "viking://", "pattern": "rollback"}, headers=ben
    )
    assert result_of(grep_all)["count"] == 0
    glob_all = client.post(f"{BASE}/glob", json={"pattern": "**/*.md"}, headers=ben)
    assert not any("user/ann" in uri for uri in result_of(glob_all)["matches"])
    for response in (
        client.post(f"{BASE}/find", json={"query": "rollback", "target_uri": space}, headers=ben),
        client.post(f"{BASE}/search", json={"query": "rollback", "target_uri": space}, headers=ben),
        client.post(f"{BASE}/grep", json={"uri": space, "pattern": "rollback"}, headers=ben),
        client.post(f"{BASE}/glob", json={"pattern": "*", "uri": space}, headers=ben),
    ):
        error_of(response, 403, "PERMISSION_DENIED")
    error_of(client.post(f"{BASE}/find", json={"query": "rollback"}), 401, "UNAUTHENTICATED")
