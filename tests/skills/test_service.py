"""Skills in the store: add in every format, tiers and index, replace, delete, secrets."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from openviking_mcp import ContextService
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from openviking_mcp.contract.identity import RequestContext
from tests._uploads import save_upload

pytestmark = pytest.mark.anyio

SEED_TOOL = {
    "name": "search_web",
    "description": "Search the web",
    "inputSchema": {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "Search query"},
            "limit": {"type": "integer", "description": "Max results"},
        },
        "required": ["query"],
    },
}
SEED_SKILL_MD = """---
name: search-web
description: Search the web
---

# search-web

Search the web

## Parameters

- **query** (string) (required): Search query
- **limit** (integer) (optional): Max results

## Usage

This tool wraps the MCP tool `search-web`. Call this when the user needs functionality matching the description above.
"""  # noqa: E501
CODE_RUNNER = """---
name: code-runner
description: Execute code in various languages
allowed-tools:
  - FileSystem
  - ProcessRunner
tags:
  - code
  - execution
---

# code-runner

Execute code in various languages safely.
"""


async def test_mcp_tool_is_stored_as_the_seed_shows(service: ContextService) -> None:
    ctx = service.dev_context()
    result = await service.add_skill(ctx, SEED_TOOL, wait=True)
    folder = "viking://user/default/skills/search-web"  # no target: the caller's own root
    assert {k: result[k] for k in ("status", "uri", "root_uri", "name", "auxiliary_files")} == {
        "status": "success",
        "uri": folder,
        "root_uri": folder,
        "name": "search-web",
        "auxiliary_files": 0,
    }
    assert result["skills_root"] == "viking://user/default/skills"
    assert result["action"] == "create"
    stored = await service.read(ctx, f"{folder}/SKILL.md")
    assert stored == SEED_SKILL_MD
    assert stored.count("---\nname:") == 1  # one front-matter block, unlike the original
    assert await service.abstract(ctx, folder) == "search-web: Search the web"
    overview = await service.overview(ctx, folder)
    assert "SKILL.md" in overview
    assert "not ready" not in overview


async def test_skills_are_found_by_context_type(service: ContextService) -> None:
    ctx = service.dev_context()
    await service.add_skill(ctx, SEED_TOOL, wait=True)
    await service.add_skill(ctx, CODE_RUNNER, wait=True)
    await service.write(
        ctx, "viking://resources/web.md", "Notes about the web.", mode="create", wait=True
    )
    found = await service.find(ctx, "search the internet for information", context_type="skill")
    assert found["resources"] == []
    assert found["memories"] == []
    uris = [hit["uri"] for hit in found["skills"]]
    assert any(u.startswith("viking://user/default/skills/search-web") for u in uris)
    assert all(hit["context_type"] == "skill" for hit in found["skills"])


async def test_skill_dict_and_skill_md_formats(service: ContextService) -> None:
    ctx = service.dev_context()
    await service.add_skill(
        ctx,
        {
            "name": "summarise",
            "description": "Summarise a document",
            "content": "# summarise\n\nRead the document, then write five bullets.",
            "allowed_tools": ["read"],
            "tags": ["writing"],
        },
        target_uri="viking://agent/skills",
    )
    await service.add_skill(ctx, CODE_RUNNER)
    skills = {s["name"]: s for s in await service.list_skills(ctx)}
    assert skills["summarise"]["scope"] == "agent"
    assert skills["summarise"]["allowed_tools"] == ["read"]
    assert skills["code-runner"]["scope"] == "user"
    assert skills["code-runner"]["uri"] == "viking://user/default/skills/code-runner"
    assert skills["code-runner"]["root_uri"] == "viking://user/default/skills/code-runner"
    assert skills["code-runner"]["skills_root"] == "viking://user/default/skills"
    assert skills["summarise"]["skill_md_uri"] == "viking://agent/skills/summarise/SKILL.md"
    assert skills["summarise"]["type"] == "skill"
    assert skills["code-runner"]["tags"] == ["code", "execution"]
    got = await service.get_skill(ctx, "code-runner")
    assert got["allowed_tools"] == ["FileSystem", "ProcessRunner"]
    assert "Execute code in various languages safely." in got["body"]
    assert [f["path"] for f in got["files"] if f["kind"] != "summary"] == ["SKILL.md"]
    assert {f["path"] for f in got["files"] if f["kind"] == "summary"} <= {
        ".abstract.md",
        ".overview.md",
    }


async def test_directory_and_zip_with_auxiliary_files(
    service: ContextService, tmp_path: Path
) -> None:
    ctx = service.dev_context()
    folder = tmp_path / "report-maker"
    (folder / "templates").mkdir(parents=True)
    (folder / "SKILL.md").write_text(
        "---\nname: report-maker\ndescription: Make reports\n---\n\n# report-maker\n"
    )
    (folder / "templates" / "report.md").write_text("# {{title}}\n")
    (folder / "logo.bin").write_bytes(b"\x00\x01\x02")
    result = await service.add_skill(
        ctx, str(folder), target_uri="viking://agent/skills", wait=True
    )
    assert result["auxiliary_files"] == 2
    got = await service.get_skill(ctx, "report-maker")
    assert sorted(f["path"] for f in got["files"] if f["kind"] == "auxiliary") == [
        "logo.bin",
        "templates/report.md",
    ]
    assert await service.read_bytes(ctx, "viking://agent/skills/report-maker/logo.bin") == (
        b"\x00\x01\x02"
    )

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("zipped/SKILL.md", "---\nname: zipped\ndescription: From a zip\n---\n")
        archive.writestr("zipped/data/x.txt", "x")
    upload = await save_upload(service, ctx, "zipped.zip", _chunks(buffer.getvalue()))
    result = await service.add_skill(ctx, temp_file_id=upload["temp_file_id"])
    assert result["name"] == "zipped"
    assert result["auxiliary_files"] == 1


async def _chunks(data: bytes):  # type: ignore[no-untyped-def]
    yield data


async def test_replace_is_clean(service: ContextService, tmp_path: Path) -> None:
    ctx = service.dev_context()
    folder = tmp_path / "tool"
    folder.mkdir()
    (folder / "SKILL.md").write_text("---\nname: tool\ndescription: Version one\n---\n\nOne.\n")
    (folder / "old.txt").write_text("only in v1")
    await service.add_skill(ctx, str(folder), wait=True)
    second = await service.add_skill(
        ctx, "---\nname: tool\ndescription: Version two\n---\n\nTwo.\n", wait=True
    )
    assert second["action"] == "update"
    got = await service.get_skill(ctx, "tool")
    assert got["description"] == "Version two"
    kept = [f["path"] for f in got["files"] if f["kind"] != "summary"]
    assert kept == ["SKILL.md"]  # old.txt is gone
    user = service.config.workspace / "accounts" / "default" / "user" / "default"
    skills_dir = user / "skills"
    assert (skills_dir / "tool" / "SKILL.md").is_file()
    assert sorted(p.name for p in skills_dir.iterdir() if p.name.startswith(".")) == [
        ".abstract.md",
        ".overview.md",
    ]  # no staging or backup folders left behind
    found = await service.find(ctx, "version one", context_type="skill")
    assert all("Version one" not in hit["abstract"] for hit in found["skills"])


async def test_bad_input_writes_nothing(service: ContextService) -> None:
    ctx = service.dev_context()
    cases: list[object] = [
        {"description": "no name"},
        "---\nname: x\n---\nno description",
        "---\nname: [unclosed\n---\nbody",
        "no front matter at all",
        {"name": "bad name!", "description": "d"},
        {"name": "a" * 65, "description": "d"},
    ]
    for data in cases:
        with pytest.raises(InvalidArgumentError):
            await service.add_skill(ctx, data)
    with pytest.raises(PermissionDeniedError):
        await service.add_skill(ctx, "./skills/x/SKILL.md", allow_paths=False)
    with pytest.raises(InvalidArgumentError):
        await service.add_skill(ctx, SEED_TOOL, target_uri="viking://resources")
    assert await service.list_skills(ctx) == []
    empty_zip = io.BytesIO()
    zipfile.ZipFile(empty_zip, "w").close()
    upload = await save_upload(service, ctx, "empty.zip", _chunks(empty_zip.getvalue()))
    with pytest.raises(InvalidArgumentError):
        await service.add_skill(ctx, temp_file_id=upload["temp_file_id"])
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("SKILL.md", "---\nname: evil\ndescription: d\n---\n")
        archive.writestr("../escape.txt", "x")
    upload = await save_upload(service, ctx, "evil.zip", _chunks(evil.getvalue()))
    with pytest.raises(InvalidArgumentError):
        await service.add_skill(ctx, temp_file_id=upload["temp_file_id"])
    assert await service.list_skills(ctx) == []


async def test_secrets_are_redacted_and_restored_for_the_owner(service: ContextService) -> None:
    ann = await service.local_context("acme", "ann")
    ben = await service.local_context("acme", "ben")
    key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"
    text = f"---\nname: deploy\ndescription: Deploy\n---\n\nCall the API with {key}.\n"
    result = await service.add_skill(ann, text, target_uri="viking://agent/skills", wait=True)
    assert result["secrets_redacted"] == 1
    raw = (await service.store.content.read_bytes("acme/agent/skills/deploy/SKILL.md")).decode()
    assert key not in raw
    assert "{{ov_privacy:skill:deploy:secret_1}}" in raw
    assert key in (await service.get_skill(ann, "deploy"))["content"]
    assert key in await service.read(ann, "viking://agent/skills/deploy/SKILL.md")
    assert key not in (await service.get_skill(ben, "deploy"))["content"]
    assert key not in await service.read(ben, "viking://agent/skills/deploy/SKILL.md")
    found = await service.find(ann, "deploy api", context_type="skill")
    assert all(key not in hit["abstract"] for hit in found["skills"])
    deleted = await service.delete_skill(ann, "deploy")
    assert deleted["privacy_deleted"] is True


async def test_delete_and_not_found(service: ContextService) -> None:
    ctx = service.dev_context()
    await service.add_skill(ctx, SEED_TOOL, target_uri="viking://agent/skills", wait=True)
    result = await service.delete_skill(ctx, "search-web")
    assert result["uri"] == result["root_uri"] == "viking://agent/skills/search-web"
    assert result["skills_root"] == "viking://agent/skills"
    assert await service.list_skills(ctx) == []
    with pytest.raises(NotFoundError):
        await service.get_skill(ctx, "search-web")
    with pytest.raises(NotFoundError):
        await service.delete_skill(ctx, "search-web")
    found = await service.find(ctx, "search the web", context_type="skill")
    assert not [h for h in found["skills"] if "search-web" in h["uri"]]


async def test_private_skills_are_private(service: ContextService) -> None:
    ann = await service.local_context("acme", "ann")
    ben = await service.local_context("acme", "ben")
    await service.add_skill(ann, CODE_RUNNER, target_uri="viking://~/skills")
    assert [s["name"] for s in await service.list_skills(ann)] == ["code-runner"]
    assert await service.list_skills(ben) == []
    with pytest.raises(NotFoundError):
        await service.get_skill(ben, "code-runner")
    with pytest.raises(PermissionDeniedError):
        await service.add_skill(ben, CODE_RUNNER, target_uri="viking://user/ann/skills")


async def test_the_default_target_is_the_callers_own_root(service: ContextService) -> None:
    ann = await service.local_context("acme", "ann")  # the account's first user: ADMIN
    ben = await service.local_context("acme", "ben")  # USER
    mine = await service.add_skill(ben, CODE_RUNNER)
    assert mine["uri"] == "viking://user/ben/skills/code-runner"
    assert await service.list_skills(ann) == []  # nothing published to the account
    with pytest.raises(NotFoundError):
        await service.get_skill(ann, "code-runner")
    shared = await service.add_skill(ben, SEED_TOOL, target_uri="viking://agent/skills")
    assert shared["uri"] == "viking://agent/skills/search-web"
    assert [s["name"] for s in await service.list_skills(ann)] == ["search-web"]
    by_root = await service.add_skill(
        RequestContext.root("acme"), {"name": "ops", "description": "d"}
    )
    assert by_root["uri"] == "viking://agent/skills/ops"  # ROOT has no user space
    with pytest.raises(InvalidArgumentError) as bad:
        await service.add_skill(ben, CODE_RUNNER, target_uri="viking://resources/x")
    assert bad.value.details["allowed"] == ["viking://user/ben/skills", "viking://agent/skills"]


async def test_bundled_skills(service: ContextService) -> None:
    root = RequestContext.root(service.config.default_account)
    first = await service.ensure_bundled_skills()
    assert first is not None
    assert "use-openviking" in first["installed"]
    names = {s["name"] for s in await service.list_skills(service.dev_context())}
    assert {"use-openviking", "keep-project-notes", "research-with-sources"} <= names
    await service.delete_skill(root, "keep-project-notes")
    assert await service.ensure_bundled_skills() is None  # only once per workspace
    again = await service.install_bundled_skills(root, only_missing=True)
    assert again["installed"] == ["keep-project-notes"]
    assert "use-openviking" in again["skipped"]
    admin = service.dev_context()  # not ROOT: still installs into the account's root
    await service.delete_skill(root, "keep-project-notes")
    assert (await service.install_bundled_skills(admin, only_missing=True))["installed"] == [
        "keep-project-notes"
    ]
    listed = await service.list_skills(admin, target_uri="viking://agent/skills")
    assert "keep-project-notes" in {s["name"] for s in listed}
    assert await service.list_skills(admin, target_uri="viking://~/skills") == []


def test_embedded_client_skills(tmp_path: Path) -> None:
    from openviking_mcp import OpenViking

    with OpenViking(path=tmp_path / "data") as ov:
        result = ov.add_skill(SEED_TOOL, wait=True)
        assert result["name"] == "search-web"
        assert [s["name"] for s in ov.list_skills()] == ["search-web"]
        assert ov.get_skill("search-web")["content"] == SEED_SKILL_MD
        assert ov.delete_skill("search-web")["name"] == "search-web"
        assert ov.list_skills() == []
