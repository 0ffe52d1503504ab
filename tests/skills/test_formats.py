"""``parse_skill``: the dispatch between the four input formats of seed 004 (§6.2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from openviking_mcp.contract.errors import InvalidArgumentError, PermissionDeniedError
from openviking_mcp.skills import HTTP_PATH_REFUSED, looks_like_path, parse_skill

SEED_DICT: dict[str, Any] = {
    "name": "search-web",
    "description": "Search the web for current information",
    "content": "# search-web\n\nSearch the web for current information.\n\n## Parameters\n"
    "- **query** (string, required): Search query\n"
    "- **limit** (integer, optional): Max results, default 10",
    "allowed_tools": ["HttpClient", "JsonParser"],
    "tags": ["web", "search"],
}
SKILL_MD = "---\nname: from-text\ndescription: From text\n---\n\n# from-text\n"


def test_format_1_skill_dict() -> None:
    skill = parse_skill(SEED_DICT, allow_paths=False)
    assert skill.name == "search-web"
    assert skill.description == "Search the web for current information"
    assert skill.content == SEED_DICT["content"]
    assert skill.allowed_tools == ["HttpClient", "JsonParser"]
    assert skill.tags == ["web", "search"]
    assert skill.source == "skill_dict"


def test_format_1_accepts_dashed_allowed_tools_and_keeps_underscores_in_names() -> None:
    data = {"name": "my_skill", "description": "d", "allowed-tools": "Read, Write"}
    skill = parse_skill(data, allow_paths=False)
    assert skill.name == "my_skill"  # only the MCP path rewrites "_" to "-"
    assert skill.allowed_tools == ["Read", "Write"]
    assert skill.content == ""


def test_format_1_both_allowed_tools_spellings_is_an_error() -> None:
    data = {"name": "s", "description": "d", "allowed_tools": [], "allowed-tools": []}
    with pytest.raises(InvalidArgumentError) as info:
        parse_skill(data, allow_paths=False)
    assert info.value.details["field"] == "allowed_tools"


def test_format_1_content_with_its_own_front_matter_keeps_one_block() -> None:
    data = {
        "name": "s",
        "description": "From the dict",
        "content": "---\nname: s\ndescription: From content\ntags: [x]\n---\n\n# Body",
    }
    skill = parse_skill(data, allow_paths=False)
    assert skill.description == "From the dict"  # the dict wins
    assert skill.tags == ["x"]  # the block fills in what the dict lacks
    assert skill.content == "# Body"


def test_format_1_content_starting_with_a_rule_is_kept() -> None:
    data = {"name": "s", "description": "d", "content": "---\n\nJust a rule above."}
    assert parse_skill(data, allow_paths=False).content == "---\n\nJust a rule above."


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"description": "d"}, "name", "Skill must have 'name' field"),
        ({"name": "s", "description": 3}, "description", "must be a string"),
        ({"name": "s", "description": "d", "content": 3}, "content", "must be a string"),
        ({"name": "s", "description": "d", "tags": "a b"}, None, None),
        ({"name": "s", "description": "d", "tags": [None]}, "tags", "list of strings"),
        ({"name": "s", "description": "d", "allowed_tools": [1]}, "allowed_tools", "strings"),
        ({"name": "s", "description": "d", "metadata": "m"}, "metadata", "mapping"),
        ({"name": "a/b", "description": "d"}, "name", "Invalid skill name"),
        ({"name": "x" * 65, "description": "d"}, "name", "at most 64"),
    ],
)
def test_format_1_bad_fields(data: dict[str, Any], field: str | None, message: str | None) -> None:
    if field is None:  # a scalar tag is fine: it becomes a one-element list
        assert parse_skill(data, allow_paths=False).tags == ["a b"]
        return
    with pytest.raises(InvalidArgumentError) as info:
        parse_skill(data, allow_paths=False)
    assert info.value.details["field"] == field
    assert message is not None
    assert message in info.value.message


@pytest.mark.parametrize(
    "data", [{"name": "s"}, {"name": "s", "description": None}, {"name": "s", "description": " "}]
)
def test_format_1_only_a_name_is_required(data: dict[str, Any]) -> None:
    """As the original: a skill dict needs only its name; description and content are ""."""
    skill = parse_skill(data, allow_paths=False)
    assert (skill.name, skill.description, skill.content) == ("s", "", "")


def test_format_1_unknown_keys_are_kept_in_metadata() -> None:
    data = {"name": "s", "description": "d", "metadata": {"a": 1}, "version": "2", "a": 9}
    assert parse_skill(data, allow_paths=False).metadata == {"a": 1, "version": "2"}


def test_format_2_mcp_tool_is_detected_by_input_schema() -> None:
    tool = {
        "name": "calculator",
        "description": "Perform mathematical calculations",
        "inputSchema": {
            "type": "object",
            "properties": {
                "expression": {
                    "type": "string",
                    "description": "Mathematical expression to evaluate",
                }
            },
            "required": ["expression"],
        },
    }
    skill = parse_skill(tool, allow_paths=False)
    assert skill.source == "mcp_tool"
    assert (
        "- **expression** (string) (required): Mathematical expression to evaluate" in skill.content
    )


def test_format_3_string() -> None:
    skill = parse_skill(SKILL_MD, allow_paths=False)
    assert (skill.name, skill.content, skill.source) == ("from-text", "# from-text", "skill_md")


def test_bytes_are_skill_md_text() -> None:
    assert parse_skill(SKILL_MD.encode(), allow_paths=False).name == "from-text"
    with pytest.raises(InvalidArgumentError) as info:
        parse_skill(b"\xff\xfe\x00", allow_paths=False)
    assert info.value.details["field"] == "data"


def test_string_without_front_matter() -> None:
    with pytest.raises(InvalidArgumentError, match=r"SKILL\.md must have YAML frontmatter"):
        parse_skill("# just markdown\n\nno front matter", allow_paths=False)


@pytest.mark.parametrize("data", [42, None, ["a"], 1.5])
def test_unsupported_types(data: object) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        parse_skill(data, allow_paths=False)
    assert info.value.details["field"] == "data"


@pytest.mark.parametrize(
    "text",
    [
        "./skills/search-web/SKILL.md",
        "../x",
        "~/skills/x",
        "/etc/passwd",
        "skills/x",
        "C:\\skills\\x",
        "C:/skills",
        "a\\b",
        "~",
    ],
)
def test_http_refuses_path_like_strings(text: str) -> None:
    assert looks_like_path(text)
    with pytest.raises(PermissionDeniedError) as info:
        parse_skill(text, allow_paths=False)
    assert info.value.message == HTTP_PATH_REFUSED
    assert info.value.http_status == 403


def test_http_refuses_path_objects(tmp_path: Path) -> None:
    with pytest.raises(PermissionDeniedError):
        parse_skill(tmp_path, allow_paths=False)


@pytest.mark.parametrize("text", ["search-web", "---\nname: a/b\n", "no slash here", ""])
def test_not_path_like(text: str) -> None:
    assert not looks_like_path(text)


def test_multiline_string_with_slashes_is_skill_md_not_a_path() -> None:
    text = "---\nname: s\ndescription: Reads ./files and /etc\n---\nSee a/b."
    assert parse_skill(text, allow_paths=False).description == "Reads ./files and /etc"


def test_local_path_string_is_loaded(tmp_path: Path) -> None:
    file = tmp_path / "SKILL.md"
    file.write_text(SKILL_MD, encoding="utf-8")
    skill = parse_skill(str(file), allow_paths=True)
    assert (skill.name, skill.source) == ("from-text", "file")
    assert parse_skill(file, allow_paths=True).name == "from-text"


def test_bare_existing_file_name_is_loaded_locally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "SKILL.md").write_text(SKILL_MD, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert parse_skill("SKILL.md", allow_paths=True).source == "file"


def test_missing_local_path(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        parse_skill(str(tmp_path / "nope" / "SKILL.md"), allow_paths=True)
    assert info.value.details == {"field": "data", "reason": "not_found"}
