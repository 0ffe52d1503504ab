"""``edit``: exact-substring replacement under the write lock, through the service, the embedded
client and the CLI."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from openviking_mcp import ContextService, OpenViking, OpenVikingConfig, RequestContext
from openviking_mcp.cli import app
from openviking_mcp.contract.errors import InvalidArgumentError, NotFoundError
from tests.conftest import hashing_config

pytestmark = [pytest.mark.anyio, pytest.mark.both_backends]

URI = "viking://resources/notes/plan.md"


@pytest.fixture
def config(workspace: Path, storage_section: dict[str, Any]) -> OpenVikingConfig:
    return hashing_config(workspace, storage_section)


async def test_edit_replaces_one_exact_occurrence(
    service: ContextService, ctx: RequestContext
) -> None:
    await service.write(ctx, URI, "# Plan\n\nShip on Monday.\nTest on Friday.\n", mode="create")
    result = await service.edit(ctx, URI, "Monday", "Tuesday")
    text = "# Plan\n\nShip on Tuesday.\nTest on Friday.\n"
    assert await service.read(ctx, URI) == text
    assert {k: result[k] for k in ("uri", "context_type", "replacements", "changed")} == {
        "uri": URI,
        "context_type": "resource",
        "replacements": 1,
        "changed": True,
    }
    assert result["written_bytes"] == len(text.encode())
    assert result["vector_status"] == "queued"
    assert len(result["task_id"]) == 32


async def test_edit_keeps_unicode_and_multiline_strings(
    service: ContextService, ctx: RequestContext
) -> None:
    await service.write(ctx, URI, "a\nβ—€\nend\n", mode="create")
    await service.edit(ctx, URI, "β—€\nend", "δ\n\nfin")
    assert await service.read(ctx, URI) == "a\nδ\n\nfin\n"


async def test_replace_all(service: ContextService, ctx: RequestContext) -> None:
    await service.write(ctx, URI, "todo a\ntodo b\ntodo c\n", mode="create")
    result = await service.edit(ctx, URI, "todo", "done", replace_all=True)
    assert result["replacements"] == 3
    assert await service.read(ctx, URI) == "done a\ndone b\ndone c\n"


async def test_no_match_is_an_invalid_argument(
    service: ContextService, ctx: RequestContext
) -> None:
    await service.write(ctx, URI, "hello\n", mode="create")
    with pytest.raises(InvalidArgumentError) as info:
        await service.edit(ctx, URI, "absent", "x")
    assert info.value.message == f"old_string not found in {URI}"
    assert info.value.details == {"uri": URI, "matches": 0}


async def test_ambiguous_match_needs_replace_all_or_more_context(
    service: ContextService, ctx: RequestContext
) -> None:
    await service.write(ctx, URI, "x = 1\ny = 1\n", mode="create")
    with pytest.raises(InvalidArgumentError) as info:
        await service.edit(ctx, URI, "= 1", "= 2")
    assert info.value.details["matches"] == 2
    assert "2 times" in info.value.message
    assert "replace_all=true" in info.value.message
    assert "surrounding context" in info.value.message
    assert await service.read(ctx, URI) == "x = 1\ny = 1\n"  # untouched
    await service.edit(ctx, URI, "y = 1", "y = 2")
    assert await service.read(ctx, URI) == "x = 1\ny = 2\n"


async def test_empty_old_string_is_refused(service: ContextService, ctx: RequestContext) -> None:
    await service.write(ctx, URI, "hello\n", mode="create")
    with pytest.raises(InvalidArgumentError, match="old_string must not be empty"):
        await service.edit(ctx, URI, "", "x")


async def test_binary_missing_and_directory_targets(
    service: ContextService, ctx: RequestContext
) -> None:
    await service.store.content.write_bytes(
        f"{ctx.account_id}/resources/blob.bin", b"\xff\xfe\x00abc"
    )
    await service.mkdir(ctx, "viking://resources/notes")
    with pytest.raises(InvalidArgumentError) as info:
        await service.edit(ctx, "viking://resources/blob.bin", "abc", "x")
    assert info.value.details["reason"] == "binary"
    assert await service.read_bytes(ctx, "viking://resources/blob.bin") == b"\xff\xfe\x00abc"
    with pytest.raises(NotFoundError):
        await service.edit(ctx, "viking://resources/missing.md", "a", "b")
    with pytest.raises(InvalidArgumentError) as info:
        await service.edit(ctx, "viking://resources/notes", "a", "b")
    assert info.value.details["reason"] == "is_directory"


async def test_identical_strings_change_nothing(
    service: ContextService, ctx: RequestContext
) -> None:
    await service.write(ctx, URI, "same\n", mode="create", wait=True)
    before = await service.stat(ctx, URI)
    result = await service.edit(ctx, URI, "same", "same")
    assert result["changed"] is False
    assert result["replacements"] == 0
    assert result["written_bytes"] == 0
    assert "task_id" not in result
    assert (await service.stat(ctx, URI))["modTime"] == before["modTime"]
    with pytest.raises(InvalidArgumentError):  # still checked: the caller's view is wrong
        await service.edit(ctx, URI, "other", "other")


async def test_edit_refreshes_tiers_and_index(service: ContextService, ctx: RequestContext) -> None:
    await service.write(ctx, URI, "The deploy codename is quokka.\n", mode="create", wait=True)
    result = await service.edit(ctx, URI, "quokka", "zebracorn", wait=True)
    assert (result["semantic_status"], result["vector_status"]) == ("complete", "complete")
    found = await service.find(ctx, "zebracorn", target_uri="viking://resources/notes")
    assert [h["uri"] for h in found["resources"]][:1] == [URI]
    assert "zebracorn" in found["resources"][0]["match"]
    stale = await service.find(ctx, "quokka", target_uri="viking://resources/notes")
    assert all("quokka" not in h["match"] for h in stale["resources"])
    assert (await service.consistency(ctx, "viking://resources/notes"))["ok"]


async def test_concurrent_appends_and_edits_lose_nothing(
    service: ContextService, ctx: RequestContext
) -> None:
    markers = [f"MARK{i:02d}" for i in range(20)]
    await service.write(ctx, URI, "".join(f"{m}\n" for m in markers), mode="create")

    async def append(i: int) -> None:
        await service.write(ctx, URI, f"line {i:02d}\n", mode="append")

    async def edit(i: int) -> None:
        await service.edit(ctx, URI, markers[i], f"DONE{i:02d}")

    jobs = [job for i in range(20) for job in (append(i), edit(i))]
    await asyncio.gather(*jobs)
    lines = (await service.read(ctx, URI)).splitlines()
    assert sorted(lines) == sorted(
        [f"DONE{i:02d}" for i in range(20)] + [f"line {i:02d}" for i in range(20)]
    )
    assert lines[:20] == [f"DONE{i:02d}" for i in range(20)]


def test_embedded_client_mirrors_edit(workspace: Path, config: OpenVikingConfig) -> None:
    with OpenViking(config=config) as ov:
        ov.write(URI, "alpha beta\n", mode="create")
        result = ov.edit(URI, "beta", "gamma", wait=True)
        assert result["changed"] is True
        assert result["vector_status"] == "complete"
        assert ov.read(URI) == "alpha gamma\n"


def test_cli_edit(workspace: Path) -> None:
    runner = CliRunner()

    def cli(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, ["--path", str(workspace), *args])
        return result.exit_code, result.stdout, result.stderr

    assert cli("write", URI, "a-b a-b\n", "--mode", "create")[0] == 0
    code, _, err = cli("edit", URI, "a-b", "c")
    assert code == 1
    assert "INVALID_ARGUMENT" in err
    assert "replace_all" in err
    code, out, _ = cli("edit", URI, "a-b", "c", "--replace-all", "--wait")
    assert code == 0
    assert json.loads(out)["replacements"] == 2
    assert json.loads(out)["vector_status"] == "complete"
    assert cli("read", URI)[1] == "c c\n"
