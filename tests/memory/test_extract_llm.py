"""LLM extraction through the real litellm path, against the local fake server."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from openviking_mcp.config import VLMConfig
from openviking_mcp.contract.errors import ProcessingError
from openviking_mcp.memory.extract_llm import (
    ExistingMemory,
    ExtractionResult,
    extract_with_llm,
)
from openviking_mcp.memory.memory_schema import load_schemas
from openviking_mcp.models.llm import LLM
from tests.fakes import FakeOpenAIServer

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TEA_URI = "viking://user/default/memories/preferences/tea.md"
MESSAGES: list[dict[str, Any]] = [
    {
        "role": "user",
        "parts": [{"type": "text", "text": "I switched from green tea to jasmine tea."}],
        "created_at": "2026-11-23T09:00:00Z",
    },
    {
        "role": "assistant",
        "parts": [
            {"type": "text", "text": "Noted."},
            {"type": "tool", "tool_name": "calendar", "tool_input": {"q": "deploy"}},
        ],
        "created_at": "2026-11-23T09:00:05Z",
    },
    {"role": "user", "content": "Yesterday we deployed billing v2."},
]
EXISTING = {
    "preferences": [
        ExistingMemory(TEA_URI, "User prefers green tea.\nNo sugar."),
        *(
            ExistingMemory(f"viking://user/default/memories/preferences/p{i}.md", f"p{i}")
            for i in range(8)
        ),
    ]
}


async def _extract(
    reply: str | Callable[[dict[str, Any]], str],
) -> tuple[ExtractionResult, FakeOpenAIServer]:
    chat = reply if callable(reply) else (lambda body: reply)
    with FakeOpenAIServer(chat) as server:
        llm = LLM(
            VLMConfig(
                provider="openai",
                model="fake-chat",
                api_base=server.base_url,
                api_key="sk-test",
                max_retries=0,
            )
        )
        result = await extract_with_llm(llm.complete, MESSAGES, EXISTING, load_schemas(), now=NOW)
    return result, server


async def test_good_json_gives_operations_and_one_call() -> None:
    reply = {
        "operations": [
            {
                "op": "update",
                "memory_type": "preferences",
                "uri": TEA_URI,
                "fields": {
                    "topic": "tea",
                    "content": [{"search": "green tea", "replace": "jasmine tea"}],
                },
                "reason": "the user switched",
            },
            {
                "op": "add",
                "memory_type": "events",
                "fields": {
                    "event_name": "billing v2 deploy",
                    "event_date": "2026-11-23",
                    "content": "On 2026-11-23 the user's team deployed billing v2.",
                },
            },
        ]
    }
    result, server = await _extract("```json\n" + json.dumps(reply) + "\n```")
    assert result.problems == []
    assert [(op.op, op.memory_type) for op in result.operations] == [
        ("update", "preferences"),
        ("add", "events"),
    ]
    assert result.operations[0].fields["content"] == [
        {"search": "green tea", "replace": "jasmine tea"}
    ]

    (body,) = server.paths("/chat/completions")
    assert body["model"] == "fake-chat"
    assert body["response_format"] == {"type": "json_object"}
    system, user = body["messages"]
    assert system["role"] == "system"
    prompt = user["content"]
    assert "I switched from green tea to jasmine tea." in prompt
    assert "[tool calendar" in prompt
    assert "### events (add_only; file: memories/events/{YYYY}/{MM}/{DD}/{event_name}.md)" in prompt
    assert "- topic (string, merge op immutable)" in prompt
    assert f"- uri: {TEA_URI}\n  User prefers green tea. No sugar." in prompt
    assert "p3.md" in prompt
    assert "p4.md" not in prompt  # top 5 existing memories per category
    assert "Today is 2026-11-24" in prompt
    assert "Monday" in prompt  # message times carry the weekday for relative dates


@pytest.mark.parametrize(
    "reply",
    [
        "Sure! Here are the memories: the user likes jasmine tea.",
        '{"operations": [',
        '["not", "an", "object"]',
        '{"ops": []}',
        '{"operations": {"op": "add"}}',
        "",
    ],
)
async def test_unusable_output_is_a_clear_processing_error(reply: str) -> None:
    with pytest.raises(ProcessingError) as err:
        await _extract(reply)
    assert err.value.message.startswith("memory extraction: model output is not valid JSON: ")


async def test_operations_that_do_not_fit_are_dropped_with_problems() -> None:
    reply = {
        "operations": [
            {"op": "add", "memory_type": "horoscopes", "fields": {"content": "x"}},
            {"op": "add", "memory_type": "preferences", "fields": {"content": "no topic"}},
            {
                "op": "update",
                "memory_type": "preferences",
                "uri": "viking://made/up.md",
                "fields": {"topic": "tea", "content": "x"},
            },
            {"op": "delete", "memory_type": "preferences", "uri": "viking://made/up.md"},
            {
                "op": "update",
                "memory_type": "events",
                "uri": TEA_URI,
                "fields": {"event_name": "x", "content": "x"},
            },
            {
                "op": "add",
                "memory_type": "preferences",
                "fields": {"topic": "tea", "content": [{"search": "a", "replace": "b"}]},
            },
            {"op": "upsert", "memory_type": "preferences", "fields": {}},
            "not an object",
            {
                "op": "add",
                "memory_type": "preferences",
                "fields": {
                    "topic": "Jasmine Tea",
                    "content": "User prefers jasmine tea.",
                    "mood": "happy",
                },
            },
            {"op": "delete", "memory_type": "preferences", "uri": TEA_URI},
        ]
    }
    result, _ = await _extract(json.dumps(reply))
    assert [(op.op, op.fields.get("topic")) for op in result.operations] == [
        ("add", "Jasmine Tea"),
        ("delete", None),
    ]
    assert "mood" not in result.operations[0].fields
    problems = "\n".join(result.problems)
    assert len(result.problems) == 9, problems
    assert "operation 0: add horoscopes: unknown memory_type 'horoscopes'" in problems
    assert "operation 1:" in problems
    assert "'topic'" in problems
    assert "operation 2: update preferences viking://made/up.md: uri is not one of" in problems
    assert "operation 3: delete preferences viking://made/up.md" in problems
    assert "operation 4:" in problems
    assert "add-only" in problems
    assert "operation 5:" in problems
    assert "patch blocks in a new memory" in problems
    assert "operation 6:" in problems
    assert "operation 7:" in problems
    assert "operation 8: add preferences: ignored unknown fields mood" in problems


async def test_an_empty_answer_list_is_fine() -> None:
    result, _ = await _extract('{"operations": []}')
    assert result == ExtractionResult([], [])
