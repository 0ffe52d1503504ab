"""The MCP ``chat`` tool: present only with the bot on, and a thin adapter over the bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from openviking_mcp import ContextService
from openviking_mcp.bot.service import ChatService
from openviking_mcp.mcp_server import build_mcp_server
from tests.bot.conftest import Script, bot_config, chat_over, seed
from tests.mcp_server.conftest import text_of

pytestmark = pytest.mark.anyio

DOC = "viking://resources/ops/deploy.md"


@asynccontextmanager
async def _bot(
    workspace: Path, script: Script, **bot: Any
) -> AsyncIterator[tuple[ContextService, ChatService]]:
    svc = ContextService(bot_config(workspace, **bot), chat_model=script.model())
    await svc.initialize()
    try:
        async with chat_over(svc) as chat:
            yield svc, chat
    finally:
        await svc.close()


async def test_chat_tool_answers_with_sources(workspace: Path) -> None:
    script = Script([("read", {"uri": DOC}), f"Run make ship [{DOC}]."])
    async with _bot(workspace, script) as (svc, chat):
        await seed(svc, [(DOC, "To deploy run make ship.")])
        server = build_mcp_server(svc, caller=svc.dev_context(), chat=chat)
        async with Client(server) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert "chat" in tools
            assert tools["chat"].annotations is not None
            assert tools["chat"].annotations.read_only_hint is False
            result = await client.call_tool("chat", {"message": "How do I deploy?"})
            assert result.is_error is False
            text = text_of(result)
            assert text.startswith(f"Run make ship [{DOC}].")
            assert f"Sources:\n- {DOC}" in text
            data = result.structured_content
            assert data is not None
            assert data["citations"] == [{"uri": DOC, "context_type": "resource"}]
            again = await client.call_tool(
                "chat", {"message": "thanks", "session_id": data["session_id"]}
            )
            assert again.structured_content is not None
            assert again.structured_content["session_id"] == data["session_id"]


async def test_chat_tool_reports_a_failed_turn(workspace: Path) -> None:
    script = Script(["never"], delay=30)
    async with (
        _bot(workspace, script, timeout=0.3) as (svc, chat),
        Client(build_mcp_server(svc, caller=svc.dev_context(), chat=chat)) as client,
    ):
        result = await client.call_tool("chat", {"message": "hello"})
        assert result.is_error is True
        assert text_of(result).startswith("Error [PROCESSING_ERROR]: The bot could not answer")


async def test_no_chat_tool_without_the_bot(mcp: Client) -> None:
    names = {t.name for t in (await mcp.list_tools()).tools}
    assert "chat" not in names
    assert {"find", "read", "remember"} <= names
