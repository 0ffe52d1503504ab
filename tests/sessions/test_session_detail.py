"""The session detail answers with the original's fields, token usage of phase 2 included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp import AsyncOpenViking, OpenVikingConfig
from tests.fakes import FakeOpenAIServer
from tests.fakes.openai_server import COMPLETION_TOKENS

pytestmark = pytest.mark.anyio

#: The original's ``SessionMeta.to_dict()`` keys plus what its GET adds.
ORIGINAL_DETAIL_KEYS = {
    "session_id",
    "created_at",
    "updated_at",
    "created_by_account_id",
    "created_by_user_id",
    "message_count",
    "total_message_count",
    "commit_count",
    "memories_extracted",
    "last_commit_at",
    "llm_token_usage",
    "embedding_token_usage",
    "pending_tokens",
    "keep_recent_count",
    "retention_mode",
    "keep_recent_turn_count",
    "retained_message_token_budget",
    "min_raw_tail_steps",
    "memory_policy",
    "auto_commit_policy",
    "last_message_at",
    "last_auto_commit_at",
    "last_idle_commit_accepted_at",
    "uri",
    "user",
    "memory_extraction_config",
}
ZERO_USAGE = {
    "prompt_tokens": 0,
    "completion_tokens": 0,
    "total_tokens": 0,
    "cached_tokens": 0,
    "reasoning_tokens": 0,
}


def _config(workspace: Path, **sections: Any) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            **sections,
        }
    )


async def test_a_new_session_has_the_original_fields_and_defaults(workspace: Path) -> None:
    async with AsyncOpenViking(config=_config(workspace)) as aov:
        svc, ctx = aov.service, aov.context
        await svc.create_session(ctx, "fresh")
        detail = await svc.get_session(ctx, "fresh")
    assert set(detail) >= ORIGINAL_DETAIL_KEYS
    assert detail["llm_token_usage"] == ZERO_USAGE
    assert detail["embedding_token_usage"] == {"total_tokens": 0}
    assert detail["memories_extracted"] == {"total": 0}
    for unset in ("last_commit_at", "last_message_at", "last_auto_commit_at"):
        assert detail[unset] == ""  # the original's "unset", not null
    assert detail["min_raw_tail_steps"] == 1
    assert detail["retention_mode"] == ""
    assert detail["memory_extraction_config"] == {"events": {"tags": []}}


def _chat(body: dict[str, Any]) -> str:
    prompt = str(body["messages"][-1]["content"])
    if "## Memory categories" in prompt:
        return json.dumps({"operations": []})
    return "# Session Summary\n\nThe user talked about tea."


async def test_commit_token_usage_and_last_commit_at(workspace: Path) -> None:
    with FakeOpenAIServer(_chat) as server:
        vlm = {
            "provider": "openai",
            "model": "fake-chat",
            "api_base": server.base_url,
            "api_key": "sk-test",
            "max_retries": 0,
        }
        async with AsyncOpenViking(config=_config(workspace, vlm=vlm)) as aov:
            svc, ctx = aov.service, aov.context
            await svc.add_message(ctx, "t", "user", content="I drink green tea every day.")
            await svc.add_message(ctx, "t", "assistant", content="Noted.")
            commit = await svc.commit_session(ctx, "t", wait=True, timeout=120)
            assert commit["task_status"] == "completed", commit
            detail = await svc.get_session(ctx, "t")
        calls = [body for path, body in server.requests if path.endswith("/chat/completions")]
    assert calls  # the summary and the extraction went to the model
    usage = detail["llm_token_usage"]
    assert usage["completion_tokens"] == COMPLETION_TOKENS * len(calls)
    assert usage["prompt_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert (usage["cached_tokens"], usage["reasoning_tokens"]) == (0, 0)
    assert detail["last_commit_at"].endswith("Z")
    assert detail["commit_count"] == 1
    assert detail["memories_extracted"] == {"total": 0}
