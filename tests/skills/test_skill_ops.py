"""Skills: find (one hit per skill), validate (what an add would do), update (a clean replace
of an existing skill), get's tiers, files and integrity, and list's ``node_limit``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from openviking_mcp import ContextService
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotFoundError,
    ResourceExhaustedError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.skills import detail

pytestmark = pytest.mark.anyio

KETTLE = {"name": "kettle", "description": "Boil water in a kettle", "content": "Fill, switch on."}
GARDEN = "---\nname: gardener\ndescription: Water the plants in the garden\n---\nUse a hose.\n"
TOOL = {
    "name": "search_web",
    "description": "Search the web",
    "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}}},
}


async def _two_skills(service: ContextService, ctx: RequestContext) -> None:
    await service.add_skill(ctx, KETTLE, target_uri="viking://agent/skills", wait=True)
    await service.add_skill(ctx, GARDEN, wait=True)  # no target: the caller's own root


# -- find ------------------------------------------------------------------------------------


async def test_find_merges_both_roots_one_hit_per_skill(service: ContextService) -> None:
    ctx = service.dev_context()
    await _two_skills(service, ctx)
    found = await service.find_skills(ctx, "boil water in a kettle")
    assert found["root_uris"] == ["viking://user/default/skills", "viking://agent/skills"]
    assert "root_uri" not in found
    names = [hit["name"] for hit in found["skills"]]
    assert names[0] == "kettle"
    assert len(names) == len(set(names)) == found["total"]
    hit = found["skills"][0]
    assert hit["uri"].startswith("viking://agent/skills/kettle")
    assert hit["skill_md_uri"] == "viking://agent/skills/kettle/SKILL.md"
    assert (hit["type"], hit["scope"], hit["description"]) == (
        "skill",
        "agent",
        KETTLE["description"],
    )
    assert hit["level"] in (0, 1, 2)
    scores = [h["score"] for h in found["skills"]]
    assert scores == sorted(scores, reverse=True)


async def test_find_in_one_root_with_limit_and_threshold(service: ContextService) -> None:
    ctx = service.dev_context()
    await _two_skills(service, ctx)
    mine = await service.find_skills(ctx, "water", target_uri="viking://~/skills")
    assert mine["root_uri"] == "viking://user/default/skills"
    assert "root_uris" not in mine
    assert [h["name"] for h in mine["skills"]] == ["gardener"]
    assert (await service.find_skills(ctx, "water", limit=1))["total"] == 1
    assert (await service.find_skills(ctx, "water", score_threshold=0.999))["skills"] == []
    with pytest.raises(InvalidArgumentError):
        await service.find_skills(ctx, "water", target_uri="viking://resources")


async def test_find_hides_other_users_skills(service: ContextService) -> None:
    ann = RequestContext(account_id="default", user_id="ann")
    ben = RequestContext(account_id="default", user_id="ben")
    for user in (ann, ben):
        await service.store.accounts.ensure_user("default", user.user_id)
    await service.add_skill(ann, GARDEN, target_uri="viking://~/skills", wait=True)
    assert [h["name"] for h in (await service.find_skills(ann, "garden"))["skills"]] == ["gardener"]
    assert (await service.find_skills(ben, "garden"))["skills"] == []


async def test_a_stale_hit_without_skill_md_is_dropped(service: ContextService) -> None:
    ctx = service.dev_context()
    await service.add_skill(ctx, KETTLE, wait=True)
    key = service.store.key(ctx, service.store.resolve(ctx, "viking://~/skills/kettle"))
    await service.store.content.remove(f"{key}/SKILL.md")
    assert (await service.find_skills(ctx, "kettle"))["skills"] == []


# -- validate --------------------------------------------------------------------------------


async def test_validate_reports_what_add_would_store(service: ContextService) -> None:
    ctx = service.dev_context()
    text = "---\nname: v\ndescription: d\ntags: web\nallowed-tools: Read Write\n---\nline\nline"
    report = await service.validate_skill(ctx, text, source_path="x/SKILL.md")
    assert report == {
        "valid": True,
        "strict": False,
        "name": "v",
        "description": "d",
        "tags": ["web"],
        "allowed_tools": ["Read", "Write"],
        "body_lines": 2,
        "source_path": "x/SKILL.md",
        "skill_dir_name": "",
        "errors": [],
        "warnings": [],
    }
    converted = await service.validate_skill(ctx, TOOL)
    assert (converted["valid"], converted["name"]) == (True, "search-web")
    assert await service.list_skills(ctx) == []  # nothing stored


@pytest.mark.parametrize(
    ("data", "rule", "field"),
    [
        ("no front matter", "yaml_format", "data"),
        ("---\nname: [oops\n---\n", "yaml_format", "data"),
        ("---\ndescription: d\n---\n", "name_required", "name"),
        ("---\nname: x\n---\n", "description_required", "description"),
        ({"name": "bad name", "description": "d"}, "name_allowed_characters", "name"),
        ({"name": "n" * 65, "description": "d"}, "name_max_length", "name"),
        ({"name": "t", "tags": 5}, "tags_format", "tags"),
    ],
)
async def test_what_add_refuses_is_an_error_in_both_modes(
    service: ContextService, data: object, rule: str, field: str
) -> None:
    ctx = service.dev_context()
    for strict in (False, True):
        report = await service.validate_skill(ctx, data, strict=strict)
        assert report["valid"] is False
        assert [(e["rule"], e["field"]) for e in report["errors"]] == [(rule, field)]
        assert "name" not in report
        with pytest.raises(InvalidArgumentError):
            await service.add_skill(ctx, data)


async def test_format_rules_are_warnings_unless_strict(service: ContextService) -> None:
    ctx = service.dev_context()
    data = {"name": "kettle", "description": "d" * 1025}
    loose = await service.validate_skill(ctx, data, skill_dir_name="pot")
    assert loose["valid"] is True
    assert [w["rule"] for w in loose["warnings"]] == [
        "name_matches_directory",
        "description_max_length",
    ]
    strict = await service.validate_skill(ctx, data, strict=True, skill_dir_name="pot")
    assert strict["valid"] is False
    assert [e["rule"] for e in strict["errors"]] == [w["rule"] for w in loose["warnings"]]
    bare = await service.validate_skill(ctx, {"name": "bare"})
    assert [w["rule"] for w in bare["warnings"]] == ["description_required"]
    long_body = {"name": "long", "description": "d", "content": "x\n" * 501}
    assert (await service.validate_skill(ctx, long_body))["warnings"] == []
    strict_long = await service.validate_skill(ctx, long_body, strict=True)
    assert (strict_long["valid"], strict_long["warnings"][0]["rule"]) == (True, "body_max_lines")


async def test_validate_warns_about_secrets(service: ContextService) -> None:
    key = "sk-" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6"
    data = {"name": "deploy", "description": "d", "content": f"export OPENAI_API_KEY={key}"}
    report = await service.validate_skill(service.dev_context(), data)
    assert [w["rule"] for w in report["warnings"]] == ["secrets_redacted"]
    assert key not in json.dumps(report)


async def test_validate_refuses_paths_like_an_http_add(service: ContextService) -> None:
    report = await service.validate_skill(service.dev_context(), "./skills/x/SKILL.md")
    assert report["valid"] is False
    assert report["errors"][0]["rule"] == "yaml_format"


# -- update ----------------------------------------------------------------------------------


async def test_update_replaces_cleanly_in_the_skills_own_root(
    service: ContextService, tmp_path: Path
) -> None:
    ctx = service.dev_context()
    folder = tmp_path / "gardener"
    folder.mkdir()
    (folder / "SKILL.md").write_text(GARDEN)
    (folder / "old.txt").write_text("v1 only")
    await service.add_skill(ctx, str(folder), target_uri="viking://~/skills", wait=True)
    new = GARDEN.replace("Use a hose.", "Use a can.")
    result = await service.update_skill(ctx, "gardener", new, wait=True)
    assert result["action"] == "update"
    assert result["uri"] == result["root_uri"] == "viking://user/default/skills/gardener"
    got = await service.get_skill(ctx, "gardener")
    assert got["body"] == "Use a can."
    assert [f["path"] for f in got["files"] if f["kind"] != "summary"] == ["SKILL.md"]
    assert await service.list_skills(ctx, target_uri="viking://agent/skills") == []


async def test_update_refuses_and_keeps_the_old_skill(service: ContextService) -> None:
    ctx = service.dev_context()
    with pytest.raises(NotFoundError):
        await service.update_skill(ctx, "kettle", KETTLE)
    await service.add_skill(ctx, KETTLE, wait=True)
    before = await service.get_skill(ctx, "kettle")
    with pytest.raises(InvalidArgumentError, match="does not match"):
        await service.update_skill(ctx, "kettle", {**KETTLE, "name": "pot"})
    with pytest.raises(InvalidArgumentError):
        await service.update_skill(ctx, "kettle", "---\nname: kettle\n---\nno description")
    with pytest.raises(InvalidArgumentError, match="Invalid skill name"):
        await service.update_skill(ctx, "bad name", KETTLE)
    after = await service.get_skill(ctx, "kettle")
    assert after["content_sha256"] == before["content_sha256"]
    assert [s["name"] for s in await service.list_skills(ctx)] == ["kettle"]


# -- get -------------------------------------------------------------------------------------


async def test_get_answers_the_tiers_asked_for(service: ContextService) -> None:
    ctx = service.dev_context()
    await service.add_skill(ctx, KETTLE, wait=True)
    full = await service.get_skill(ctx, "kettle")
    assert {"abstract", "overview", "content", "content_sha256", "files"} <= set(full)
    assert "revision" not in full
    assert "source" not in full
    assert all("sha256" not in f for f in full["files"])
    tiers = {
        0: {"abstract"},
        1: {"overview"},
        2: {"content", "body", "content_sha256"},
    }
    every = {"abstract", "overview", "content", "body", "content_sha256"}
    for level, expected in tiers.items():
        got = await service.get_skill(ctx, "kettle", level=level, include_files=False)
        assert every & set(got) == expected, level
        assert "files" not in got
    with_content = await service.get_skill(ctx, "kettle", level=0, include_content=True)
    assert "content" in with_content
    without = await service.get_skill(ctx, "kettle", include_content=False)
    assert "content" not in without
    assert "abstract" in without
    assert "content" in await service.get_skill(ctx, "kettle", level=2, include_content=False)
    with pytest.raises(InvalidArgumentError, match="0, 1, or 2"):
        await service.get_skill(ctx, "kettle", level=3)


async def test_get_with_integrity_and_source(service: ContextService, tmp_path: Path) -> None:
    ctx = service.dev_context()
    folder = tmp_path / "kettle"
    (folder / "docs").mkdir(parents=True)
    (folder / "SKILL.md").write_text("---\nname: kettle\ndescription: Boil\n---\nFill.\n")
    (folder / "docs" / "notes.txt").write_text("descale monthly")
    await service.add_skill(ctx, str(folder), wait=True)
    got = await service.get_skill(ctx, "kettle", include_integrity=True, include_source=True)
    files = {f["path"]: f for f in got["files"]}
    assert files["docs"]["kind"] == "directory"
    assert "sha256" not in files["docs"]
    notes = files["docs/notes.txt"]
    assert notes["kind"] == "auxiliary"
    assert notes["sha256"] == hashlib.sha256(b"descale monthly").hexdigest()
    assert files["SKILL.md"]["sha256"] == got["content_sha256"]
    payload = [
        {
            "path": f["path"],
            "is_dir": f["is_dir"],
            "size": None if f["is_dir"] else f["size"],
            "sha256": f.get("sha256"),
        }
        for f in sorted(got["files"], key=lambda f: f["path"])
    ]
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    assert got["revision"] == hashlib.sha256(encoded).hexdigest()
    assert got["source"]["tracked"] is False
    again = await service.get_skill(ctx, "kettle", include_integrity=True)
    assert again["revision"] == got["revision"]
    await service.update_skill(ctx, "kettle", "---\nname: kettle\ndescription: Boil\n---\nPour.")
    changed = await service.get_skill(ctx, "kettle", include_integrity=True)
    assert changed["revision"] != got["revision"]


async def test_integrity_is_bounded(
    service: ContextService, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = service.dev_context()
    await service.add_skill(ctx, KETTLE, wait=True)
    monkeypatch.setattr(detail, "MAX_INTEGRITY_ENTRIES", 1)
    with pytest.raises(ResourceExhaustedError):
        await service.get_skill(ctx, "kettle", include_integrity=True)
    assert "files" in await service.get_skill(ctx, "kettle")  # without integrity: no bound


# -- list ------------------------------------------------------------------------------------


async def test_list_caps_each_root_at_node_limit(service: ContextService) -> None:
    ctx = service.dev_context()
    for name in ("a-skill", "b-skill", "c-skill"):
        await service.add_skill(ctx, {"name": name, "description": "d"})
    await service.add_skill(ctx, KETTLE, target_uri="viking://agent/skills")
    assert len(await service.list_skills(ctx, node_limit=2)) == 3  # 2 of mine, 1 shared
    assert len(await service.list_skills(ctx, node_limit=0)) == 4  # 0: the default
    assert len(await service.list_skills(ctx, 1, "viking://~/skills")) == 1
    assert len(await service.list_skills(ctx, 5, "viking://agent/skills")) == 1
