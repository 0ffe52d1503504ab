"""The session tools through the real MCP client (in process)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from mcp import Client

from openviking_mcp import ContextService
from openviking_mcp.storage.queue import TaskHandle
from tests.mcp_server.conftest import text_of

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _phase2(service: ContextService) -> None:
    async def stub(task: TaskHandle) -> dict[str, Any]:
        return {"archive_uri": task.payload["archive_uri"]}

    service.store.tasks.register("session_commit", stub)


async def test_schemas(mcp: Client) -> None:
    tools = {t.name: t for t in (await mcp.list_tools()).tools}
    add = tools["add_message"].input_schema
    assert add["properties"]["role"]["enum"] == ["user", "assistant"]
    assert set(add["required"]) == {"session_id", "role", "content"}
    remember = tools["remember"].input_schema["properties"]["messages"]
    assert remember["type"] == "array"
    assert remember["items"]["properties"]["role"]["enum"] == ["user", "assistant"]
    assert tools["commit_session"].input_schema["required"] == ["session_id"]
    for name in ("create_session", "add_message", "commit_session", "remember"):
        assert tools[name].annotations.read_only_hint is False


async def test_create_add_commit(mcp: Client, service: ContextService) -> None:
    created = await mcp.call_tool("create_session", {"session_id": "chat"})
    assert not created.is_error, text_of(created)
    assert text_of(created) == "Created session chat (viking://user/default/sessions/chat)."
    generated = await mcp.call_tool("create_session", {})
    assert re.search(r"session \d{8}-\d{6}-[0-9a-f]{16} ", text_of(generated))

    for role, content in (("user", "I prefer tea"), ("assistant", "Noted.")):
        added = await mcp.call_tool(
            "add_message", {"session_id": "chat", "role": role, "content": content}
        )
        assert not added.is_error, text_of(added)
    assert added.structured_content is not None
    assert added.structured_content["message_count"] == 2

    committed = await mcp.call_tool("commit_session", {"session_id": "chat"})
    assert not committed.is_error, text_of(committed)
    text = text_of(committed)
    archive = "viking://user/default/sessions/chat/history/archive_001"
    assert text.startswith(f"Committed 2 message(s) of session chat: archive {archive}; ")
    assert "memories are being extracted (task " in text
    assert committed.structured_content is not None
    assert committed.structured_content["status"] == "accepted"

    again = await mcp.call_tool("commit_session", {"session_id": "chat"})
    assert text_of(again) == "Nothing to commit in session chat (no messages)."

    await mcp.call_tool("add_message", {"session_id": "chat", "role": "user", "content": "x"})
    waited = await mcp.call_tool("commit_session", {"session_id": "chat", "wait": True})
    assert "memories were extracted (task " in text_of(waited)


async def test_remember(mcp: Client, service: ContextService) -> None:
    messages = [
        {"role": "user", "content": "My name is Ann."},
        {"role": "assistant", "content": "Hello Ann."},
    ]
    result = await mcp.call_tool("remember", {"messages": messages})
    assert not result.is_error, text_of(result)
    assert text_of(result) == "Stored 2 message(s) and committed for memory extraction."
    assert result.structured_content is not None
    sid = result.structured_content["session_id"]
    assert re.fullmatch(r"mcp-store-[0-9a-f]{12}", sid)
    archives = await service.list_archives(service.dev_context(), sid)
    assert archives[0]["message_count"] == 2


async def test_errors(mcp: Client) -> None:
    missing = await mcp.call_tool("commit_session", {"session_id": "nope"})
    assert missing.is_error
    text = text_of(missing)
    assert text.startswith("Error [NOT_FOUND]: Session not found: nope")
    assert "create_session" in text
    bad_role = await mcp.call_tool(
        "add_message", {"session_id": "s", "role": "robot", "content": "x"}
    )
    assert bad_role.is_error
    empty = await mcp.call_tool("add_message", {"session_id": "s", "role": "user", "content": ""})
    assert empty.is_error
    assert "Error [INVALID_ARGUMENT]" in text_of(empty)
    none = await mcp.call_tool("remember", {"messages": []})
    assert none.is_error
    exists = await mcp.call_tool("create_session", {"session_id": "twice"})
    assert not exists.is_error
    twice = await mcp.call_tool("create_session", {"session_id": "twice"})
    assert twice.is_error
    assert "ALREADY_EXISTS" in text_of(twice)
    assert "Pick another session_id" in text_of(twice)
