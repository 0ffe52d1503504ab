"""The pydantic-ai toolset: a scripted model (pydantic-ai's ``FunctionModel``) calls the tools
against a real embedded store; the example runs against a live server with the fake
OpenAI-compatible model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai import Agent
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

from openviking_mcp import AsyncOpenViking, OpenViking, SyncHTTPClient
from openviking_mcp.integrations.pydantic_ai import TOOL_NAMES, openviking_toolset
from tests.conftest import hashing_config
from tests.fakes import FakeOpenAIServer, chat_reply, scripted, tool_call
from tests.integrations._toolkits import (
    NOTE,
    NOTE_URI,
    live_server,
    requests_tool_results,
    run_example,
)

pytestmark = pytest.mark.anyio


def _script(*calls: ToolCallPart) -> FunctionModel:
    """A model that makes one call per turn, then answers ``done``; ``seen`` on the model
    function holds the tool definitions it was offered."""
    queue = list(calls)

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        model.seen = {tool.name: tool for tool in info.function_tools}  # type: ignore[attr-defined]
        if queue:
            return ModelResponse(parts=[queue.pop(0)])
        return ModelResponse(parts=[TextPart("done")])

    return FunctionModel(model)


def _returns(messages: list[ModelMessage]) -> dict[str, Any]:
    """The tool results the model received, by tool name (the last one of each)."""
    return {
        part.tool_name: part.content
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, ToolReturnPart)
    }


async def test_the_tools_find_read_and_remember(store: AsyncOpenViking) -> None:
    model = _script(
        ToolCallPart("find", {"query": "roll back a release"}),
        ToolCallPart("read", {"uri": NOTE_URI}),
        ToolCallPart("remember", {"content": "I prefer green tea over coffee."}),
    )
    agent = Agent(model, toolsets=[openviking_toolset(store, wait=True)])
    result = await agent.run("How do I roll back? And remember my tea.")

    assert result.output == "done"
    returns = _returns(result.all_messages())
    assert returns["find"][0]["uri"] == NOTE_URI
    assert set(returns["find"][0]) >= {"uri", "score", "level", "context_type", "abstract"}
    assert returns["read"] == NOTE
    assert returns["remember"]["status"] == "accepted"
    assert returns["remember"]["memories_extracted"]["preferences"] == 1
    found = await store.find("green tea", context_type="memory")
    assert "User prefers green tea over coffee." in [hit["abstract"] for hit in found["memories"]]


async def test_the_toolset_offers_four_described_tools(store: AsyncOpenViking) -> None:
    model = _script()
    await Agent(model, toolsets=[openviking_toolset(store)]).run("hi")
    seen = model.function.seen  # type: ignore[union-attr]
    assert tuple(seen) == TOOL_NAMES
    find = seen["find"]
    assert "memories, resources, skills" in (find.description or "")
    schema = find.parameters_json_schema
    assert schema["required"] == ["query"]
    assert schema["properties"]["query"]["description"] == "What to look for, in words."
    assert seen["read"].parameters_json_schema["required"] == ["uri"]


async def test_a_missing_uri_comes_back_as_an_error_the_model_can_read(
    store: AsyncOpenViking,
) -> None:
    model = _script(ToolCallPart("read", {"uri": "viking://resources/nowhere.md"}))
    result = await Agent(model, toolsets=[openviking_toolset(store)]).run("read it")
    assert _returns(result.all_messages())["read"]["error"]["code"] == "NOT_FOUND"


async def test_search_uses_the_bound_session(store: AsyncOpenViking) -> None:
    await store.add_message("s1", "user", "We talk about releases and rollbacks.")
    model = _script(ToolCallPart("search", {"query": "previous tag", "limit": 3}))
    toolset = openviking_toolset(store, session_id="s1")
    result = await Agent(model, toolsets=[toolset]).run("search")
    hits = _returns(result.all_messages())["search"]
    assert len(hits) <= 3
    assert hits[0]["uri"] == NOTE_URI


def test_a_blocking_client_works_too(tmp_path: Path) -> None:
    with OpenViking(config=hashing_config(tmp_path / "data")) as ov:
        ov.write(NOTE_URI, NOTE, mode="create", wait=True)
        model = _script(ToolCallPart("read", {"uri": NOTE_URI, "offset": 2, "limit": 1}))
        result = Agent(model, toolsets=[openviking_toolset(ov)]).run_sync("read")
    assert (
        _returns(result.all_messages())["read"]
        == "To roll back a release, redeploy the previous tag.\n"
    )


@pytest.mark.slow
def test_the_example_calls_the_tools_on_a_live_server(tmp_path: Path) -> None:
    script = scripted(
        chat_reply(None, tool_call("find", query="roll back a release")),
        chat_reply(None, tool_call("read", uri=NOTE_URI)),
        chat_reply(None, tool_call("remember", content="I prefer green tea over coffee.")),
        chat_reply("Redeploy the previous tag. Noted: green tea."),
    )
    with live_server(tmp_path / "data") as url, FakeOpenAIServer(script) as llm:
        done = run_example("pydantic_ai_toolset.py", tmp_path, url, llm.base_url)
        with SyncHTTPClient(url) as ov:
            memories = ov.find("green tea", context_type="memory")["memories"]
    lines = done.stdout.splitlines()
    calls = [line.split()[1] for line in lines if line.startswith("tool> ")]
    assert calls == ["find", "read", "remember"]
    assert "agent> Redeploy the previous tag. Noted: green tea." in lines
    chats = llm.paths("/chat/completions")
    assert len(chats) == 4
    offered = {tool["function"]["name"] for tool in chats[0]["tools"]}
    assert offered == set(TOOL_NAMES)
    results = list(requests_tool_results(chats).values())
    assert NOTE_URI in results[0]  # find answered the note
    assert results[1].startswith("# Releases")  # read answered its text
    assert json.loads(results[2])["status"] == "accepted"
    assert "User prefers green tea over coffee." in [m["abstract"] for m in memories]
