"""The console's system page: health, readiness, models without secrets, metrics for charts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import OpenVikingConfig
from tests.console._console import BASE_URL, ROOT_KEY, create_user, sign_in

VLM_KEY = "sk-vlm-secret-that-never-shows-0042"


@contextmanager
def _client(workspace: Path) -> Iterator[TestClient]:
    """api_key mode with an LLM configured (its key set) that nothing calls here."""
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "server": {"root_api_key": ROOT_KEY},
            "vlm": {
                "provider": "openai",
                "model": "fake-chat",
                "api_base": "http://127.0.0.1:9/v1",
                "api_key": VLM_KEY,
            },
        }
    )
    with TestClient(create_app(config), base_url=BASE_URL) as client:
        yield client


def test_the_system_pages_need_a_sign_in(workspace: Path) -> None:
    with _client(workspace) as client:
        for path in ("/console/system", "/console/system/status", "/console/system/metrics.json"):
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/console/login?next=")


def test_a_user_sees_health_models_and_index_but_no_secret(workspace: Path) -> None:
    with _client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        sign_in(client, ann)
        page = client.get("/console/system")
        assert page.status_code == 200
        html = page.text
        assert 'id="health-state">healthy' in html
        assert 'id="ready-state">ready' in html
        assert "metadata_db" in html
        assert 'id="index-rows"' in html
        assert "your account's rows" in html
        assert "hashing:v1-256" in html  # the embedding model
        assert "dimension 256" in html
        assert "fake-chat" in html  # the LLM is configured
        assert 'id="model-rerank"' in html
        assert "not configured" in html
        assert "cold / warm / hot" in html  # the caller's memory stats
        for chart in ("chart-requests", "chart-latency", "chart-queue"):
            assert f'id="{chart}"' in html
        assert "/console/static/system.js" in html
        assert "<script>" not in html
        for secret in (VLM_KEY, ROOT_KEY, ann):
            assert secret not in html
        bob = create_user(client, "acme", "bob")
        sign_in(client, bob)
        plain = client.get("/console/system").text
        assert "hashing:v1-256" in plain
        assert str(workspace) not in plain  # a server path is not a USER's business


def test_root_sees_the_system_page_too(workspace: Path) -> None:
    with _client(workspace) as client:
        sign_in(client, ROOT_KEY)
        page = client.get("/console/system")
        assert page.status_code == 200
        assert "The root key has no memories of its own" in page.text
        assert str(workspace) in page.text  # ROOT and ADMIN see where the data lives
        assert "<td>api_key</td>" in page.text  # the auth mode
        assert ROOT_KEY not in page.text
        assert VLM_KEY not in page.text
        status = client.get("/console/system/status", headers={"HX-Request": "true"})
        assert status.status_code == 200
        assert "<html" not in status.text
        assert 'id="system-health"' in status.text


def test_metrics_json_has_the_request_counter_and_queue_depth(workspace: Path) -> None:
    with _client(workspace) as client:
        sign_in(client, create_user(client, "acme", "ann"))
        first = client.get("/console/system/metrics.json")
        assert first.status_code == 200
        assert first.headers["content-type"].startswith("application/json")
        before = first.json()
        assert before["available"] is True
        assert set(before["queue"]) >= {"pending", "running"}
        assert before["index_rows"] is not None
        client.get("/api/v1/system/status", headers={"X-API-Key": ROOT_KEY})
        after = client.get("/console/system/metrics.json").json()
        assert after["requests"]["total"] >= before["requests"]["total"] + 2
        assert after["requests"]["api"] >= before["requests"]["api"] + 1
        latency = after["latency"]
        assert latency["count"] == after["requests"]["total"]
        assert latency["sum"] > 0
        assert latency["buckets"][-1] == [None, latency["count"]]  # +Inf holds every request
        bounds = [b for b, _ in latency["buckets"][:-1]]
        assert bounds == sorted(bounds)
