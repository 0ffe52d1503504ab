"""The litellm chat model under a real pydantic-ai Agent, against the local fake OpenAI server."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic_ai import Agent, ModelRetry
from pydantic_ai.exceptions import UserError
from pydantic_ai.messages import (
    BinaryContent,
    DocumentUrl,
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    ImageUrl,
    ModelResponse,
    PartDeltaEvent,
    TextPartDelta,
    ThinkingPart,
)
from pydantic_ai.run import AgentRunResult, AgentRunResultEvent

from openviking_mcp.config import VLMConfig
from openviking_mcp.contract.errors import VLMFailedError
from openviking_mcp.models._litellm import import_litellm
from openviking_mcp.models.chat_model import litellm_chat_model
from tests.fakes import FakeOpenAIServer, chat_reply, scripted, tool_call
from tests.fakes.openai_server import ChatHandler

pytestmark = [
    pytest.mark.anyio,
    # litellm's own stream chunk handling (reasoning deltas) reads pydantic's deprecated attributes.
    pytest.mark.filterwarnings("ignore:Accessing the 'model_.*:DeprecationWarning"),
]

KEY = "sk-test"
PNG = b"\x89PNG\r\n\x1a\n fake image bytes"


@pytest.fixture(autouse=True, scope="module")
def _litellm_imported() -> None:
    """litellm takes seconds to import: once, here, rather than inside the first test's run."""
    import_litellm()


def _config(server: FakeOpenAIServer, **overrides: Any) -> VLMConfig:
    fields: dict[str, Any] = {
        "provider": "openai",
        "model": "fake-chat",
        "api_base": server.base_url,
        "api_key": KEY,
        "max_retries": 0,
    }
    return VLMConfig(**(fields | overrides))


def _agent(server: FakeOpenAIServer, found: list[str] | None = None, **kwargs: Any) -> Agent[None]:
    """An agent on the fake server with one tool, ``find``, noting each query in ``found``."""
    timeout = kwargs.pop("timeout", None)
    agent = Agent(litellm_chat_model(_config(server), timeout=timeout), **kwargs)

    @agent.tool_plain
    def find(query: str) -> str:
        """Find memories about a topic."""
        if found is not None:
            found.append(query)
        return f"memory about {query}: prefers jasmine"

    return agent


@pytest.fixture
def tea_script() -> ChatHandler:
    """Text and a tool call in one reply, then the answer (with some reasoning before it)."""
    return scripted(
        chat_reply("Let me look that up.", tool_call("find", call_id="call_tea", query="tea")),
        chat_reply("You like jasmine tea.", reasoning="The memory says jasmine."),
    )


async def _run(agent: Agent[None], prompt: str, *, streamed: bool) -> str:
    """The agent's answer, from ``run_stream_events`` or from ``run``."""
    if not streamed:
        return (await agent.run(prompt)).output
    async with agent.run_stream_events(prompt) as stream:
        outputs = [e.result.output async for e in stream if isinstance(e, AgentRunResultEvent)]
    (output,) = outputs
    return output


def _chats(server: FakeOpenAIServer) -> list[dict[str, Any]]:
    return server.paths("/chat/completions")


def _check_tool_round_trip(server: FakeOpenAIServer, found: list[str]) -> None:
    assert found == ["tea"]  # the tool really ran, with the model's arguments
    first, second = _chats(server)
    (tool,) = first["tools"]
    assert tool["type"] == "function"
    assert tool["function"]["name"] == "find"
    assert tool["function"]["description"] == "Find memories about a topic."
    assert tool["function"]["parameters"]["properties"] == {"query": {"type": "string"}}
    assert first["tool_choice"] == "auto"
    *_, assistant, result = second["messages"]
    assert assistant["role"] == "assistant"
    assert assistant["content"] == "Let me look that up."
    (call,) = assistant["tool_calls"]
    assert call["id"] == "call_tea"
    assert call["function"]["name"] == "find"
    assert call["function"]["arguments"].replace(" ", "") == '{"query":"tea"}'
    assert result == {
        "role": "tool",
        "tool_call_id": "call_tea",
        "content": "memory about tea: prefers jasmine",
    }


