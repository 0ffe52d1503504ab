"""The ``find_skills`` and ``validate_skill`` tools through the real MCP client (in process)."""

from __future__ import annotations

import json

import pytest
from mcp import Client

from openviking_mcp import ContextService
from tests.mcp_server.conftest import text_of

pytestmark = pytest.mark.anyio


async def test_find_skills_tool(mcp: Client, service: ContextService) -> None:
    tools = {t.name: t for t in (await mcp.list_tools()).tools}
    assert tools["find_skills"].annotations.read_only_hint is True
    assert "anyOf" not in json.dumps(tools["find_skills"].input_schema)
    ctx = service.dev_context()
    kettle = {"name": "kettle", "description": "Boil water in a kettle", "content": "Fill it."}
    await service.add_skill(ctx, kettle, target_uri="viking://agent/skills", wait=True)
    found = await mcp.call_tool("find_skills", {"query": "boil water", "limit": 5})
    assert not found.is_error, text_of(found)
    assert text_of(found).startswith("1. kettle (")
    assert "viking://agent/skills/kettle/SKILL.md" in text_of(found)
    hit = found.structured_content["skills"][0]
    assert (hit["name"], hit["skill_md_uri"]) == ("kettle", "viking://agent/skills/kettle/SKILL.md")
    mine = await mcp.call_tool("find_skills", {"query": "boil", "target_uri": "viking://~/skills"})
    assert text_of(mine) == "No matching skills."
    wrong = await mcp.call_tool(
        "find_skills", {"query": "boil", "target_uri": "viking://resources"}
    )
    assert wrong.is_error


async def test_validate_skill_tool(mcp: Client, service: ContextService) -> None:
    ok = await mcp.call_tool(
        "validate_skill", {"skill_md": "---\nname: v\ndescription: d\n---\nbody"}
    )
    assert not ok.is_error, text_of(ok)
    assert text_of(ok) == "Valid: skill v"
    assert ok.structured_content["valid"] is True
    tool = {"name": "get_weather", "description": "Weather", "inputSchema": {"type": "object"}}
    strict = await mcp.call_tool(
        "validate_skill", {"skill": tool, "strict": True, "skill_dir_name": "weather"}
    )
    assert strict.structured_content["valid"] is False
    assert "error [name_matches_directory]" in text_of(strict)
    assert strict.structured_content["name"] == "get-weather"
    broken = await mcp.call_tool("validate_skill", {"skill_md": "no front matter"})
    assert not broken.is_error
    assert text_of(broken).startswith("Not valid\n- error [yaml_format]")
    neither = await mcp.call_tool("validate_skill", {})
    assert neither.is_error
    assert await service.list_skills(service.dev_context()) == []
