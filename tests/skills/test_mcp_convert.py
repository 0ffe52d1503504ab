"""MCP tool → skill conversion and the rendered SKILL.md (seed 004 "MCP Tool Conversion")."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.skills import mcp_tool_to_skill, parse_skill_md, render_skill_md

SEED_TOOL: dict[str, Any] = {
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

# Copied from seed 004's "Output (Skill)" block; the file ends with one "\n" after it.
SEED_OUTPUT = """---
name: search-web
description: Search the web
---

# search-web

Search the web

## Parameters

- **query** (string) (required): Search query
- **limit** (integer) (optional): Max results

## Usage

This tool wraps the MCP tool `search-web`. Call this when the user needs functionality matching the description above."""  # noqa: E501


def _tool(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required is not None:
        schema["required"] = required
    return {"name": "t", "description": "A tool", "inputSchema": schema}


def _parameter_lines(tool: dict[str, Any]) -> list[str]:
    body = mcp_tool_to_skill(tool).content
    section = body.split("## Parameters\n\n", 1)[1].split("\n\n## Usage", 1)[0]
    return section.split("\n")


def test_seed_example_renders_byte_for_byte() -> None:
    assert render_skill_md(mcp_tool_to_skill(SEED_TOOL)) == SEED_OUTPUT + "\n"


def test_seed_example_fields() -> None:
    skill = mcp_tool_to_skill(SEED_TOOL)
    assert skill.name == "search-web"
    assert skill.description == "Search the web"
    assert skill.source == "mcp_tool"
    assert skill.metadata == {}
    assert not skill.content.startswith("---")  # the body carries no front matter of its own


def test_rendered_skill_md_parses_back_to_the_same_skill() -> None:
    skill = mcp_tool_to_skill(SEED_TOOL, source={"server": "web", "transport": "stdio"})
    again = parse_skill_md(render_skill_md(skill))
    assert (again.name, again.description, again.content, again.metadata) == (
        skill.name,
        skill.description,
        skill.content,
        skill.metadata,
    )


def test_source_is_recorded_in_metadata() -> None:
    skill = mcp_tool_to_skill(SEED_TOOL, source={"server": "web", "transport": "stdio"})
    assert skill.metadata == {"mcp": {"server": "web", "transport": "stdio", "tool": "search_web"}}
    rendered = render_skill_md(skill)
    assert rendered.count("\n---\n") == 1  # one front-matter block, closed once
    assert "metadata:\n  mcp:\n    server: web\n" in rendered


def test_description_needing_quotes_round_trips() -> None:
    tool = {**SEED_TOOL, "description": "Run: the thing # now"}
    rendered = render_skill_md(mcp_tool_to_skill(tool))
    assert "description: 'Run: the thing # now'\n" in rendered
    front = yaml.safe_load(rendered.split("---\n")[1])
    assert front["description"] == "Run: the thing # now"


@pytest.mark.parametrize(
    "description",
    ["- starts like a list", "yes", "multi\nline: text", "'quoted'", "{not: a map}", "ünïcode"],
)
def test_awkward_descriptions_round_trip(description: str) -> None:
    skill = mcp_tool_to_skill({**SEED_TOOL, "description": description})
    assert parse_skill_md(render_skill_md(skill)).description == description.strip()


def test_no_parameters_section_without_properties() -> None:
    body = mcp_tool_to_skill({"name": "ping", "description": "Ping", "inputSchema": {}}).content
    assert "## Parameters" not in body
    assert body == (
        "# ping\n\nPing\n\n## Usage\n\nThis tool wraps the MCP tool `ping`. Call this when the "
        "user needs functionality matching the description above."
    )


def test_enum_and_default() -> None:
    tool = _tool(
        {
            "mode": {"type": "string", "enum": ["a", "b"], "description": "Mode"},
            "limit": {"type": "integer", "default": 10},
        }
    )
    assert _parameter_lines(tool) == [
        '- **mode** (string) (optional): Mode (one of: "a", "b")',
        "- **limit** (integer) (optional): default: 10",
    ]


def test_parameter_without_description_has_no_trailing_colon() -> None:
    assert _parameter_lines(_tool({"q": {"type": "string"}}, ["q"])) == [
        "- **q** (string) (required)"
    ]


def test_arrays_unions_and_missing_type() -> None:
    tool = _tool(
        {
            "tags": {"type": "array", "items": {"type": "string"}},
            "bare": {"type": "array"},
            "maybe": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "either": {"oneOf": [{"type": "integer"}, {"type": "boolean"}]},
            "listed": {"type": ["number", "null"]},
            "anything": {},
        }
    )
    assert _parameter_lines(tool) == [
        "- **tags** (array of string) (optional)",
        "- **bare** (array) (optional)",
        "- **maybe** (string | null) (optional)",
        "- **either** (integer | boolean) (optional)",
        "- **listed** (number | null) (optional)",
        "- **anything** (any) (optional)",
    ]


def test_array_of_objects_lists_item_properties() -> None:
    tool = _tool(
        {
            "rows": {
                "type": "array",
                "description": "Rows",
                "items": {
                    "type": "object",
                    "properties": {"id": {"type": "string", "description": "Row id"}},
                    "required": ["id"],
                },
            }
        }
    )
    assert _parameter_lines(tool) == [
        "- **rows** (array of object) (optional): Rows",
        "  - **id** (string) (required): Row id",
    ]


def test_nested_objects_are_indented_and_depth_capped() -> None:
    def level(n: int) -> dict[str, Any]:
        if n == 0:
            return {"type": "string"}
        return {"type": "object", "properties": {f"l{n - 1}": level(n - 1)}}

    lines = _parameter_lines(_tool({"l6": level(6)}))
    assert lines == [
        "- **l6** (object) (optional)",
        "  - **l5** (object) (optional)",
        "    - **l4** (object) (optional)",
        "      - **l3** (object) (optional)",
    ]  # four bullet levels; l2 and deeper are cut


def test_local_refs_are_followed() -> None:
    tool = {
        "name": "t",
        "description": "d",
        "inputSchema": {
            "type": "object",
            "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}}},
            "properties": {"at": {"$ref": "#/$defs/Point", "description": "Where"}},
        },
    }
    assert _parameter_lines(tool) == [
        "- **at** (object) (optional): Where",
        "  - **x** (number) (optional)",
    ]


def test_multiline_parameter_description_stays_on_one_bullet() -> None:
    lines = _parameter_lines(_tool({"q": {"type": "string", "description": "Line one\nline two"}}))
    assert lines == ["- **q** (string) (optional): Line one line two"]


def test_missing_name_and_description_defaults() -> None:
    skill = mcp_tool_to_skill({"inputSchema": {}})
    assert skill.name == "unnamed-tool"
    assert skill.description == "MCP tool unnamed-tool"


@pytest.mark.parametrize(
    ("tool", "field"),
    [
        ({"name": "bad name!", "inputSchema": {}}, "name"),
        ({"name": 3, "inputSchema": {}}, "name"),
        ({"name": "ok", "description": 5, "inputSchema": {}}, "description"),
        ({"name": "ok", "inputSchema": "nope"}, "inputSchema"),
    ],
)
def test_bad_tools_name_the_field(tool: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        mcp_tool_to_skill(tool)
    assert info.value.details["field"] == field
    assert info.value.http_status == 400
