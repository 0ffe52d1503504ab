"""Memory category schemas: the shipped ones, custom overrides and where files go."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.memory.memory_schema import load_schemas, memory_relpath, slugify

WHEN = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
BUILTIN = {
    "profile": "memories/profile.md",
    "preferences": "memories/preferences/{topic}.md",
    "entities": "memories/entities/{category}/{name}.md",
    "events": "memories/events/{YYYY}/{MM}/{DD}/{event_name}.md",
    "cases": "memories/cases/{case_name}.md",
    "patterns": "memories/patterns/{pattern_name}.md",
    "identity": "memories/identity.md",
    "experiences": "memories/experiences/{name}.md",
}


def test_builtin_schemas_ship_with_the_package() -> None:
    schemas = load_schemas()
    assert {k: s.path_pattern for k, s in schemas.items()} == BUILTIN
    for schema in schemas.values():
        content = schema.field("content")
        assert content is not None
        assert content.merge_op in ("patch", "replace")
        assert schema.description.strip()
        for name in schema.identity_fields:
            field = schema.field(name)
            assert field is not None
            assert field.merge_op == "immutable"
    assert schemas["events"].operation_mode == "add_only"
    assert schemas["events"].dated
    assert schemas["entities"].identity_fields == ("category", "name")
    assert schemas["profile"].identity_fields == ()


def test_custom_schemas_add_and_override(tmp_path: Path) -> None:
    (tmp_path / "recipes.yaml").write_text(
        "memory_type: recipes\n"
        "description: Dishes the user cooks.\n"
        "directory: memories/recipes\n"
        "filename_template: '{dish}.md'\n"
        "fields:\n"
        "  - {name: dish, type: string, merge_op: immutable}\n"
        "  - {name: content, type: string, merge_op: patch}\n"
    )
    (tmp_path / "prefs.yml").write_text(
        "memory_type: preferences\n"
        "description: Preferences per owner and topic.\n"
        "directory: memories/preferences\n"
        "filename_template: '{owner}/{topic}.md'\n"
        "fields:\n"
        "  - {name: owner, type: string, merge_op: immutable}\n"
        "  - {name: topic, type: string, merge_op: immutable}\n"
        "  - {name: content, type: string, merge_op: replace}\n"
    )
    (tmp_path / "notes.txt").write_text("not a schema")
    schemas = load_schemas(tmp_path)
    assert schemas["recipes"].path_pattern == "memories/recipes/{dish}.md"
    assert schemas["preferences"].identity_fields == ("owner", "topic")
    assert "events" in schemas  # built-ins that are not overridden stay
    assert load_schemas()["preferences"].identity_fields == ("topic",)  # no leak into defaults


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("memory_type: x\ndescription: [unclosed\n", "YAML"),
        ("- just\n- a list\n", "mapping"),
        (
            "memory_type: x\ndescription: d\ndirectory: memories/x\nfilename_template: '{k}.md'\n"
            "fields:\n  - {name: k, merge_op: patch}\n  - {name: content, merge_op: patch}\n",
            "immutable",
        ),
        (
            "memory_type: x\ndescription: d\ndirectory: memories/x\nfilename_template: x.md\n"
            "fields:\n  - {name: body, merge_op: patch}\n",
            "content",
        ),
        (
            "memory_type: x\ndescription: d\ndirectory: memories/x\nfilename_template: '../x.md'\n"
            "fields:\n  - {name: content, merge_op: patch}\n",
            "segment",
        ),
        (
            "memory_type: x\ndescription: d\ndirectory: memories/x\nfilename_template: x.md\n"
            "colour: blue\nfields:\n  - {name: content, merge_op: patch}\n",
            "colour",
        ),
    ],
)
def test_a_bad_custom_schema_names_the_file(tmp_path: Path, text: str, needle: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(InvalidArgumentError) as err:
        load_schemas(tmp_path)
    assert str(bad) in err.value.message
    assert needle in err.value.message
    assert err.value.details["file"] == str(bad)


def test_a_missing_custom_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="not found"):
        load_schemas(tmp_path / "nope")


def test_two_custom_files_for_one_type_are_an_error(tmp_path: Path) -> None:
    text = (
        "memory_type: dup\ndescription: d\ndirectory: memories/dup\nfilename_template: d.md\n"
        "fields:\n  - {name: content, merge_op: patch}\n"
    )
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yaml").write_text(text)
    with pytest.raises(InvalidArgumentError, match="also defined"):
        load_schemas(tmp_path)


def test_paths_render_with_slugs_and_dates() -> None:
    schemas = load_schemas()
    assert (
        memory_relpath(schemas["events"], {"event_name": "Deploy Outage!"}, WHEN)
        == "memories/events/2026/11/23/deploy-outage.md"
    )
    # The event's own date wins over `when`.
    assert (
        memory_relpath(
            schemas["events"], {"event_name": "deploy", "event_date": "2026-01-05"}, WHEN
        )
        == "memories/events/2026/01/05/deploy.md"
    )
    assert (
        memory_relpath(schemas["entities"], {"category": "Person", "name": "Ann Lee"}, WHEN)
        == "memories/entities/person/ann-lee.md"
    )
    assert memory_relpath(schemas["profile"], {}, WHEN) == "memories/profile.md"
    long = memory_relpath(schemas["preferences"], {"topic": "x" * 200}, WHEN)
    assert long == f"memories/preferences/{'x' * 64}.md"


def test_slugs_are_safe() -> None:
    assert slugify("  Café / ../etc/passwd  ") == "cafe-etc-passwd"
    assert slugify("Dark_Mode") == "dark-mode"
    assert slugify("!!!") == ""
    chinese = slugify("深色模式")
    assert chinese.startswith("u-")
    assert chinese == slugify("深色模式")
    assert len(slugify("a-" * 100)) <= 64
    assert not slugify("a-" * 100).endswith("-")


@pytest.mark.parametrize("fields", [{}, {"topic": ""}, {"topic": "?!"}, {"topic": None}])
def test_an_empty_identity_field_names_the_field(fields: dict[str, object]) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        memory_relpath(load_schemas()["preferences"], fields, WHEN)
    assert "'topic'" in err.value.message
    assert err.value.details["field"] == "topic"


def test_a_bad_event_date_names_the_field() -> None:
    with pytest.raises(InvalidArgumentError, match="event_date"):
        memory_relpath(
            load_schemas()["events"], {"event_name": "x", "event_date": "last friday"}, WHEN
        )
