"""The bot routes over HTTP (in process): raw JSON answers, SSE framing, resume, feedback,
health, auth and the 503 without ``--with-bot``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import ContextService, OpenVikingConfig
from tests.bot.conftest import Script, bot_config, sse_events
from tests.http_api._routes import ROOT_KEY, error_of, keyed_client

REPLY_KEYS = {
    "session_id",
    "response_id",
    "message",
    "events",
    "relevant_memories",
    "token_usage",
    "timestamp",
    "citations",
    "mode",
    "model",
    "error",
}


@pytest.fixture
def script() -> Script:
    return Script([("find", {"query": "deploy"}), ["Use ", "make ship."]])


@pytest.fixture
def client(workspace: Path, script: Script) -> Iterator[TestClient]:
    service = ContextService(bot_config(workspace), chat_model=script.model())
    with TestClient(create_app(service=service)) as c:
        yield c


@pytest.mark.parametrize("path", ["/chat", "/bot/v1/chat"])
def test_chat_answers_raw_json(client: TestClient, path: str) -> None:
    response = client.post(path, json={"message": "How do I deploy?"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == REPLY_KEYS  # raw, not enveloped
    assert body["message"] == "Use make ship."
    assert [e["type"] for e in body["events"]] == [
        "iteration",
        "tool_call",
        "tool_result",
        "iteration",
    ]
    assert body["token_usage"]["total_tokens"] == (
        body["token_usage"]["prompt_tokens"] + body["token_usage"]["completion_tokens"]
    )


@pytest.mark.parametrize("path", ["/chat/stream", "/bot/v1/chat/stream"])
def test_chat_stream_is_sse(client: TestClient, path: str) -> None:
    with client.stream("POST", path, json={"message": "deploy?", "session_id": "web-1"}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache"
        assert r.headers["x-vikingbot-session-id"] == "web-1"
        events = list(sse_events(r.iter_lines()))
    assert [i for i, _ in events] == list(range(len(events)))
    kinds = [p["event"] for _, p in events]
    assert kinds == [
        "iteration",
        "tool_call",
        "tool_result",
        "iteration",
        "content_delta",
        "content_delta",
        "response",
    ]
    assert all(set(p) == {"event", "data", "timestamp"} for _, p in events)
    final = events[-1][1]["data"]
    assert final["content"] == "Use make ship."
    assert final["response_id"] == r.headers["x-vikingbot-response-id"]


def test_resume_by_index_and_last_event_id(client: TestClient) -> None:
    client.post("/chat", json={"message": "deploy?", "session_id": "web-2"})
    with client.stream("GET", "/chat/stream/resume/web-2", params={"last_index": 3}) as r:
        replay = list(sse_events(r.iter_lines()))
    assert replay[0][0] == 4
    assert replay[-1][1]["event"] == "response"
    headers = {"Last-Event-ID": "5"}
    with client.stream("GET", "/bot/v1/chat/stream/resume/web-2", headers=headers) as r:
        assert next(i for i, _ in sse_events(r.iter_lines())) == 6
    # a reconnect to POST /chat/stream with Last-Event-ID continues the turn, no new one
    body = {"message": "deploy?", "session_id": "web-2"}
    with client.stream("POST", "/chat/stream", json=body, headers=headers) as r:
        again = list(sse_events(r.iter_lines()))
    assert [i for i, _ in again] == [6]
    missing = client.get("/chat/stream/resume/nothing-here")
    error_of(missing, 404, "NOT_FOUND")


def test_feedback_route(client: TestClient) -> None:
    reply = client.post("/chat", json={"message": "q"}).json()
    ids = {"session_id": reply["session_id"], "response_id": reply["response_id"]}
    ok = client.post("/bot/v1/feedback", json={**ids, "feedback_type": "thumb_down"})
    assert ok.status_code == 200
    assert ok.json()["accepted"] is True
    bad = client.post("/bot/v1/feedback", json={**ids, "feedback_type": "rating"})
    error_of(bad, 400, "INVALID_ARGUMENT")
    unknown = client.post(
        "/bot/v1/feedback", json={**ids, "response_id": "resp_nope", "feedback_type": "thumb_up"}
    )
    error_of(unknown, 404, "NOT_FOUND")


def test_bad_bodies_are_400(client: TestClient, script: Script) -> None:
    for body in (
        {},
        {"message": "x", "images": ["ftp://a/b.png"] * 5},
        {"message": "x", "disabled_tools": ["shell"]},
    ):
        error_of(client.post("/chat", json=body), 400, "INVALID_ARGUMENT")
    error = error_of(
        client.post("/chat", json={"message": "x", "images": ["data:image/gif;base64,AAAA"]}),
        400,
        "INVALID_ARGUMENT",
    )
    assert "GIF" in error["message"]
    assert script.calls == []


def test_health_reports_the_bot(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["bot"]["mode"] == "llm"
    bot = client.get("/bot/v1/health").json()
    assert bot["status"] == "healthy"
    assert bot["model"] == "scripted"


def test_without_with_bot_every_route_is_503(workspace: Path) -> None:
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
        }
    )
    with TestClient(create_app(config)) as c:
        for method, path in (
            ("POST", "/chat"),
            ("POST", "/chat/stream"),
            ("POST", "/bot/v1/chat"),
            ("POST", "/bot/v1/feedback"),
            ("GET", "/bot/v1/health"),
            ("GET", "/chat/stream/resume/x"),
        ):
            error = error_of(c.request(method, path, json={"message": "x"}), 503, "UNAVAILABLE")
            assert "--with-bot" in error["message"]
        assert "bot" not in c.get("/health").json()


def test_chat_needs_a_user_key_in_api_key_mode(workspace: Path) -> None:
    with keyed_client(workspace) as (c, ann, ben):
        c.app.state.service.config.bot.enabled = True  # type: ignore[attr-defined]
        error_of(c.post("/chat", json={"message": "x"}), 401, "UNAUTHENTICATED")
        root = {"X-API-Key": ROOT_KEY}
        error_of(c.post("/chat", json={"message": "x"}, headers=root), 403, "PERMISSION_DENIED")
        as_other = {"message": "x", "user_id": "ann"}
        error_of(c.post("/chat", json=as_other, headers=ben), 403, "PERMISSION_DENIED")
        reply = c.post("/chat", json={"message": "x", "need_reply": False}, headers=ben)
        assert reply.status_code == 200, reply.text
        assert reply.json()["mode"] == "store"
        # ben's stream is not ann's
        sid = reply.json()["session_id"]
        error_of(c.get(f"/chat/stream/resume/{sid}", headers=ann), 404, "NOT_FOUND")
        assert c.get(f"/chat/stream/resume/{sid}", headers=ben).status_code == 200


def test_metrics_count_turns(client: TestClient) -> None:
    client.post("/chat", json={"message": "q"})
    client.post("/chat", json={"message": "keep", "need_reply": False})
    text = client.get("/metrics").text
    assert 'openviking_bot_turns_total{mode="llm",outcome="answered"} 1.0' in text
    assert 'openviking_bot_turns_total{mode="store",outcome="stored"} 1.0' in text
    assert "openviking_bot_running_turns 0.0" in text