async def test_plain_text_answer() -> None:
    with FakeOpenAIServer(lambda body: "Hello from the fake.") as server:
        result = await _agent(server).run("Say hello")
    assert result.output == "Hello from the fake."
    (body,) = _chats(server)
    assert body["model"] == "fake-chat"
    assert body["messages"] == [{"role": "user", "content": "Say hello"}]
    assert body["temperature"] == 0.0
    assert "stream" not in body
    assert server.request_headers[0]["authorization"] == f"Bearer {KEY}"
    response = result.all_messages()[-1]
    assert isinstance(response, ModelResponse)
    assert response.model_name == "litellm:openai/fake-chat"
    assert response.provider_response_id == "chatcmpl-fake-1"
    assert response.finish_reason == "stop"


async def test_instructions_are_the_first_system_message() -> None:
    with FakeOpenAIServer(lambda body: "ok") as server:
        agent = _agent(server, instructions="Answer briefly.", system_prompt="You are OpenViking.")
        await agent.run("Hi")
    (body,) = _chats(server)
    assert body["messages"] == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "system", "content": "You are OpenViking."},
        {"role": "user", "content": "Hi"},
    ]


async def test_tool_round_trip(tea_script: ChatHandler) -> None:
    found: list[str] = []
    with FakeOpenAIServer(tea_script) as server:
        result = await _agent(server, found).run("Which tea do I like?")
    assert result.output == "You like jasmine tea."
    _check_tool_round_trip(server, found)
    final = result.all_messages()[-1]
    assert isinstance(final, ModelResponse)
    assert isinstance(final.parts[0], ThinkingPart)
    assert final.parts[0].content == "The memory says jasmine."


async def test_tool_round_trip_streamed(tea_script: ChatHandler) -> None:
    found: list[str] = []
    deltas: list[str] = []
    calls: list[FunctionToolCallEvent] = []
    results: list[FunctionToolResultEvent] = []
    run: AgentRunResult[str] | None = None
    with FakeOpenAIServer(tea_script) as server:
        async with _agent(server, found).run_stream_events("Which tea do I like?") as stream:
            async for event in stream:
                if isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
                    deltas.append(event.delta.content_delta)
                elif isinstance(event, FunctionToolCallEvent):
                    calls.append(event)
                elif isinstance(event, FunctionToolResultEvent):
                    results.append(event)
                elif isinstance(event, AgentRunResultEvent):
                    run = event.result
    assert run is not None
    assert run.output == "You like jasmine tea."
    assert len(deltas) >= 4  # word by word, after each part's first word
    assert "jasmine " in deltas
    (call,) = calls
    assert call.part.tool_name == "find"
    assert call.part.tool_call_id == "call_tea"
    assert call.part.args_as_dict() == {"query": "tea"}
    (returned,) = results
    assert returned.part.tool_call_id == "call_tea"
    assert returned.part.content == "memory about tea: prefers jasmine"
    assert all(body["stream"] is True for body in _chats(server))
    _check_tool_round_trip(server, found)
    final = run.all_messages()[-1]
    assert isinstance(final, ModelResponse)
    assert [type(part).__name__ for part in final.parts] == ["ThinkingPart", "TextPart"]
    assert final.provider_response_id == "chatcmpl-fake-2"
    assert final.finish_reason == "stop"


@pytest.mark.parametrize("streamed", [False, True])
async def test_usage_is_what_the_provider_reported(tea_script: ChatHandler, streamed: bool) -> None:
    with FakeOpenAIServer(tea_script) as server:
        agent = _agent(server, instructions="Be brief.")
        if streamed:
            async with agent.run_stream_events("Which tea?") as stream:
                usage = [e.result.usage async for e in stream if isinstance(e, AgentRunResultEvent)]
            (run_usage,) = usage
        else:
            run_usage = (await agent.run("Which tea?")).usage
    # The fake counts 11 prompt tokens a message (2, then 4 messages) and 7 completion tokens.
    assert run_usage.input_tokens == 11 * 2 + 11 * 4
    assert run_usage.output_tokens == 7 + 7
    assert run_usage.requests == 2


async def test_images_go_as_image_url_parts() -> None:
    with FakeOpenAIServer(lambda body: "A cat.") as server:
        await _agent(server).run(
            [
                "What is on these?",
                ImageUrl("https://example.com/cat.png", vendor_metadata={"detail": "low"}),
                BinaryContent(PNG, media_type="image/png"),
            ]
        )
    (body,) = _chats(server)
    assert body["messages"][-1] == {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is on these?"},
            {
                "type": "image_url",
                "image_url": {"url": "https://example.com/cat.png", "detail": "low"},
            },
            {
                "type": "image_url",
                "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()},
            },
        ],
    }


