"""End to end over a real server: ``serve --with-bot`` (real uvicorn, litellm and pydantic-ai)
with the fake OpenAI-compatible model on 127.0.0.1 scripting tool calls and streamed deltas,
read by a streaming HTTP client that drops the connection and resumes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from openviking_mcp import SyncHTTPClient
from tests.bot.conftest import sse_events
from tests.fakes import FakeOpenAIServer, chat_reply, tool_call
from tests.servers import free_port, start_server

pytestmark = pytest.mark.slow

DEPLOY = "viking://resources/ops/deploy.md"
ANSWER = f"Run make ship from the release branch [{DEPLOY}]."


def _tool_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in body["messages"] if m.get("role") == "tool"]


def _model(body: dict[str, Any]) -> Any:
    """find, then read what find returned, then answer (slowly, so the test can hang up)."""
    done = len(_tool_messages(body))
    if body.get("tools") and done == 0:
        return chat_reply(None, tool_call("find", query="deploy the shop"))
    if body.get("tools") and done == 1:
        return chat_reply(None, tool_call("read", uri=DEPLOY))
    return chat_reply(ANSWER, delay=1.5 if done == 2 else None)


@pytest.fixture
def bot_server(tmp_path: Path) -> Iterator[tuple[str, FakeOpenAIServer]]:
    with FakeOpenAIServer(_model) as llm:
        conf = tmp_path / "ov.conf"
        conf.write_text(
            json.dumps(
                {
                    "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
                    "bot": {
                        "model": {
                            "provider": "openai",
                            "model": "fake-chat",
                            "api_base": llm.base_url,
                            "api_key": "sk-fake",
                            "max_retries": 0,
                        }
                    },
                }
            )
        )
        port = free_port()
        command = ["openviking-mcp", "serve", "--with-bot", "--config", str(conf)]
        proc = start_server(tmp_path, command, port)
        try:
            yield f"http://127.0.0.1:{port}", llm
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_stream_drop_and_resume(bot_server: tuple[str, FakeOpenAIServer]) -> None:
    url, llm = bot_server
    with SyncHTTPClient(url) as client:
        client.write(DEPLOY, "# Deploy\n\nTo deploy the shop run make ship.\n", mode="create")
        client.wait_processing()

    body = {"message": "How do I deploy the shop?", "session_id": "e2e"}
    first: list[tuple[int, dict[str, Any]]] = []
    with (
        httpx.Client(base_url=url, timeout=30) as http,
        http.stream("POST", "/chat/stream", json=body) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for index, payload in sse_events(response.iter_lines()):
            first.append((index, payload))
            if payload["event"] == "tool_result" and payload["data"]["name"] == "read":
                break  # hang up while the model is still thinking
    kinds = [p["event"] for _, p in first]
    assert kinds == ["iteration", "tool_call", "tool_result"] * 2
    assert first[1][1]["data"]["name"] == "find"
    assert first[4][1]["data"]["arguments"] == {"uri": DEPLOY}
    assert "make ship" in first[5][1]["data"]["result"]

    last = first[-1][0]
    with (
        httpx.Client(base_url=url, timeout=30) as http,
        http.stream("GET", "/chat/stream/resume/e2e", params={"last_index": last}) as response,
    ):
        rest = list(sse_events(response.iter_lines()))
    assert rest[0][0] == last + 1
    assert [i for i, _ in rest] == list(range(last + 1, last + 1 + len(rest)))
    deltas = [p["data"] for _, p in rest if p["event"] == "content_delta"]
    assert len(deltas) > 3  # streamed word by word by the fake model
    assert "".join(deltas) == ANSWER
    final = rest[-1][1]
    assert final["event"] == "response"
    assert final["data"]["content"] == ANSWER
    assert final["data"]["citations"] == [{"uri": DEPLOY, "context_type": "resource"}]
    assert final["data"]["token_usage"]["prompt_tokens"] > 0

    # a reconnect with Last-Event-ID replays from there
    with (
        httpx.Client(base_url=url, timeout=30) as http,
        http.stream(
            "GET", "/chat/stream/resume/e2e", headers={"Last-Event-ID": str(last + 2)}
        ) as response,
    ):
        assert next(sse_events(response.iter_lines()))[0] == last + 3

    # what the model really saw: find's hits, then the file read through the read tool
    chats = llm.paths("/chat/completions")
    assert all(c.get("stream") for c in chats)
    assert [t["function"]["name"] for t in chats[0]["tools"]] == [
        "find",
        "search",
        "read",
        "list",
        "grep",
        "remember",
    ]
    assert DEPLOY in _tool_messages(chats[1])[0]["content"]
    assert "make ship" in _tool_messages(chats[2])[1]["content"]
    assert chats[0]["messages"][0]["role"] == "system"

    # the next turn (non-streaming) carries the first one as history
    with httpx.Client(base_url=url, timeout=30) as http:
        reply = http.post("/chat", json={"message": "Thanks!", "session_id": "e2e"}).json()
    assert reply["message"] == ANSWER
    history = [m.get("content") for m in llm.paths("/chat/completions")[-1]["messages"]]
    assert "How do I deploy the shop?" in history
    assert ANSWER in history
