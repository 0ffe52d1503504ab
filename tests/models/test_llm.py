"""LLM.complete against the fake OpenAI-compatible server: ``openai/...`` models go out over
plain HTTP (no litellm), with the same request, retries and usage metering."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from openviking_mcp.config import VLMConfig
from openviking_mcp.contract.errors import VLMFailedError
from openviking_mcp.models.llm import LLM, metered_usage
from tests.fakes import FakeOpenAIServer, chat_reply
from tests.fakes.openai_server import ChatReply

pytestmark = pytest.mark.anyio

API_KEY = "sk-llm-secret-42"


def _llm(server: FakeOpenAIServer, model: str = "fake-chat", **extra: Any) -> LLM:
    options: dict[str, Any] = {"max_retries": 0, "api_key": API_KEY, **extra}
    return LLM(VLMConfig(provider="openai", model=model, api_base=server.base_url, **options))


async def test_request_answer_and_usage() -> None:
    with FakeOpenAIServer(lambda body: "A written summary.") as server:
        llm = _llm(server, extra_headers={"X-Team": "core"}, temperature=0.2)
        with metered_usage() as usage:
            answer = await llm.complete("Summarise.", system="Be brief.", max_tokens=50)
            await llm.complete("Again, as JSON.", json_mode=True)
    assert answer == "A written summary."
    first, second = server.paths("/chat/completions")
    assert first["model"] == "fake-chat"
    assert first["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Summarise."},
    ]
    assert first["temperature"] == 0.2
    assert first["max_tokens"] == 50
    assert "response_format" not in first
    assert second["response_format"] == {"type": "json_object"}
    assert "max_tokens" not in second
    headers = server.request_headers[0]
    assert headers["authorization"] == f"Bearer {API_KEY}"
    assert headers["x-team"] == "core"
    assert usage["prompt_tokens"] == 11 * 2 + 11 * 1
    assert usage["completion_tokens"] == 14
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert llm.model_id == "litellm:openai/fake-chat"


async def test_reasoning_models_get_max_completion_tokens() -> None:
    with FakeOpenAIServer(lambda body: "ok") as server:
        await _llm(server, model="o3-mini").complete("x", max_tokens=30)
    (body,) = server.paths("/chat/completions")
    assert body["max_completion_tokens"] == 30
    assert "max_tokens" not in body


async def test_server_errors_retry_client_errors_do_not() -> None:
    replies: Iterator[ChatReply] = iter([chat_reply(status=500, error="boom"), "recovered"])
    with FakeOpenAIServer(lambda body: next(replies)) as server:
        assert await _llm(server, max_retries=1).complete("x") == "recovered"
    assert len(server.paths("/chat/completions")) == 2

    bad = chat_reply(status=400, error=f"bad {API_KEY}")
    with FakeOpenAIServer(lambda body: bad) as server, pytest.raises(VLMFailedError) as caught:
        await _llm(server, max_retries=3).complete("x")
    assert len(server.paths("/chat/completions")) == 1
    assert "HTTP 400" in caught.value.message
    assert API_KEY not in caught.value.message


async def test_a_timeout_is_not_retried() -> None:
    late = chat_reply("late", delay=1.0)
    with (
        FakeOpenAIServer(lambda body: late) as server,
        pytest.raises(VLMFailedError, match="timed out"),
    ):
        await _llm(server, max_retries=2, timeout=0.2).complete("x")
    assert len(server.paths("/chat/completions")) == 1


async def test_compatible_server_without_key() -> None:
    with FakeOpenAIServer(lambda body: "ok") as server:
        config = VLMConfig(provider="openai", model="m", api_base=server.base_url)
        assert await LLM(config).complete("x") == "ok"
    assert server.request_headers[0]["authorization"] == "Bearer no-key"


def test_openai_models_are_called_without_litellm() -> None:
    with FakeOpenAIServer(lambda body: "fine") as server:
        code = (
            "import asyncio, sys; from openviking_mcp.config import VLMConfig; "
            "from openviking_mcp.models.llm import LLM; "
            f"cfg = VLMConfig(provider='openai', model='m', api_base={server.base_url!r}); "
            "print(asyncio.run(LLM(cfg).complete('hi')), 'litellm' in sys.modules)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
        )
    assert out.stdout.split() == ["fine", "False"]
