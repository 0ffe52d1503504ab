"""The MCP tools through the real MCP client (in process): schemas, happy paths, errors."""

from __future__ import annotations

import json

import pytest
from mcp import Client

from openviking_mcp import ContextService
from tests.mcp_server.conftest import text_of

pytestmark = pytest.mark.anyio

CORE_TOOLS = {
    "find",
    "search",
    "read",
    "list",
    "tree",
    "stat",
    "write",
    "edit",
    "add_resource",
    "add_skill",
    "grep",
    "glob",
    "forget",
    "health",
    "create_session",
    "add_message",
    "commit_session",
    "remember",
}


async def _write(mcp: Client, uri: str, content: str) -> None:
    result = await mcp.call_tool(
        "write", {"uri": uri, "content": content, "mode": "create", "wait": True}
    )
    assert not result.is_error, text_of(result)


async def test_tools_are_listed_with_portable_schemas_and_annotations(mcp: Client) -> None:
    tools = {t.name: t for t in (await mcp.list_tools()).tools}
    assert set(tools) >= CORE_TOOLS
    for tool in tools.values():
        schema = json.dumps(tool.input_schema)
        assert "anyOf" not in schema
        assert "oneOf" not in schema
        assert "$ref" not in schema
        assert tool.input_schema["type"] == "object"
        for prop in tool.input_schema.get("properties", {}).values():
            assert "type" in prop, (tool.name, prop)
            assert prop.get("description"), (tool.name, prop)
        assert tool.output_schema is not None, tool.name
        assert "anyOf" not in json.dumps(tool.output_schema)
        assert len(tool.description or "") > 40, tool.name
        assert tool.annotations is not None
    for name in ("find", "search", "read", "list", "tree", "stat", "grep", "glob", "health"):
        assert tools[name].annotations.read_only_hint is True
    assert tools["write"].annotations.read_only_hint is False
    assert tools["forget"].annotations.destructive_hint is True
    assert tools["forget"].annotations.idempotent_hint is True
    assert tools["add_resource"].annotations.destructive_hint is False
    assert tools["find"].input_schema["required"] == ["query"]
    mode = tools["search"].input_schema["properties"]["mode"]
    assert mode["enum"] == ["list", "context"]
    assert tools["read"].input_schema["properties"]["uris"]["type"] == "array"


async def test_write_find_read_round_trip(mcp: Client) -> None:
    await _write(
        mcp,
        "viking://resources/ops/deploy.md",
        "# Deploying\n\nProduction deploys run kubectl apply from the release branch.",
    )
    found = await mcp.call_tool("find", {"query": "how are production deploys done"})
    assert not found.is_error
    text = text_of(found)
    assert text.startswith("Found ")
    assert "- [resource " in text
    assert "viking://resources/ops/deploy.md" in text
    assert text.endswith("Use the read tool to expand a URI.")
    structured = found.structured_content
    assert structured is not None
    assert any(h["uri"] == "viking://resources/ops/deploy.md" for h in structured["resources"])
    assert structured["total"] == len(structured["resources"]) + len(structured["memories"]) + len(
        structured["skills"]
    )
    # min_score is the original's name of score_threshold
    strict = {"query": "how are production deploys done", "min_score": 1.0}
    for tool in ("find", "search"):
        assert text_of(await mcp.call_tool(tool, strict)) == "No matching context found.", tool

    read = await mcp.call_tool("read", {"uris": "viking://resources/ops/deploy.md"})
    assert text_of(read).startswith("# Deploying")
    assert read.structured_content["items"][0]["level"] == "full"

    abstract = await mcp.call_tool(
        "read", {"uris": ["viking://resources/ops/deploy.md"], "level": "abstract"}
    )
    assert "kubectl" in text_of(abstract)
    assert len(text_of(abstract)) <= 400

    directory = await mcp.call_tool("read", {"uris": "viking://resources/ops"})
    assert "viking://resources/ops/deploy.md" in text_of(directory)


