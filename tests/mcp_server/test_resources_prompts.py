"""MCP resources (viking:// URIs) and prompts (use-openviking, one per stored skill)."""

from __future__ import annotations

import pytest
from mcp import Client, MCPError

from openviking_mcp import ContextService
from openviking_mcp.mcp_server import build_mcp_server
from openviking_mcp.mcp_server.resources import ACCESS_DENIED
from tests.mcp_server.conftest import text_of

pytestmark = pytest.mark.anyio

SKILL = """---
name: release-notes
description: Write release notes from merged pull requests.
---

# release-notes

Collect the merged pull requests since the last tag and group them by area.
"""


async def test_resources_are_listed_and_read(mcp: Client, service: ContextService) -> None:
    listed = {str(r.uri) for r in (await mcp.list_resources()).resources}
    assert {"viking://~/memories", "viking://agent/skills"} <= listed
    templates = (await mcp.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == ["viking://{+path}"]

    ctx = service.dev_context()
    await service.write(ctx, "viking://resources/docs/intro.md", "# Intro\n\nHello.", mode="create")
    file = await mcp.read_resource("viking://resources/docs/intro.md")
    assert file.contents[0].text == "# Intro\n\nHello."

    directory = await mcp.read_resource("viking://resources/docs")
    text = directory.contents[0].text
    assert "## Contents of viking://resources/docs" in text
    assert "- viking://resources/docs/intro.md (" in text

    memories = await mcp.read_resource("viking://~/memories")
    assert "Contents of viking://user/default/memories" in memories.contents[0].text


async def test_binary_file_is_a_blob(mcp: Client, service: ContextService) -> None:
    key = "default/resources/bin/blob.dat"
    await service.store.content.write_bytes(key, bytes(range(256)))
    result = await mcp.read_resource("viking://resources/bin/blob.dat")
    blob = result.contents[0]
    assert getattr(blob, "blob", None)
    import base64

    assert base64.b64decode(blob.blob) == bytes(range(256))


async def test_resource_errors_are_protocol_errors(mcp: Client) -> None:
    with pytest.raises(MCPError) as missing:
        await mcp.read_resource("viking://resources/none/here.md")
    assert "NOT_FOUND" in str(missing.value)
    with pytest.raises(MCPError) as other:
        await mcp.read_resource("viking://user/someone-else/memories")
    assert "Traceback" not in str(other.value)


@pytest.mark.parametrize(
    ("uri", "rpc_code", "code"),
    [
        ("viking://resources/none/here.md", -32602, "NOT_FOUND"),  # SEP-2164: invalid params
        ("viking://temp/x", -32602, "INVALID_URI"),
        ("viking://resources/" + "/".join(["a"] * 100), -32602, "INVALID_URI"),
        ("viking://user/someone-else/memories", ACCESS_DENIED, "PERMISSION_DENIED"),
        ("viking://resources/../x", ACCESS_DENIED, "PERMISSION_DENIED"),
    ],
)
async def test_refused_reads_have_their_json_rpc_code(
    mcp: Client, uri: str, rpc_code: int, code: str
) -> None:
    with pytest.raises(MCPError) as refused:
        await mcp.read_resource(uri)
    assert refused.value.code == rpc_code  # never -32603 Internal error
    assert refused.value.data["code"] == code
    assert refused.value.data["uri"] == uri


async def test_use_openviking_prompt(mcp: Client) -> None:
    prompts = {p.name: p for p in (await mcp.list_prompts()).prompts}
    assert "use-openviking" in prompts
    result = await mcp.get_prompt("use-openviking")
    text = result.messages[0].content.text
    for word in ("viking://resources", "find", "search", "read", "L0", "~"):
        assert word in text


async def test_stored_skills_become_prompts(mcp: Client, service: ContextService) -> None:
    ctx = service.dev_context()
    await service.write(ctx, "viking://agent/skills/release-notes/SKILL.md", SKILL, mode="create")
    private = SKILL.replace("Write release notes", "My own way to write notes").replace(
        "group them by area", "list them by author"
    )
    # private skills are managed by add_skill; put the file in place directly
    await service.store.content.write_bytes(
        "default/user/default/skills/release-notes/SKILL.md", private.encode()
    )
    await service.write(
        ctx,
        "viking://agent/skills/triage/SKILL.md",
        "# triage\n\nLabel new issues by component.\n",
        mode="create",
    )
    prompts = {p.name: p for p in (await mcp.list_prompts()).prompts}
    assert {"use-openviking", "release-notes", "triage"} <= set(prompts)
    assert (
        prompts["release-notes"].description
        == "My own way to write notes from merged pull requests."
    )
    assert prompts["triage"].description == "triage"

    got = await mcp.get_prompt("release-notes")
    text = got.messages[0].content.text
    assert "list them by author" in text  # the private skill hides the account skill
    assert "---" not in text.split("\n")[0]  # front matter stripped
    assert "viking://user/default/skills/release-notes" in text

    with pytest.raises(MCPError) as unknown:
        await mcp.get_prompt("no-such-skill")
    assert "Unknown prompt" in str(unknown.value)


async def test_other_users_skills_are_not_offered(service: ContextService) -> None:
    ann = await service.local_context("acme", "ann")
    ben = await service.local_context("acme", "ben")
    await service.store.content.write_bytes("acme/user/ann/skills/secret/SKILL.md", SKILL.encode())
    async with Client(build_mcp_server(service, caller=ben)) as client:
        names = {p.name for p in (await client.list_prompts()).prompts}
        assert "secret" not in names
        assert "release-notes" not in names
        with pytest.raises(MCPError):
            await client.get_prompt("release-notes")
    async with Client(build_mcp_server(service, caller=ann)) as client:
        names = {p.name for p in (await client.list_prompts()).prompts}
        assert "release-notes" in names
        result = await client.call_tool("read", {"uris": "viking://user/ben"})
        assert result.is_error
        assert "PERMISSION_DENIED" in text_of(result)
