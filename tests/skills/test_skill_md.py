"""SKILL.md text (seed 004 format 3): parsing the front matter and rendering one block."""

from __future__ import annotations

import pytest
import yaml

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.skills import Skill, parse_skill_md, render_skill_md

SEED_SKILL_MD = """---
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

## Parameters
- **language** (string, required): Programming language
- **code** (string, required): Code to execute
- **timeout** (integer, optional): Timeout in seconds
"""


def test_seed_format_3() -> None:
    skill = parse_skill_md(SEED_SKILL_MD)
    assert skill.name == "code-runner"
    assert skill.description == "Execute code in various languages"
    assert skill.allowed_tools == ["FileSystem", "ProcessRunner"]
    assert skill.tags == ["code", "execution"]
    assert skill.content.startswith("# code-runner\n\nExecute code")
    assert skill.content.endswith("Timeout in seconds")  # body stripped
    assert skill.source == "skill_md"


def test_seed_format_3_renders_back_identically() -> None:
    assert render_skill_md(parse_skill_md(SEED_SKILL_MD)) == SEED_SKILL_MD


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Read Write", ["Read", "Write"]),
        ("Read, Write,Grep", ["Read", "Write", "Grep"]),
        ("Bash(git add:*) Read", ["Bash(git add:*)", "Read"]),
        ("Bash(npm run, test) , Edit", ["Bash(npm run, test)", "Edit"]),
        ("''", []),
        ("[Read, Write]", ["Read", "Write"]),
    ],
)
def test_allowed_tools_string_and_list_forms(value: str, expected: list[str]) -> None:
    text = f"---\nname: s\ndescription: d\nallowed-tools: {value}\n---\nbody\n"
    assert parse_skill_md(text).allowed_tools == expected


def test_scalar_tag_becomes_a_list_and_metadata_is_kept() -> None:
    text = (
        "---\nname: s\ndescription: d\ntags: web\nmetadata:\n  version: 2\n"
        "  released: 2024-05-01\nlicense: MIT\n---\nbody"
    )
    skill = parse_skill_md(text)
    assert skill.tags == ["web"]
    # Dates become ISO strings; keys without a field of their own land in metadata.
    assert skill.metadata == {"version": 2, "released": "2024-05-01", "license": "MIT"}


def test_crlf_and_bom_are_accepted() -> None:
    skill = parse_skill_md("\ufeff---\r\nname: s\r\ndescription: d\r\n---\r\nbody\r\n")
    assert (skill.name, skill.description, skill.content) == ("s", "d", "body")


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("# no front matter\n", "frontmatter", "SKILL.md must have YAML frontmatter"),
        ("---\nname: s\ndescription: d\n", "frontmatter", "not closed"),
        ("---\n- a\n- b\n---\nbody", "frontmatter", "must be a YAML mapping"),
        ("---\n---\nbody", "frontmatter", "must be a YAML mapping"),
        ("---\ndescription: d\n---\nbody", "name", "Skill must have 'name' field"),
        ("---\nname: s\n---\nbody", "description", "Skill must have 'description' field"),
        ("---\nname: s\ndescription: '  '\n---\n", "description", "must not be empty"),
        ("---\nname: s\ndescription: [1]\n---\n", "description", "must be a string"),
        ("---\nname: s\ndescription: d\ntags: [1, 2]\n---\n", "tags", "list of strings"),
        ("---\nname: s\ndescription: d\nallowed-tools: 3\n---\n", "allowed-tools", "strings"),
        ("---\nname: s\ndescription: d\nmetadata: [x]\n---\n", "metadata", "mapping"),
        ("---\nname: bad name\ndescription: d\n---\n", "name", "Invalid skill name"),
        ("---\nname: " + "x" * 65 + "\ndescription: d\n---\n", "name", "at most 64"),
    ],
)
def test_bad_skill_md_names_the_field(text: str, field: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        parse_skill_md(text)
    assert info.value.details["field"] == field
    assert message in info.value.message


def test_invalid_yaml_reports_its_line() -> None:
    text = "---\nname: s\ndescription: d\ntags: [a, b\n---\nbody"
    with pytest.raises(InvalidArgumentError) as info:
        parse_skill_md(text)
    assert info.value.message.startswith("Invalid YAML in SKILL.md front matter (line ")
    line = info.value.details["line"]
    assert isinstance(line, int)
    assert 4 <= line <= 5  # the unclosed flow sequence starts on line 4 of the file


def test_alias_bomb_in_metadata_is_refused() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 8):
        bomb += f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]\n"
    text = "---\nname: s\ndescription: d\nmetadata:\n" + "".join(
        "  " + line + "\n" for line in bomb.splitlines()
    )
    with pytest.raises(InvalidArgumentError, match="too large"):
        parse_skill_md(text + "---\n")


def test_render_orders_fields_and_omits_empty_ones() -> None:
    skill = Skill(
        name="s",
        description="d",
        content="\n\nBody\n\n",
        allowed_tools=["Read"],
        tags=["t"],
        metadata={"k": {"n": 1}},
    )
    assert render_skill_md(skill) == (
        "---\nname: s\ndescription: d\nallowed-tools:\n  - Read\ntags:\n  - t\n"
        "metadata:\n  k:\n    n: 1\n---\n\nBody\n"
    )
    bare = Skill(name="s", description="d")
    assert render_skill_md(bare) == "---\nname: s\ndescription: d\n---\n"


def test_render_round_trips_awkward_values() -> None:
    skill = Skill(
        name="s",
        description="Run: the thing # now",
        content="body",
        allowed_tools=["Bash(git add:*)", "*"],
        tags=["null", "123", "a: b"],
        metadata={"note": "line1\nline2", "flag": "yes"},
    )
    rendered = render_skill_md(skill)
    front = yaml.safe_load(rendered.split("---\n")[1])
    assert front == {
        "name": "s",
        "description": "Run: the thing # now",
        "allowed-tools": ["Bash(git add:*)", "*"],
        "tags": ["null", "123", "a: b"],
        "metadata": {"note": "line1\nline2", "flag": "yes"},
    }
    again = parse_skill_md(rendered)
    assert again.model_dump(exclude={"source"}) == skill.model_dump(exclude={"source"})