async def test_find_filters_and_no_match(mcp: Client) -> None:
    await _write(mcp, "viking://resources/a/cooking.md", "Slow-cooked ragu needs four hours.")
    none = await mcp.call_tool(
        "find", {"query": "ragu", "context_type": "skill", "score_threshold": 0.99}
    )
    assert not none.is_error
    assert text_of(none) == "No matching context found."
    assert none.structured_content["total"] == 0
    bad = await mcp.call_tool("find", {"query": "x", "context_type": "widgets"})
    assert bad.is_error
    assert "INVALID_ARGUMENT" in text_of(bad)


async def test_read_many_inlines_errors(mcp: Client) -> None:
    await _write(mcp, "viking://resources/r/one.md", "first file")
    result = await mcp.call_tool(
        "read", {"uris": ["viking://resources/r/one.md", "viking://resources/r/missing.md"]}
    )
    assert not result.is_error
    text = text_of(result)
    assert "=== viking://resources/r/one.md ===\nfirst file" in text
    assert "=== viking://resources/r/missing.md ===\nError [NOT_FOUND]" in text
    items = result.structured_content["items"]
    assert items[0]["error"] == ""
    assert items[1]["error"].startswith("Error [NOT_FOUND]")


async def test_read_takes_uri_as_well_as_uris(mcp: Client) -> None:
    await _write(mcp, "viking://resources/r/one.md", "first file")
    await _write(mcp, "viking://resources/r/two.md", "second file")
    schema = (await mcp.list_tools()).tools
    props = next(t for t in schema if t.name == "read").input_schema["properties"]
    assert props["uri"] == {**props["uri"], "type": "array", "items": {"type": "string"}}
    assert "anyOf" not in str(props)
    one = await mcp.call_tool("read", {"uri": "viking://resources/r/one.md"})
    assert not one.is_error
    assert text_of(one) == "first file"
    listed = await mcp.call_tool("read", {"uri": ["viking://resources/r/two.md"]})
    assert text_of(listed) == "second file"
    both = await mcp.call_tool(
        "read",
        {"uris": "viking://resources/r/one.md", "uri": ["viking://resources/r/two.md"]},
    )
    assert [i["uri"] for i in both.structured_content["items"]] == [
        "viking://resources/r/one.md",
        "viking://resources/r/two.md",
    ]
    none = await mcp.call_tool("read", {})
    assert none.is_error
    assert "uris (or uri)" in text_of(none)


async def test_errors_are_tool_errors_with_advice(mcp: Client) -> None:
    missing = await mcp.call_tool("read", {"uris": "viking://resources/nope.md"})
    assert missing.is_error
    assert "NOT_FOUND" in text_of(missing)
    assert "list, tree or glob" in text_of(missing)
    bad_uri = await mcp.call_tool("stat", {"uri": "http://example.com/x"})
    assert bad_uri.is_error
    assert "INVALID_URI" in text_of(bad_uri)
    assert "viking://" in text_of(bad_uri)
    escape = await mcp.call_tool("read", {"uris": "viking://resources/../../etc/passwd"})
    assert escape.is_error
    assert "PERMISSION_DENIED" in text_of(escape)
    other_user = await mcp.call_tool("list", {"uri": "viking://user/somebody-else"})
    assert other_user.is_error
    assert "Traceback" not in text_of(other_user)
    invalid_args = await mcp.call_tool("find", {"query": "x", "limit": 0})
    assert invalid_args.is_error


