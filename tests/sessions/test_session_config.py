"""A session's settings: the create answer's detail fields, and changing the auto-commit policy
and memory extraction config afterwards (stored, merged, cleared, validated, acted on)."""

from __future__ import annotations

from typing import Any

import pytest

from openviking_mcp import ContextService
from openviking_mcp.contract.errors import InvalidArgumentError, NotFoundError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.storage.queue import TaskHandle

pytestmark = pytest.mark.anyio

DEFAULT_POLICY = {
    "pending_token_threshold": 150_000,
    "message_count_threshold": 100,
    "idle_timeout_seconds": 86_400,
    "keep_recent_count": 0,
    "min_commit_interval_seconds": 0,
}


async def _phase2(task: TaskHandle) -> dict[str, Any]:
    return {"archive_uri": task.payload["archive_uri"]}


@pytest.fixture
def svc(service: ContextService) -> ContextService:
    service.store.tasks.register("session_commit", _phase2)
    return service


async def test_create_answers_the_detail_fields_of_get(
    svc: ContextService, ctx: RequestContext
) -> None:
    created = await svc.create_session(ctx, "s-fields")
    detail = await svc.get_session(ctx, "s-fields")
    assert set(created) == set(detail)
    assert created["llm_token_usage"] == detail["llm_token_usage"]
    assert created["last_commit_at"] == ""
    assert created["memories_extracted"] == {"total": 0}
    assert created["memory_extraction_config"] == {"events": {"tags": []}}


async def test_create_keeps_the_extraction_config(svc: ContextService, ctx: RequestContext) -> None:
    config = {"events": {"tags": ["team=a", " Project=Apollo ", "team=b"]}}
    created = await svc.create_session(ctx, "tagged", memory_extraction_config=config)
    expected = {"events": {"tags": ["team=b", "project=apollo"]}}  # a key keeps its place
    assert created["memory_extraction_config"] == expected
    assert (await svc.get_session(ctx, "tagged"))["memory_extraction_config"] == expected
    with pytest.raises(InvalidArgumentError):
        await svc.create_session(ctx, "bad", memory_extraction_config={"events": {"tags": ["x"]}})


async def test_policy_changes_merge_and_null_turns_it_off(
    svc: ContextService, ctx: RequestContext
) -> None:
    await svc.create_session(ctx, "c")
    on = await svc.update_session_config(ctx, "c", auto_commit_policy={"keep_recent_count": 2})
    assert on == {
        "session_id": "c",
        "auto_commit_policy": {**DEFAULT_POLICY, "keep_recent_count": 2},
        "memory_extraction_config": {"events": {"tags": []}},
    }
    merged = await svc.update_session_config(
        ctx, "c", auto_commit_policy={"message_count_threshold": 5}
    )
    policy = merged["auto_commit_policy"]
    assert (policy["keep_recent_count"], policy["message_count_threshold"]) == (2, 5)
    clamped = await svc.update_session_config(
        ctx, "c", auto_commit_policy={"message_count_threshold": 10**9}
    )
    assert clamped["auto_commit_policy"]["message_count_threshold"] == 1000

    tagged = await svc.update_session_config(
        ctx, "c", memory_extraction_config={"events": {"tags": ["k=v"]}}
    )
    assert tagged["auto_commit_policy"]["message_count_threshold"] == 1000  # untouched
    assert tagged["memory_extraction_config"] == {"events": {"tags": ["k=v"]}}

    off = await svc.update_session_config(ctx, "c", auto_commit_policy=None)
    assert off["auto_commit_policy"] is None
    assert off["memory_extraction_config"] == {"events": {"tags": ["k=v"]}}  # untouched
    detail = await svc.get_session(ctx, "c")
    assert detail["auto_commit_policy"] is None
    assert detail["memory_extraction_config"] == {"events": {"tags": ["k=v"]}}

    cleared = await svc.update_session_config(ctx, "c", memory_extraction_config=None)
    assert cleared["memory_extraction_config"] == {"events": {"tags": []}}
    unchanged = await svc.update_session_config(ctx, "c")
    assert unchanged == cleared


async def test_event_tags_absent_keep_empty_list_clears(
    svc: ContextService, ctx: RequestContext
) -> None:
    config = {"events": {"tags": ["a=1"]}}
    await svc.create_session(ctx, "t", memory_extraction_config=config)
    kept = await svc.update_session_config(ctx, "t", memory_extraction_config={"events": {}})
    assert kept["memory_extraction_config"] == config
    kept = await svc.update_session_config(ctx, "t", memory_extraction_config={})
    assert kept["memory_extraction_config"] == config
    emptied = await svc.update_session_config(
        ctx, "t", memory_extraction_config={"events": {"tags": []}}
    )
    assert emptied["memory_extraction_config"] == {"events": {"tags": []}}


async def test_a_policy_set_later_makes_the_session_commit_itself(
    svc: ContextService, ctx: RequestContext
) -> None:
    await svc.create_session(ctx, "late")
    first = await svc.add_message(ctx, "late", "user", "one")
    assert "auto_commit" not in first  # no policy yet
    await svc.update_session_config(ctx, "late", auto_commit_policy={"message_count_threshold": 1})
    second = await svc.add_message(ctx, "late", "assistant", "two")
    assert second["auto_commit"]["status"] == "accepted"
    assert second["auto_commit"]["reason"] == "message_count"

    await svc.update_session_config(ctx, "late", auto_commit_policy=None)
    for text in ("three", "four", "five"):
        reply = await svc.add_message(ctx, "late", "user", text)
        assert "auto_commit" not in reply  # turned off again


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"auto_commit_policy": {"bogus": 1}}, "auto_commit_policy"),
        ({"auto_commit_policy": {"keep_recent_count": "many"}}, "auto_commit_policy"),
        (
            {"auto_commit_policy": {"keep_recent_count": None}},
            "auto_commit_policy.keep_recent_count",
        ),
        ({"memory_extraction_config": {"people": {}}}, "memory_extraction_config"),
        ({"memory_extraction_config": {"events": []}}, "memory_extraction_config.events"),
        (
            {"memory_extraction_config": {"events": {"tags": "a=1"}}},
            "memory_extraction_config.events.tags",
        ),
        (
            {"memory_extraction_config": {"events": {"tags": ["a=b=c"]}}},
            "memory_extraction_config.events.tags",
        ),
    ],
)
async def test_bad_values_name_the_field(
    svc: ContextService, ctx: RequestContext, changes: dict[str, Any], field: str
) -> None:
    await svc.create_session(ctx, "v", auto_commit_policy={"keep_recent_count": 3})
    with pytest.raises(InvalidArgumentError) as caught:
        await svc.update_session_config(ctx, "v", **changes)
    assert caught.value.details["field"] == field
    # nothing changed
    assert (await svc.get_session(ctx, "v"))["auto_commit_policy"]["keep_recent_count"] == 3


async def test_a_missing_session_is_not_found(svc: ContextService, ctx: RequestContext) -> None:
    with pytest.raises(NotFoundError):
        await svc.update_session_config(ctx, "nope", auto_commit_policy=None)