async def test_a_document_in_the_prompt_is_refused_not_dropped() -> None:
    with (
        FakeOpenAIServer(lambda body: "ok") as server,
        pytest.raises(UserError, match="only text and images"),
    ):
        await _agent(server).run(["Read this", DocumentUrl("https://example.com/a.pdf")])
    assert _chats(server) == []


async def test_structured_output_comes_through_a_required_tool_call() -> None:
    class Tea(BaseModel):
        name: str
        sugar: bool

    with FakeOpenAIServer(
        scripted(chat_reply(None, tool_call("final_result", name="jasmine", sugar=False)))
    ) as server:
        agent = Agent(litellm_chat_model(_config(server)), output_type=Tea)
        result = await agent.run("Which tea?")
    assert result.output == Tea(name="jasmine", sugar=False)
    (body,) = _chats(server)
    assert body["tool_choice"] == "required"
    assert [tool["function"]["name"] for tool in body["tools"]] == ["final_result"]


@pytest.mark.parametrize("streamed", [False, True])
@pytest.mark.parametrize("status", [400, 500])
async def test_http_errors_become_vlm_failed_without_the_key(status: int, streamed: bool) -> None:
    reply = chat_reply(status=status, error=f"rejected key {KEY}")
    with FakeOpenAIServer(lambda body: reply) as server:
        agent = _agent(server)
        with pytest.raises(VLMFailedError) as caught:
            await _run(agent, "Hi", streamed=streamed)
    message = str(caught.value)
    assert KEY not in message
    assert f"HTTP {status}" in message
    assert "rejected key ***" in message
    assert caught.value.details["vlm_model"] == "openai/fake-chat"
    assert len(_chats(server)) == 1


@pytest.mark.parametrize("streamed", [False, True])
async def test_transient_errors_are_retried_and_client_errors_are_not(streamed: bool) -> None:
    with FakeOpenAIServer(scripted(chat_reply(status=503), "Recovered.")) as server:
        agent = Agent(litellm_chat_model(_config(server, max_retries=2)))
        assert await _run(agent, "Hi", streamed=streamed) == "Recovered."
    assert len(_chats(server)) == 2

    with FakeOpenAIServer(scripted(chat_reply(status=400), "never sent")) as server:
        agent = Agent(litellm_chat_model(_config(server, max_retries=2)))
        with pytest.raises(VLMFailedError, match="HTTP 400"):
            await _run(agent, "Hi", streamed=streamed)
    assert len(_chats(server)) == 1


async def test_a_tool_retry_answers_its_own_call() -> None:
    script = scripted(
        chat_reply(None, tool_call("read", call_id="call_1", uri="viking://missing")),
        chat_reply(None, tool_call("read", call_id="call_2", uri="viking://notes")),
        "Read it.",
    )
    with FakeOpenAIServer(script) as server:
        agent = Agent(litellm_chat_model(_config(server)))

        @agent.tool_plain
        def read(uri: str) -> str:
            """Read a file."""
            if uri == "viking://missing":
                raise ModelRetry(f"no such file: {uri}")
            return "the notes"

        assert (await agent.run("Read my notes")).output == "Read it."
    messages = _chats(server)[-1]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant", "tool"]
    assert messages[2]["tool_call_id"] == "call_1"
    assert "no such file: viking://missing" in messages[2]["content"]
    assert messages[4] == {"role": "tool", "tool_call_id": "call_2", "content": "the notes"}


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_slow_answer_times_out(streamed: bool) -> None:
    with FakeOpenAIServer(lambda body: chat_reply("Too late.", delay=1.5)) as server:
        agent = _agent(server, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(VLMFailedError, match=r"timed out after 0\.3s") as caught:
            await _run(agent, "Hi", streamed=streamed)
    assert time.monotonic() - started < 1.2
    assert KEY not in str(caught.value)


async def test_a_stream_breaking_off_midway_is_not_retried() -> None:
    reply = chat_reply("Half an answer", stream_error=f"upstream died, key {KEY}")
    with FakeOpenAIServer(scripted(reply, "A whole new answer.")) as server:
        agent = Agent(litellm_chat_model(_config(server, max_retries=2)))
        with pytest.raises(VLMFailedError, match="upstream died") as caught:
            await _run(agent, "Hi", streamed=True)
    assert KEY not in str(caught.value)
    assert len(_chats(server)) == 1  # deltas had gone out: asking again would repeat them