async def test_list_tree_stat(mcp: Client) -> None:
    await _write(mcp, "viking://resources/proj/src/main.py", "print('hi')\n")
    listing = await mcp.call_tool("list", {"uri": "viking://resources/proj"})
    assert text_of(listing) == "[dir] src"
    entries = listing.structured_content["entries"]
    assert entries == [
        {
            "uri": "viking://resources/proj/src",
            "name": "src",
            "is_dir": True,
            "size": entries[0]["size"],
            "abstract": entries[0]["abstract"],
            "rel_path": "",
        }
    ]
    recursive = await mcp.call_tool("list", {"uri": "viking://resources/proj", "recursive": True})
    assert "viking://resources/proj/src/main.py" in text_of(recursive).splitlines()
    empty = await mcp.call_tool("write", {"uri": "viking://resources/e/x.md", "content": "x"})
    assert not empty.is_error
    await mcp.call_tool("forget", {"uri": "viking://resources/e/x.md"})
    listing = await mcp.call_tool("list", {"uri": "viking://resources/e"})
    assert text_of(listing) == "(no entries under viking://resources/e)"

    tree = await mcp.call_tool("tree", {"uri": "viking://resources/proj"})
    lines = text_of(tree).splitlines()
    assert lines[0] == "Tree of viking://resources/proj (depth <= 3, 2 entries):"
    assert lines[1:] == ["  src/", "    main.py (12 B)"]
    assert tree.structured_content["truncated"] is False
    small = await mcp.call_tool("tree", {"uri": "viking://resources/proj", "node_limit": 1})
    assert "truncated at 1 entries" in text_of(small)

    stat = await mcp.call_tool("stat", {"uri": "viking://resources/proj/src/main.py"})
    assert stat.structured_content["size"] == 12
    assert stat.structured_content["isDir"] is False
    assert "file, 12 B" in text_of(stat)


async def test_write_modes_and_edit(mcp: Client, service: ContextService) -> None:
    uri = "viking://resources/notes/todo.md"
    created = await mcp.call_tool("write", {"uri": uri, "content": "alpha\n", "wait": True})
    assert text_of(created).startswith(f"Wrote 6 bytes to {uri} (mode=replace).")
    assert created.structured_content["root_uri"] == "viking://resources/notes"
    assert "Embedding" in created.structured_content["queue_status"]
    refused = await mcp.call_tool(
        "write", {"uri": "viking://resources/notes/x.csv", "content": "x"}
    )
    assert refused.is_error
    assert "does not allow extension '.csv'" in text_of(refused)
    csv = {"uri": "viking://resources/notes/x.csv", "content": "x", "mode": "create"}
    assert not (await mcp.call_tool("write", csv)).is_error
    assert "Indexing: semantic=complete, vector=complete." in text_of(created)
    again = await mcp.call_tool("write", {"uri": uri, "content": "x", "mode": "create"})
    assert again.is_error
    assert "ALREADY_EXISTS" in text_of(again)
    appended = await mcp.call_tool("write", {"uri": uri, "content": "beta\n", "mode": "append"})
    assert "(mode=append)" in text_of(appended)
    queued = text_of(appended)
    assert "Indexing:" in queued

    edited = await mcp.call_tool(
        "edit", {"uri": uri, "old_string": "beta", "new_string": "gamma", "wait": True}
    )
    assert not edited.is_error, text_of(edited)
    assert text_of(edited).startswith(f"Edited {uri} (")
    assert edited.structured_content["replacements"] == 1
    ctx = service.dev_context()
    assert await service.read(ctx, uri) == "alpha\ngamma\n"

    none = await mcp.call_tool("edit", {"uri": uri, "old_string": "delta", "new_string": "x"})
    assert none.is_error
    assert "not found" in text_of(none)
    await mcp.call_tool("write", {"uri": uri, "content": "a a", "mode": "replace"})
    many = await mcp.call_tool("edit", {"uri": uri, "old_string": "a", "new_string": "b"})
    assert many.is_error
    assert "replace_all" in text_of(many)
    both = await mcp.call_tool(
        "edit", {"uri": uri, "old_string": "a", "new_string": "b", "replace_all": True}
    )
    assert both.structured_content["replacements"] == 2
    assert await service.read(ctx, uri) == "b b"
    same = await mcp.call_tool("edit", {"uri": uri, "old_string": "b", "new_string": "b"})
    assert text_of(same).startswith("No changes")
    empty = await mcp.call_tool("edit", {"uri": uri, "old_string": "", "new_string": "b"})
    assert empty.is_error


