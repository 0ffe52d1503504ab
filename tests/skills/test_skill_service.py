"""The skill service's typed API (``svc.skills``), its events and the pure stored-skill helpers."""

from __future__ import annotations

import pytest

from openviking_mcp import ContextService
from openviking_mcp.contract.privacy import UpsertPrivacyRequest
from openviking_mcp.contract.skills import (
    OPERATIONS,
    AddSkillRequest,
    AddSkillResult,
    GetSkillRequest,
    ReadSkillRequest,
    SkillRequest,
    SkillsRequest,
)
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.events import Removed, TextRead
from openviking_mcp.skills.stored import is_skill_md, skill_summary, split_skill_md

pytestmark = pytest.mark.anyio

SKILL_MD = "---\nname: greeter\ndescription: Say hello\ntags: [hi]\n---\n\n# Greeter\n\nHi.\n"


def test_is_skill_md_only_for_skill_definitions() -> None:
    assert is_skill_md(VikingURI("agent", ("skills", "x", "SKILL.md")))
    assert is_skill_md(VikingURI("user", ("ann", "skills", "x", "SKILL.md")))
    assert not is_skill_md(VikingURI("agent", ("skills", "x", "notes", "SKILL.md")))
    assert not is_skill_md(VikingURI("resources", ("x", "SKILL.md")))
    assert not is_skill_md(VikingURI("agent", ("skills", "x", "other.md")))


def test_split_and_summary_of_a_stored_skill_md() -> None:
    meta, body = split_skill_md(SKILL_MD)
    assert meta["name"] == "greeter"
    assert body.startswith("# Greeter")
    broken = "---\nname: [unclosed\n---\nbody"
    assert split_skill_md(broken) == ({}, broken)
    root = VikingURI("agent", ("skills",))
    summary = skill_summary({}, "## First line\nmore", "x", root.join("x"), root)
    assert summary["description"] == "First line"
    assert (summary["scope"], summary["tags"], summary["metadata"]) == ("agent", [], {})


async def test_every_operation_names_a_service_method(service: ContextService) -> None:
    for op in OPERATIONS:
        assert callable(getattr(getattr(service, op.feature), op.method)), op.name


async def test_typed_add_list_get_read_delete(service: ContextService) -> None:
    ctx = service.dev_context()
    removed: list[Removed] = []

    async def seen(event: Removed) -> None:
        removed.append(event)

    service.store.events.subscribe(Removed, seen)
    added = await service.skills.add(ctx, AddSkillRequest(data=SKILL_MD, wait=True))
    assert isinstance(added, AddSkillResult)
    assert (added.name, added.action) == ("greeter", "create")
    assert added.uri == added.root_uri == "viking://user/default/skills/greeter"
    assert added.skills_root == "viking://user/default/skills"
    assert added.queue_status is not None
    assert sorted(added.queue_status) == ["Embedding", "Semantic"]
    for counters in added.queue_status.values():
        assert (counters.processed, counters.error_count, counters.errors) == (1, 0, [])
    [summary] = await service.skills.list_skills(ctx, SkillsRequest())
    assert (summary.name, summary.scope, summary.tags) == ("greeter", "user", ["hi"])
    assert summary.skill_md_uri == "viking://user/default/skills/greeter/SKILL.md"
    page = await service.skills.list_page(ctx, SkillsRequest())
    assert page.root_uris == ["viking://user/default/skills", "viking://agent/skills"]
    assert (page.root_uri, page.skills, page.total) == (None, [summary], 1)
    one = await service.skills.list_page(ctx, SkillsRequest(target_uri="viking://agent/skills"))
    assert (one.root_uri, one.root_uris, one.total) == ("viking://agent/skills", None, 0)
    detail = await service.skills.get(ctx, GetSkillRequest(skill_name="greeter"))
    assert detail.content is not None
    assert detail.content.endswith("# Greeter\n\nHi.\n")
    assert detail.files is not None
    assert [f.kind for f in detail.files if f.kind != "summary"] == ["definition"]
    prompt = await service.skills.read(ctx, ReadSkillRequest(name="greeter"))
    assert prompt.body == "# Greeter\n\nHi."
    deleted = await service.skills.delete(ctx, SkillRequest(skill_name="greeter"))
    assert deleted.uri == deleted.root_uri == "viking://user/default/skills/greeter"
    assert deleted.skills_root == "viking://user/default/skills"
    assert [e.uri.uri for e in removed] == ["viking://user/default/skills/greeter"]


async def test_reads_of_skill_md_restore_the_readers_secrets(service: ContextService) -> None:
    ann = await service.local_context("acme", "ann")
    key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"
    text = f"---\nname: deploy\ndescription: Deploy\n---\n\nUse {key}.\n"
    await service.skills.add(ann, AddSkillRequest(data=text))
    stored = "Use {{ov_privacy:skill:deploy:secret_1}}."
    skill_md = VikingURI("agent", ("skills", "deploy", "SKILL.md"))
    restored = await service.store.events.filter(TextRead(ann, skill_md), stored)
    assert restored == f"Use {key}."
    elsewhere = VikingURI("resources", ("deploy", "SKILL.md"))
    assert await service.store.events.filter(TextRead(ann, elsewhere), stored) == stored
    # a privacy config may hold any JSON value: non-strings are put back as compact JSON
    json_values = {"secret_1": {"host": "db", "port": 5432}}
    await service.privacy.upsert(
        ann, UpsertPrivacyRequest(category="skill", target_key="deploy", values=json_values)
    )
    restored = await service.store.events.filter(TextRead(ann, skill_md), stored)
    assert restored == 'Use {"host":"db","port":5432}.'


async def test_ensure_bundled_returns_a_typed_report_once(service: ContextService) -> None:
    report = await service.skills.ensure_bundled()
    assert report is not None
    assert "use-openviking" in report.installed
    assert report.root_uri == "viking://agent/skills"
    assert await service.skills.ensure_bundled() is None
