"""Commit phase 2 end to end: archive → summary → extraction → dedup/merge → index → diff."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp import AsyncOpenViking, ContextService, OpenVikingConfig
from openviking_mcp.storage.index import IndexFilter
from tests.fakes import FakeOpenAIServer

pytestmark = pytest.mark.anyio

MEM = "viking://user/default/memories"


def _config(workspace: Path, **sections: Any) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            **sections,
        }
    )


def _vlm(server: FakeOpenAIServer) -> dict[str, Any]:
    return {
        "provider": "openai",
        "model": "fake-chat",
        "api_base": server.base_url,
        "api_key": "sk-test",
        "max_retries": 0,
    }


async def _talk(aov: AsyncOpenViking, sid: str, *lines: str) -> None:
    for i, line in enumerate(lines):
        await aov.service.add_message(
            aov.context, sid, "user" if i % 2 == 0 else "assistant", content=line
        )


async def _memory_files(service: ContextService, ctx: Any) -> list[str]:
    found = await service.glob(ctx, "**/*.md", uri=MEM, node_limit=1000)
    return sorted(found["matches"])


async def test_lifecycle_without_llm(workspace: Path) -> None:
    async with AsyncOpenViking(config=_config(workspace)) as aov:
        svc, ctx = aov.service, aov.context
        await svc.create_session(ctx, "s1")
        await _talk(
            aov,
            "s1",
            "I prefer dark roast coffee in the morning.",
            "Noted.",
            "My name is Dana Whitfield.",
            "Nice to meet you, Dana.",
            "Remember that the billing service runs on Kubernetes.",
            "Got it.",
        )
        commit = await svc.commit_session(ctx, "s1", wait=True, timeout=120)
        assert commit["status"] == "accepted"
        assert commit["task_status"] == "completed", commit
        result = commit["result"]
        assert result["extractor"] == "rules"
        assert result["memories_extracted"]["total"] >= 3
        archive = commit["archive_uri"]
        diff = json.loads(await svc.read(ctx, f"{archive}/memory_diff.json"))
        assert diff["summary"]["total_adds"] >= 3
        archive_key = svc.store.key(ctx, svc.store.resolve(ctx, archive))
        assert await svc.store.content.exists(f"{archive_key}/.done")
        assert "Session Summary" in await svc.overview(ctx, archive)

        files = await _memory_files(svc, ctx)
        prefs = [f for f in files if "/preferences/" in f]
        assert prefs, files
        public = await svc.read(ctx, prefs[0])
        raw = await svc.read(ctx, prefs[0], raw=True)
        assert "MEMORY_FIELDS" not in public
        assert "dark roast" in public
        assert "MEMORY_FIELDS" in raw
        assert '"version": 1' in raw

        found = await svc.find(ctx, "what coffee does the user like", context_type="memory")
        assert any("/preferences/" in hit["uri"] for hit in found["memories"]), found
        assert all("MEMORY_FIELDS" not in hit["abstract"] for hit in found["memories"])

        # a second conversation restating the preference updates, it does not duplicate
        await svc.create_session(ctx, "s2")
        await _talk(aov, "s2", "I prefer dark roast coffee in the morning, always.")
        second = await svc.commit_session(ctx, "s2", wait=True, timeout=120)
        assert second["task_status"] == "completed", second
        after = await _memory_files(svc, ctx)
        assert [f for f in after if "/preferences/" in f] == prefs
        dedup = second["result"]["dedup"]
        assert dedup["same_key"] + dedup["near_duplicate"] + dedup["unchanged"] >= 1
        session_meta = await svc.get_session(ctx, "s2")
        assert session_meta["session_id"] == "s2"


def _llm_chat(script: dict[str, Any]) -> Any:
    """Summaries are plain text; extraction prompts get the scripted JSON (or garbage)."""

    def chat(body: dict[str, Any]) -> str:
        prompt = str(body["messages"][-1]["content"])
        if "## Memory categories" in prompt:
            script["extraction_prompts"].append(prompt)
            return str(script["reply"])
        return "# Session Summary\n\nThe user talked about their editor."

    return chat


async def test_llm_extraction_update_and_failure_then_retry(workspace: Path) -> None:
    script: dict[str, Any] = {"extraction_prompts": []}
    add = {
        "operations": [
            {
                "op": "add",
                "memory_type": "preferences",
                "fields": {"topic": "editor", "content": "User prefers Neovim."},
                "reason": "stated",
            }
        ]
    }
    script["reply"] = json.dumps(add)
    with FakeOpenAIServer(_llm_chat(script)) as server:
        async with AsyncOpenViking(config=_config(workspace, vlm=_vlm(server))) as aov:
            svc, ctx = aov.service, aov.context
            await _talk(aov, "a", "I use Neovim for everything.", "Great choice.")
            first = await svc.commit_session(ctx, "a", wait=True, timeout=120)
            assert first["task_status"] == "completed", first
            assert first["result"]["extractor"] == "llm"
            uri = f"{MEM}/preferences/editor.md"
            assert "Neovim" in await svc.read(ctx, uri)

            # the next extraction sees the existing memory and patches it
            script["reply"] = json.dumps(
                {
                    "operations": [
                        {
                            "op": "update",
                            "memory_type": "preferences",
                            "uri": uri,
                            "fields": {
                                "topic": "editor",
                                "content": [{"search": "Neovim", "replace": "Neovim with LazyVim"}],
                            },
                        }
                    ]
                }
            )
            await _talk(aov, "a", "These days I run LazyVim on top of Neovim.")
            second = await svc.commit_session(ctx, "a", wait=True, timeout=120)
            assert second["task_status"] == "completed", second
            assert uri in script["extraction_prompts"][-1]  # existing memories were shown
            assert "Neovim with LazyVim" in await svc.read(ctx, uri)
            assert '"version": 2' in await svc.read(ctx, uri, raw=True)

            # malformed model output: a failed task with a clear error, not a crash
            script["reply"] = "this is not json"
            await _talk(aov, "a", "I also like tabs over spaces.")
            failed = await svc.commit_session(ctx, "a", wait=True, timeout=120)
            assert failed["task_status"] == "failed"
            archive_key = svc.store.key(ctx, svc.store.resolve(ctx, failed["archive_uri"]))
            failure = json.loads(await svc.store.content.read_bytes(f"{archive_key}/.failed.json"))
            assert failure["stage"] == "extracting"
            assert "not valid JSON" in failure["error"]

            # a later commit of the same session is not blocked by the failed archive
            script["reply"] = json.dumps({"operations": []})
            await _talk(aov, "a", "One more thing.")
            later = await svc.commit_session(ctx, "a", wait=True, timeout=120)
            assert later["task_status"] == "completed", later

            # and the failed archive can be retried once the model behaves
            script["reply"] = json.dumps(
                {
                    "operations": [
                        {
                            "op": "add",
                            "memory_type": "preferences",
                            "fields": {"topic": "indentation", "content": "User prefers tabs."},
                        }
                    ]
                }
            )
            number = int(failed["archive_uri"].rsplit("_", 1)[-1])
            retried = await svc.retry_archive(ctx, "a", number)
            record = await svc.store.tasks.wait(retried["task_id"], 120)
            assert record.status == "completed"
            assert "tabs" in await svc.read(ctx, f"{MEM}/preferences/indentation.md")
            assert not await svc.store.content.exists(f"{archive_key}/.failed.json")
            assert await svc.store.content.exists(f"{archive_key}/.done")


@pytest.mark.slow
def test_kill_between_phases_resumes_after_restart(workspace: Path, tmp_path: Path) -> None:
    """Phase 1 commits, the process dies with SIGKILL; the next start finishes phase 2."""
    script = textwrap.dedent(
        f"""
        import asyncio, os, signal
        from openviking_mcp import AsyncOpenViking, OpenVikingConfig

        async def main():
            config = OpenVikingConfig.from_dict({{
                "storage": {{"workspace": {str(workspace)!r}}},
                "embedding": {{"dense": {{"provider": "hashing", "dimension": 256}}}},
            }})
            async with AsyncOpenViking(config=config) as aov:
                svc, ctx = aov.service, aov.context
                await svc.add_message(ctx, "k", "user", content="I prefer green tea.")
                result = await svc.commit_session(ctx, "k")
                print(result["archive_uri"], flush=True)
                os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENVIKING")}
    env["HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == -9, done.stderr
    archive = done.stdout.strip().splitlines()[-1]

    import asyncio

    async def resume() -> None:
        async with AsyncOpenViking(config=_config(workspace)) as aov:
            svc, ctx = aov.service, aov.context
            key = svc.store.key(ctx, svc.store.resolve(ctx, archive))
            for _ in range(600):
                if await svc.store.content.exists(f"{key}/.done"):
                    break
                await asyncio.sleep(0.1)
            assert await svc.store.content.exists(f"{key}/.done")
            prefs = [f for f in await _memory_files(svc, ctx) if "/preferences/" in f]
            assert prefs
            assert "green tea" in (await svc.read(ctx, prefs[0])).lower()

    asyncio.run(resume())


async def test_used_contexts_raise_active_count(workspace: Path) -> None:
    async with AsyncOpenViking(config=_config(workspace)) as aov:
        svc, ctx = aov.service, aov.context
        doc = "viking://resources/guide.md"
        await svc.write(ctx, doc, "How to deploy the billing service.", mode="create", wait=True)
        await svc.add_message(ctx, "u", "user", content="How do I deploy billing?")
        await svc.record_used(ctx, "u", contexts=[doc])
        commit = await svc.commit_session(ctx, "u", wait=True, timeout=120)
        assert commit["task_status"] == "completed", commit
        assert commit["result"]["active_count_updated"] >= 1
        rows, _ = await svc.store.index.scroll(
            IndexFilter(account_id=ctx.account_id, uri_prefixes=(doc,)), 10, None
        )
        assert rows
        assert all(row.active_count == 1 for row in rows)


async def test_a_failing_model_call_is_retried(workspace: Path) -> None:
    calls = {"extraction": 0}

    def chat(body: dict[str, Any]) -> str:
        prompt = str(body["messages"][-1]["content"])
        if "## Memory categories" not in prompt:
            return "# Session Summary\n\nShort."
        calls["extraction"] += 1
        if calls["extraction"] == 1:
            raise KeyError("first call fails")  # the fake server answers 404
        op = {"op": "add", "memory_type": "preferences"}
        op["fields"] = {"topic": "tea", "content": "User prefers oolong tea."}
        return json.dumps({"operations": [op]})

    with FakeOpenAIServer(chat) as server:
        async with AsyncOpenViking(config=_config(workspace, vlm=_vlm(server))) as aov:
            svc, ctx = aov.service, aov.context
            await svc.add_message(ctx, "r", "user", content="Oolong is my favourite tea.")
            commit = await svc.commit_session(ctx, "r", wait=True, timeout=120)
            assert commit["task_status"] == "completed", commit
            record = await svc.store.tasks.wait(commit["task_id"], 1)
            assert record.attempts == 2
            assert calls["extraction"] == 2
            assert "oolong" in await svc.read(ctx, f"{MEM}/preferences/tea.md")
