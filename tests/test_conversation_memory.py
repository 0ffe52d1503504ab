"""Conversation memory: archived turns are indexed per turn, private to their user, and a
commit leaves one summary event that committing the same conversation again does not repeat."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp import ContextService, OpenVikingConfig, RequestContext
from openviking_mcp.contract.errors import NotFoundError, PermissionDeniedError
from openviking_mcp.memory.conversation import conversation_turns
from openviking_mcp.memory.dedup import same_event
from openviking_mcp.memory.memory_file import parse_memory
from openviking_mcp.sessions.layout import parse_messages
from tests.conftest import hashing_config
from tests.fakes import FakeOpenAIServer

pytestmark = [pytest.mark.anyio, pytest.mark.both_backends]

TALK = [
    ("assistant", "Bob", "Hi Ann! How was your weekend?"),
    ("user", "Ann", "Great, I adopted a golden retriever puppy named Biscuit on Saturday."),
    ("assistant", "Bob", "Wow, congratulations! What colour is his collar?"),
    ("user", "Ann", "Bright red, and he already chews every shoe in the flat."),
]


@pytest.fixture
def config(workspace: Path, storage_section: dict[str, Any]) -> OpenVikingConfig:
    return hashing_config(workspace, storage_section)


async def _commit(svc: ContextService, ctx: RequestContext, sid: str) -> dict[str, Any]:
    await svc.create_session(ctx, sid)
    messages = [
        {
            "role": role,
            "content": text,
            "peer_id": who,
            "turn_id": f"D1:{i + 1}",
            "created_at": "2023-05-08T13:56:00Z",
        }
        for i, (role, who, text) in enumerate(TALK)
    ]
    await svc.add_messages(ctx, sid, messages)
    commit = await svc.commit_session(ctx, sid, wait=True, timeout=120)
    assert commit["task_status"] == "completed", commit
    return dict(commit)


def _turn_uri(user: str, sid: str, position: int) -> str:
    return f"viking://user/{user}/memories/conversations/{sid}/archive_001-{position:04d}.md"


async def test_a_paraphrased_question_finds_the_turn(service: ContextService) -> None:
    ctx = await service.local_context()
    commit = await _commit(service, ctx, "chat1")
    puppy = _turn_uri(ctx.user_id, "chat1", 2)

    found = await service.find(ctx, "which dog did Ann get", target_uri="viking://~/memories")
    uris = [h["uri"] for h in found["memories"]]
    assert puppy in uris[:3], uris
    hit = found["memories"][uris.index(puppy)]
    assert "Ann said on 2023-05-08 (Monday) 13:56" in hit["abstract"]

    searched = await service.search(ctx, "what puppy was adopted", session_id="chat1")
    assert puppy in [h["uri"] for h in searched["memories"]][:3]

    fields = parse_memory(str(await service.read(ctx, puppy, raw=True))).fields
    assert fields["turn_id"] == "D1:2"
    assert fields["session_id"] == "chat1"
    assert fields["speaker"] == "Ann"
    assert fields["date"] == "2023-05-08"
    assert fields["archive_uri"] == f"{commit['archive_uri']}/messages.jsonl"
    # the answer keeps what it answers: the previous turn as context
    collar = str(await service.read(ctx, _turn_uri(ctx.user_id, "chat1", 4)))
    assert "Bright red" in collar
    assert "(In reply to Bob: Wow, congratulations!" in collar
    # turns are an index of the transcript, not memories to count
    stats = await service.memory_stats(ctx)
    assert "conversation" not in stats["by_category"]


async def test_another_user_never_sees_the_turns(service: ContextService) -> None:
    await service.local_context("acme", "admin")  # the account's first user is its ADMIN
    ann = await service.local_context("acme", "ann")
    ben = await service.local_context("acme", "ben")
    await _commit(service, ann, "chat1")
    puppy = _turn_uri("ann", "chat1", 2)

    mine = await service.find(ann, "golden retriever puppy", target_uri="viking://~/memories")
    assert puppy in [h["uri"] for h in mine["memories"]]

    for target in (None, "viking://user", "viking://~/memories"):
        found = await service.find(ben, "golden retriever puppy", target_uri=target)
        everything = [
            h["uri"] for bucket in ("memories", "resources", "skills") for h in found[bucket]
        ]
        assert not [u for u in everything if "/user/ann/" in u], (target, everything)
    searched = await service.search(ben, "golden retriever puppy")
    assert not [h for h in searched["memories"] if "/user/ann/" in h["uri"]]
    with pytest.raises(PermissionDeniedError):
        await service.find(ben, "puppy", target_uri="viking://user/ann/memories")
    with pytest.raises(PermissionDeniedError):
        await service.read(ben, puppy)


async def _events(service: ContextService, ctx: RequestContext) -> list[dict[str, Any]]:
    found = await service.glob(ctx, "**/*.md", uri="viking://~/memories/events", node_limit=500)
    out = []
    for uri in found["matches"]:
        fields = parse_memory(str(await service.read(ctx, uri, raw=True))).fields
        out.append({"uri": uri, **fields})
    return out


async def test_one_summary_event_and_no_repeats(service: ContextService) -> None:
    ctx = await service.local_context()
    await _commit(service, ctx, "chat1")
    events = await _events(service, ctx)
    summaries = [e for e in events if "session-summary" in e.get("tags", [])]
    assert len(summaries) == 1, events

    again = await _commit(service, ctx, "chat2")  # the same messages in a new session
    assert await _events(service, ctx) == events
    assert again["result"]["dedup"]["skipped_duplicate"] >= 1
    # the new session's turns are still indexed under its own id
    assert await service.read(ctx, _turn_uri(ctx.user_id, "chat2", 2))


def _chat(body: dict[str, Any]) -> str:
    prompt = str(body["messages"][-1]["content"])
    if "## Memory categories" in prompt:
        fields = {"topic": "dogs", "content": "Ann loves her golden retriever."}
        op = {"op": "add", "memory_type": "preferences", "fields": fields}
        return json.dumps({"operations": [op]})
    return "# Summary\n\nA chat about a new puppy."


async def test_llm_extraction_indexes_the_turns_too(tmp_path: Path) -> None:
    with FakeOpenAIServer(_chat) as server:
        vlm = {"provider": "openai", "model": "fake-chat", "api_base": server.base_url}
        config = OpenVikingConfig.from_dict(
            {
                "storage": {"workspace": str(tmp_path / "data")},
                "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
                "vlm": {**vlm, "api_key": "sk-test", "max_retries": 0},
            }
        )
        svc = ContextService(config)
        await svc.initialize()
        try:
            ctx = await svc.local_context()
            commit = await _commit(svc, ctx, "chat1")
            found = await svc.find(ctx, "golden retriever puppy", target_uri="viking://~/memories")
        finally:
            await svc.close()
        prompts = [str(b["messages"][-1]["content"]) for b in server.paths("/chat/completions")]
    assert commit["result"]["extractor"] == "llm"
    assert _turn_uri(ctx.user_id, "chat1", 2) in [h["uri"] for h in found["memories"]]
    # a turn is its own summary: no model call describes a single turn file
    described = [p.split("\n")[4] for p in prompts if "description of one file" in p]
    assert described, prompts  # memory files are described by the model
    assert not [d for d in described if "archive_001-" in d], described


def test_a_date_in_message_metadata_wins() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    messages: list[dict[str, Any]] = [
        {
            "role": "user",
            "parts": [
                {"type": "text", "text": "We moved house.", "metadata": {"date": "2023-07-09"}}
            ],
            "created_at": "2026-01-01T10:00:00Z",
        },
        {"role": "tool", "content": "ignored"},
        {"role": "assistant", "content": "Congrats!", "metadata": {"date_time": "9 July, 2023"}},
    ]
    turns = conversation_turns(
        "s", "archive_001", "viking://user/u/sessions/s/history/a", messages, now
    )
    assert [t.relpath.rsplit("/", 1)[1] for t in turns] == [
        "archive_001-0001.md",
        "archive_001-0003.md",
    ]
    assert turns[0].fields["date"] == "2023-07-09"
    assert turns[0].body.startswith("user said on 2023-07-09 (Sunday) 00:00:")
    assert turns[1].body.startswith("assistant said on 9 July, 2023:")
    assert turns[1].fields["date"] == "2026-01-01"  # unreadable: the message time for the field


def test_same_event_ignores_numbers_only_when_asked() -> None:
    first = 'Session s1: 2 user message(s), from 2026-01-01 10:00 to 10:05 UTC. First request: "hi"'
    second = (
        'Session s2: 2 user message(s), from 2026-01-01 11:00 to 11:09 UTC. First request: "hi"'
    )
    assert same_event(first, second, ignore_numbers=True)
    assert not same_event(first, second)
    assert not same_event("Ann adopted a puppy.", "Ann sold her car.", ignore_numbers=True)


async def test_indexing_an_archive_again_rewrites_nothing(service: ContextService) -> None:
    ctx = await service.local_context()
    commit = await _commit(service, ctx, "chat1")
    puppy = _turn_uri(ctx.user_id, "chat1", 2)
    before = await service.read(ctx, puppy, raw=True)
    archive = service.store.resolve(ctx, commit["archive_uri"])
    messages = parse_messages(await service.read(ctx, f"{archive.uri}/messages.jsonl"))
    await asyncio.sleep(1.1)  # a rewrite would carry a later created_at (second resolution)
    uris = await service.memory.index_conversation(ctx, "chat1", archive, messages)
    assert uris == [_turn_uri(ctx.user_id, "chat1", n) for n in range(1, len(TALK) + 1)]
    assert await service.read(ctx, puppy, raw=True) == before  # same created_at: not rewritten


async def test_deleting_the_session_removes_its_turns(service: ContextService) -> None:
    """The turns are copies of what was said: they go with the session, and find stops
    returning them; memories extracted from it stay."""
    ctx = await service.local_context()
    await _commit(service, ctx, "chat1")
    puppy = _turn_uri(ctx.user_id, "chat1", 2)
    before = await service.find(ctx, "which dog did Ann get", target_uri="viking://~/memories")
    assert puppy in [h["uri"] for h in before["memories"]]
    others = await service.memory_stats(ctx)

    await service.delete_session(ctx, "chat1")

    await service.wait_processing(ctx, timeout=30)
    after = await service.find(ctx, "which dog did Ann get", target_uri="viking://~/memories")
    assert not [h for h in after["memories"] if "/conversations/chat1" in h["uri"]], after
    folder = await service.abstract(ctx, "viking://~/memories/conversations")
    assert "chat1" not in str(folder)
    with pytest.raises(NotFoundError):
        await service.read(ctx, puppy)
    assert await service.memory_stats(ctx) == others


async def test_context_mode_brings_the_turn_under_its_own_category(
    service: ContextService,
) -> None:
    """An agent's recall (``search`` in context mode, chat purpose) injects what was said."""
    ctx = await service.local_context()
    await _commit(service, ctx, "chat1")
    await service.create_session(ctx, "chat2")
    await service.add_message(ctx, "chat2", "user", content="Remind me about my dog")
    found = await service.search(
        ctx, "which dog did Ann adopt", session_id="chat2", mode="context", purpose="chat"
    )
    turns = [e for e in found["entries"] if e["category"] == "conversations"]
    assert _turn_uri(ctx.user_id, "chat1", 2) in [e["uri"] for e in turns], found["entries"]
    assert found["stats"]["quotas"]["conversations"] == 3
    assert "golden retriever" in found["rendered"]