async def test_grep_glob_forget(mcp: Client, service: ContextService) -> None:
    await _write(mcp, "viking://resources/code/a.py", "def alpha():\n    return 1\n")
    await _write(mcp, "viking://resources/code/sub/b.py", "def beta():\n    return ALPHA\n")
    grep = await mcp.call_tool(
        "grep",
        {"uri": "viking://resources/code", "pattern": ["alpha", "beta"], "case_insensitive": True},
    )
    text = text_of(grep)
    assert text.startswith("Found 3 match(es) across 2 pattern(s):")
    assert "  L1 [alpha]: def alpha():" in text
    assert "  L2 [alpha]:     return ALPHA" in text
    assert "  L1 [beta]: def beta():" in text
    assert grep.structured_content["count"] == 3
    bad = await mcp.call_tool("grep", {"uri": "viking://resources/code", "pattern": "("})
    assert bad.is_error

    glob = await mcp.call_tool("glob", {"pattern": "**/*.py", "uri": "viking://resources/code"})
    assert text_of(glob).splitlines() == [
        "Found 2 file(s):",
        "  viking://resources/code/a.py",
        "  viking://resources/code/sub/b.py",
    ]  # sorted by path
    nothing = await mcp.call_tool("glob", {"pattern": "*.rs", "uri": "viking://resources/code"})
    assert text_of(nothing) == "No files found matching: *.rs"

    refused = await mcp.call_tool("forget", {"uri": "viking://resources/code"})
    assert refused.is_error
    assert "recursive" in text_of(refused)
    gone = await mcp.call_tool("forget", {"uri": "viking://resources/code", "recursive": True})
    assert text_of(gone) == "Deleted: viking://resources/code"
    assert not (await service.glob(service.dev_context(), "**", uri="viking://resources"))[
        "matches"
    ]


