"""The paths that use a configured LLM, reranker or remote embedder, against a local fake
OpenAI-compatible server (no network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp import AsyncOpenViking, OpenVikingConfig
from tests.fakes import FakeOpenAIServer

pytestmark = pytest.mark.anyio


def _prompt(body: dict[str, Any]) -> str:
    return str(body["messages"][-1]["content"])


def _chat(body: dict[str, Any]) -> str:
    prompt = _prompt(body)
    if "standalone search queries" in prompt:
        return json.dumps({"queries": ["giraffe feeding schedule"]})
    if "## Contents" in prompt or "overview" in prompt.lower():
        return "# zoo\n\nLLM-WRITTEN overview of the zoo notes.\n\n## Contents\n- **notes.md**"
    return "LLM-WRITTEN summary of a zoo keeper's notes."


def _config(workspace: Path, server: FakeOpenAIServer, **sections: Any) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            **sections,
        }
    )


async def test_llm_writes_the_tiers(workspace: Path, tmp_path: Path) -> None:
    with FakeOpenAIServer(_chat) as server:
        vlm = {
            "provider": "openai",
            "model": "fake-chat",
            "api_base": server.base_url,
            "api_key": "sk-test",
            "max_retries": 0,
        }
        src = tmp_path / "zoo"
        src.mkdir()
        (src / "notes.md").write_text("# Notes\n\nGiraffes eat acacia leaves at 9am.")
        async with AsyncOpenViking(config=_config(workspace, server, vlm=vlm)) as aov:
            await aov.add_resource(str(src), wait=True)
            assert "LLM-WRITTEN overview" in await aov.overview("viking://resources/zoo")
            assert await aov.abstract("viking://resources/zoo") == (
                "LLM-WRITTEN overview of the zoo notes."
            )
        chats = server.paths("/chat/completions")
        assert chats
        assert all(b["model"] == "fake-chat" for b in chats)
        assert any("Giraffes eat acacia" in _prompt(b) for b in chats)


async def test_search_plans_queries_with_the_llm(workspace: Path) -> None:
    with FakeOpenAIServer(_chat) as server:
        vlm = {
            "provider": "openai",
            "model": "fake-chat",
            "api_base": server.base_url,
            "api_key": "sk-test",
            "max_retries": 0,
        }
        async with AsyncOpenViking(config=_config(workspace, server, vlm=vlm)) as aov:
            await aov.write(
                "viking://resources/feeding.md",
                "Giraffe feeding schedule: 9am and 4pm.",
                mode="create",
                wait=True,
            )
            messages = [{"role": "user", "content": "We were talking about the giraffes."}]
            await aov.service.store.content.write_bytes(
                "default/user/default/sessions/s1/messages.jsonl",
                "\n".join(json.dumps(m) for m in messages).encode(),
            )
            result = await aov.search("when do they eat?", session_id="s1")
            queries = [q["query"] for q in result["query_plan"]["queries"]]
            assert queries == ["when do they eat?", "giraffe feeding schedule"]
            assert result["resources"][0]["uri"] == "viking://resources/feeding.md"
            plan_prompt = _prompt(server.paths("/chat/completions")[-1])
            assert "We were talking about the giraffes." in plan_prompt


async def test_search_without_llm_expands_with_session_keywords(workspace: Path) -> None:
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
        }
    )
    async with AsyncOpenViking(config=config) as aov:
        await aov.write(
            "viking://resources/okapi.md",
            "Okapi enclosure cleaning rota.",
            mode="create",
            wait=True,
        )
        await aov.service.store.content.write_bytes(
            "default/user/default/sessions/s2/messages.jsonl",
            json.dumps({"role": "user", "content": "Tell me about the okapi enclosure"}).encode(),
        )
        result = await aov.search("cleaning rota", session_id="s2")
        assert "okapi" in result["query_plan"]["queries"][0]["query"]
        assert result["resources"][0]["uri"] == "viking://resources/okapi.md"


async def test_rerank_reorders_and_survives_failure(workspace: Path) -> None:
    with FakeOpenAIServer(_chat) as server:
        rerank = {
            "provider": "cohere",
            "model": "rerank-fake",
            "api_base": server.base_url.removesuffix("/v1"),
            "api_key": "k",
        }
        async with AsyncOpenViking(config=_config(workspace, server, rerank=rerank)) as aov:
            await aov.write("viking://resources/a.md", "lion pride hunting at dusk", mode="create")
            await aov.write(
                "viking://resources/b.md", "zebra herd migration routes", mode="create", wait=True
            )
            await aov.wait_processing(timeout=60)
            found = await aov.find("zebra migration")
            top = max(found["resources"], key=lambda h: h["score"])
            assert top["uri"] == "viking://resources/b.md"
            assert "rerank" in top["match_reason"]
            assert server.paths("/rerank"), "the reranker was never called"
    # The server is gone now: find still answers with hybrid scores.
    async with AsyncOpenViking(config=_config(workspace, server, rerank=rerank)) as aov:
        found = await aov.find("zebra migration")
        assert found["resources"][0]["uri"] == "viking://resources/b.md"
        assert "rerank" not in found["resources"][0]["match_reason"]
