"""Skill names (§6.2): trimmed, 1-64 ASCII letters, digits, '-' or '_'."""

from __future__ import annotations

import pytest

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.skills import Skill, validate_skill_name


@pytest.mark.parametrize("name", ["search-web", "search_web", "A1", "x" * 64])
def test_valid_names(name: str) -> None:
    assert validate_skill_name(name) == name


def test_names_are_trimmed() -> None:
    assert validate_skill_name("  code-runner\n") == "code-runner"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 65, "too_long"),
        ("has space", "characters"),
        ("dots.not.ok", "characters"),
        ("slash/no", "characters"),
        ("ünicode", "characters"),
        (None, "type"),
        (42, "type"),
    ],
)
def test_invalid_names_name_the_field(name: object, reason: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        validate_skill_name(name)
    assert info.value.details["field"] == "name"
    assert info.value.details["reason"] == reason
    assert "'name'" in info.value.message


def test_model_validates_and_trims_its_name() -> None:
    assert Skill(name=" ok ", description="d").name == "ok"
    with pytest.raises(InvalidArgumentError):
        Skill(name="not ok", description="d")


def test_model_defaults_and_extra_fields() -> None:
    skill = Skill(name="s", description="d")
    assert (skill.content, skill.allowed_tools, skill.tags, skill.metadata, skill.auxiliary) == (
        "",
        [],
        [],
        {},
        [],
    )
    with pytest.raises(ValueError, match="extra"):
        Skill(name="s", description="d", unknown=1)  # type: ignore[call-arg]