async def test_add_resource_local_path_over_stdio_identity(mcp: Client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "handbook.md"
    source.write_text("# Handbook\n\nVacation requests go to the team lead.\n")
    result = await mcp.call_tool("add_resource", {"path": str(source), "wait": True})
    assert not result.is_error, text_of(result)
    assert text_of(result) == "Resource added: viking://resources/handbook"
    found = await mcp.call_tool("find", {"query": "who approves vacation requests"})
    assert "viking://resources/handbook" in text_of(found)
    neither = await mcp.call_tool("add_resource", {})
    assert neither.is_error
    assert "Give path (URL or local path) or temp_file_id" in text_of(neither)


async def test_add_resource_takes_description_as_reason(
    mcp: Client, service: ContextService, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "rota.md"
    source.write_text("# Rota\n\nOn-call swaps go through the rota channel.\n")
    args = {"path": str(source), "description": "On-call rules"}
    result = await mcp.call_tool("add_resource", args)
    assert not result.is_error, text_of(result)
    task_id = result.structured_content["task_id"]
    record = await service.store.tasks.get(task_id, service.dev_context())
    assert record.payload["reason"] == "On-call rules"
    await service.store.tasks.wait(task_id, timeout=60)


async def test_health_reports_identity(mcp: Client) -> None:
    result = await mcp.call_tool("health", {})
    assert text_of(result).startswith("OpenViking is healthy")
    assert result.structured_content["identity"] == "default/default (admin)"
    assert result.structured_content["ready"]["status"] == "ready"


async def test_health_reports_failed_tasks_without_turning_unhealthy(
    mcp: Client, service: ContextService
) -> None:
    async def broken(handle: object) -> dict[str, object]:
        raise ValueError("the parser gave up")

    service.store.tasks.register("mcp_health_probe", broken)
    ctx = service.dev_context()
    task_id = await service.store.tasks.submit("mcp_health_probe", ctx, {}, max_attempts=1)
    assert (await service.store.tasks.wait(task_id, timeout=30)).status == "failed"
    result = await mcp.call_tool("health", {})
    text = text_of(result)
    assert text.startswith("OpenViking is healthy"), text
    assert "1 failed task(s) retained" in text
    assert "the parser gave up" in text
    assert result.structured_content["healthy"] is True
    assert result.structured_content["tasks"]["failed"] == 1


async def test_search_list_and_context_modes(mcp: Client, service: ContextService) -> None:
    ctx = service.dev_context()
    await service.write(
        ctx,
        "viking://user/default/memories/preferences/editor.md",
        "The user prefers Neovim with a dark theme for editing code.",
        mode="create",
        wait=True,
    )
    await _write(
        mcp, "viking://resources/guides/editors.md", "Team editor guide: Neovim and VS Code."
    )
    listed = await mcp.call_tool("search", {"query": "which editor does the user like"})
    assert not listed.is_error, text_of(listed)
    assert text_of(listed).startswith("Found ")
    assert listed.structured_content["mode"] == "list"
    assert listed.structured_content["query_plan"]["queries"]

    context = await mcp.call_tool(
        "search",
        {"query": "which editor does the user like", "mode": "context", "max_tokens": 400},
    )
    assert not context.is_error, text_of(context)
    structured = context.structured_content
    assert structured["mode"] == "context"
    assert structured["stats"]["used_tokens"] <= 400
    assert text_of(context) == structured["rendered"]
    assert '<memory uri="viking://user/default/memories/preferences/editor.md"' in text_of(context)
    categories = [e["category"] for e in structured["entries"]]
    assert categories[0] == "preferences"

    refused = await mcp.call_tool(
        "search",
        {"query": "x", "mode": "context", "target_uri": "viking://resources"},
    )
    assert refused.is_error
    assert "target_uri" in text_of(refused)


async def test_unknown_session_searches_as_find(mcp: Client) -> None:
    await _write(mcp, "viking://resources/zoo/okapi.md", "Okapi feeding rota.")
    result = await mcp.call_tool("search", {"query": "okapi feeding", "session_id": "nope"})
    assert not result.is_error
    assert "viking://resources/zoo/okapi.md" in text_of(result)


async def test_add_skill_tool(mcp: Client, service: ContextService) -> None:
    tools = {t.name: t for t in (await mcp.list_tools()).tools}
    assert "add_skill" in tools
    assert "anyOf" not in json.dumps(tools["add_skill"].input_schema)
    tool = {
        "name": "get_weather",
        "description": "Current weather for a city",
        "inputSchema": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
        },
    }
    added = await mcp.call_tool("add_skill", {"skill": tool, "wait": True})
    assert not added.is_error, text_of(added)
    assert text_of(added) == "Added skill get-weather: viking://user/default/skills/get-weather"
    assert added.structured_content["action"] == "create"
    assert added.structured_content["root_uri"] == "viking://user/default/skills/get-weather"
    assert sorted(added.structured_content["queue_status"]) == ["Embedding", "Semantic"]
    shared = await mcp.call_tool(
        "add_skill", {"skill": tool, "target_uri": "viking://agent/skills"}
    )
    assert text_of(shared) == "Added skill get-weather: viking://agent/skills/get-weather"
    md = "---\nname: get-weather\ndescription: Weather, v2\n---\n\nAsk the weather API.\n"
    again = await mcp.call_tool("add_skill", {"skill_md": md})
    assert text_of(again).startswith("Updated skill get-weather")
    prompts = {p.name for p in (await mcp.list_prompts()).prompts}
    assert "get-weather" in prompts
    both = await mcp.call_tool("add_skill", {"skill_md": md, "skill": tool})
    assert both.is_error
    assert "exactly one" in text_of(both)
    bad = await mcp.call_tool("add_skill", {"skill_md": "no front matter"})
    assert bad.is_error
    assert "frontmatter" in text_of(bad)
    assert [s["name"] for s in await service.list_skills(service.dev_context())] == ["get-weather"]


async def test_copy_tool(mcp: Client) -> None:
    await _write(mcp, "viking://resources/cpt/a.md", "copy me")
    done = await mcp.call_tool(
        "copy", {"from_uri": "viking://resources/cpt/a.md", "to_uri": "viking://resources/cpt/b.md"}
    )
    assert text_of(done) == (
        "Copied viking://resources/cpt/a.md to viking://resources/cpt/b.md (1 file(s))."
    )
    assert done.structured_content is not None
    assert done.structured_content["to"] == "viking://resources/cpt/b.md"
    read = await mcp.call_tool("read", {"uris": "viking://resources/cpt/b.md"})
    assert text_of(read) == "copy me"
    folder = await mcp.call_tool(
        "copy", {"from_uri": "viking://resources/cpt", "to_uri": "viking://resources/cpt2"}
    )
    assert folder.is_error
    assert "recursive" in text_of(folder)
