"""The event log on both backends: events from real actions, visibility, the polling list."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp import ContextService
from openviking_mcp.contract.errors import InvalidArgumentError, OpenVikingError
from openviking_mcp.contract.identity import RequestContext

pytestmark = [pytest.mark.anyio, pytest.mark.both_backends]

SKILL = "---\nname: brew\ndescription: Brew tea.\n---\n# Brew\n\nBoil water, steep tea.\n"


async def _accounts(service: ContextService) -> tuple[RequestContext, RequestContext]:
    root = RequestContext.root()
    made = await service.create_account(root, "acme", "ann")
    ann = await service.auth.resolve_api_key(made["user_key"])
    ben_key = (await service.create_user(ann, "acme", "ben"))["user_key"]
    ben = await service.auth.resolve_api_key(ben_key)
    return ann, ben


async def _types(service: ContextService, ctx: RequestContext) -> list[tuple[str, dict[str, Any]]]:
    page = await service.list_events(ctx, after=0, limit=1000)
    return [(e["type"], e) for e in page["events"]]


async def test_each_action_records_its_event(service: ContextService) -> None:
    ann, ben = await _accounts(service)
    await service.write(ben, "viking://user/ben/memories/tea.md", "Likes green tea.")
    await service.write(ben, "viking://user/ben/memories/tea.md", "Likes black tea.")
    await service.rm(ben, "viking://user/ben/memories/tea.md")
    await service.add_skill(ann, SKILL)
    await service.delete_skill(ann, "brew")
    made = await service.create_my_api_key(ben, name="ci", scopes=["read"])
    await service.revoke_my_api_key(ben, made["key_id"])
    events = await _types(service, ann)
    memory = [e["payload"]["change"] for t, e in events if t == "memory.changed"]
    assert memory == ["added", "updated", "deleted"]
    skills = [(e["payload"]["change"], e["uris"]) for t, e in events if t == "skill.changed"]
    assert [c for c, _ in skills] == ["added", "deleted"]
    assert skills[0][1] == ["viking://user/ann/skills/brew"]
    revoked = [e for t, e in events if t == "key.revoked"]
    assert revoked[0]["payload"] == {"key_id": made["key_id"], "kind": "named"}
    assert revoked[0]["user_id"] == "ben"
    ids = [e["id"] for _, e in events]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


async def test_import_and_failed_import(service: ContextService, tmp_path: Path) -> None:
    ann, _ = await _accounts(service)
    doc = tmp_path / "guide.md"
    doc.write_text("# Guide\n\nHow to brew tea.\n")
    result = await service.add_resource(
        ann, str(doc), to="viking://resources/guide", wait=True, allow_local_paths=True
    )
    assert result["root_uri"] == "viking://resources/guide"
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(OpenVikingError):
        await service.add_resource(
            ann, str(bad), to="viking://resources/broken", wait=True, allow_local_paths=True
        )
    events = await _types(service, ann)
    indexed = [e for t, e in events if t == "resource.indexed"]
    assert len(indexed) == 1
    assert indexed[0]["uris"] == ["viking://resources/guide"]
    assert indexed[0]["payload"]["files"] >= 1
    failed = [e for t, e in events if t == "task.failed"]
    assert failed
    assert failed[0]["payload"]["task_type"] == "add_resource"


async def test_users_see_only_their_own_and_readable_events(service: ContextService) -> None:
    ann, ben = await _accounts(service)
    await service.write(ann, "viking://user/ann/memories/a.md", "ann's memory")
    await service.write(ben, "viking://user/ben/memories/b.md", "ben's memory")
    await service.add_skill(ann, SKILL)
    ben_sees = await _types(service, ben)
    uris = [u for _, e in ben_sees for u in e["uris"]]
    assert "viking://user/ben/memories/b.md" in uris
    assert "viking://user/ann/memories/a.md" not in uris
    assert "viking://user/ann/skills/brew" not in uris  # ann's private skill
    assert len(await _types(service, ann)) == 3  # ADMIN: the account
    only = await service.list_events(ann, after=0, types="skill.changed")
    assert [e["type"] for e in only["events"]] == ["skill.changed"]
    with pytest.raises(InvalidArgumentError):
        await service.list_events(ben, after=0, types="nope")
    page = await service.list_events(ann, after=0, limit=1)
    later = await service.list_events(ann, after=page["next_after"], limit=100)
    assert next(e["id"] for e in later["events"]) > page["events"][0]["id"]


async def test_retention_prunes_old_events(service: ContextService) -> None:
    ann, _ = await _accounts(service)
    await service.write(ann, "viking://user/ann/memories/a.md", "x")
    assert await service.store.event_log.prune(now=time.time() + 30 * 86400) == 1
    assert (await service.list_events(ann, after=0))["events"] == []
