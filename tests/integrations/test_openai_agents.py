"""The OpenAI Agents SDK tools: the SDK's chat-completions model talks to the fake
OpenAI-compatible server, scripted to call the tools against a real store; the example runs
against a live server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from agents import Agent, OpenAIChatCompletionsModel, RunConfig, Runner
from openai import AsyncOpenAI

from openviking_mcp import AsyncOpenViking, SyncHTTPClient
from openviking_mcp.integrations.openai_agents import TOOL_NAMES, openviking_tools
from tests.fakes import FakeOpenAIServer, chat_reply, scripted, tool_call
from tests.integrations._toolkits import (
    NOTE,
    NOTE_URI,
    live_server,
    requests_tool_results,
    run_example,
)

pytestmark = pytest.mark.anyio


async def _run(tools: list[Any], llm: FakeOpenAIServer) -> str:
    client = AsyncOpenAI(base_url=llm.base_url, api_key="sk-fake", max_retries=0)
    model = OpenAIChatCompletionsModel("fake-chat", client)
    agent = Agent(name="assistant", instructions="Use the tools.", tools=tools, model=model)
    result = await Runner.run(agent, "go", run_config=RunConfig(tracing_disabled=True))
    return str(result.final_output)


async def test_the_model_calls_the_tools_against_the_store(store: AsyncOpenViking) -> None:
    script = scripted(
        chat_reply(
            None,
            tool_call("find", query="roll back a release", call_id="c-find"),
            tool_call("read", uri=NOTE_URI, call_id="c-read"),
        ),
        chat_reply(None, tool_call("remember", content="I prefer green tea.", call_id="c-mem")),
        chat_reply("done"),
    )
    with FakeOpenAIServer(script) as llm:
        output = await _run(openviking_tools(store, wait=True), llm)
    assert output == "done"
    chats = llm.paths("/chat/completions")
    offered = {tool["function"]["name"]: tool["function"] for tool in chats[0]["tools"]}
    assert tuple(offered) == TOOL_NAMES
    assert offered["read"]["parameters"]["properties"]["uri"]["description"] == (
        "The viking:// URI of the file."
    )
    results = requests_tool_results(chats)
    assert json.loads(results["c-find"])[0]["uri"] == NOTE_URI  # JSON text, best hit first
    assert results["c-read"] == NOTE
    assert json.loads(results["c-mem"])["memories_extracted"]["preferences"] == 1
    found = await store.find("green tea", context_type="memory")
    assert "User prefers green tea." in [hit["abstract"] for hit in found["memories"]]


async def test_a_prefix_renames_the_tools(store: AsyncOpenViking) -> None:
    script = scripted(
        chat_reply(None, tool_call("ov_read", uri="viking://resources/none.md", call_id="c1")),
        chat_reply("done"),
    )
    with FakeOpenAIServer(script) as llm:
        await _run(openviking_tools(store, prefix="ov"), llm)
    chats = llm.paths("/chat/completions")
    assert [tool["function"]["name"] for tool in chats[0]["tools"]] == [
        f"ov_{name}" for name in TOOL_NAMES
    ]
    assert json.loads(requests_tool_results(chats)["c1"])["error"]["code"] == "NOT_FOUND"


@pytest.mark.slow
def test_the_example_calls_the_tools_on_a_live_server(tmp_path: Path) -> None:
    script = scripted(
        chat_reply(None, tool_call("search", query="roll back a release")),
        chat_reply(None, tool_call("read", uri=NOTE_URI)),
        chat_reply(None, tool_call("remember", content="I prefer green tea over coffee.")),
        chat_reply("Redeploy the previous tag."),
    )
    with live_server(tmp_path / "data") as url, FakeOpenAIServer(script) as llm:
        done = run_example("openai_agents_tools.py", tmp_path, url, llm.base_url)
        with SyncHTTPClient(url) as ov:
            memories = ov.find("green tea", context_type="memory")["memories"]
    lines = done.stdout.splitlines()
    calls = [line.split()[1] for line in lines if line.startswith("tool> ")]
    assert calls == ["search", "read", "remember"]
    assert lines[-1] == "agent> Redeploy the previous tag."
    results = list(requests_tool_results(llm.paths("/chat/completions")).values())
    assert json.loads(results[0])[0]["uri"] == NOTE_URI
    assert results[1].startswith("# Releases")
    assert json.loads(results[2])["status"] == "accepted"
    assert "User prefers green tea over coffee." in [m["abstract"] for m in memories]


def test_importing_the_toolkits_loads_no_framework() -> None:
    """``openviking_mcp``, its clients and ``openviking_mcp.integrations`` load no agent
    framework; each toolkit module loads only its own."""
    code = (
        "import sys, openviking_mcp, openviking_mcp.client, openviking_mcp.integrations\n"
        "from openviking_mcp.integrations import _core\n"
        "before = sorted(m for m in FRAMEWORKS if m in sys.modules)\n"
        "import openviking_mcp.integrations.langchain\n"
        "after = sorted(m for m in FRAMEWORKS if m in sys.modules)\n"
        "print(before, after)"
    )
    frameworks = "FRAMEWORKS = ('langchain_core', 'agents', 'pydantic_ai', 'lancedb', 'litellm')\n"
    done = subprocess.run(
        [sys.executable, "-c", frameworks + code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] ['langchain_core']"
