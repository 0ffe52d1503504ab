"""Field-level merges: immutable, replace, sum and patch (blocks and appends)."""

from __future__ import annotations

from typing import Any

from openviking_mcp.memory.memory_schema import MemorySchema, load_schemas
from openviking_mcp.memory.merge import merge_memory

BODY = "User prefers green tea.\n\nUser drinks it without sugar."


def _schema(name: str) -> MemorySchema:
    return load_schemas()[name]


def _custom() -> MemorySchema:
    return MemorySchema.model_validate(
        {
            "memory_type": "habits",
            "description": "Habits.",
            "directory": "memories/habits",
            "filename_template": "{habit}.md",
            "fields": [
                {"name": "habit", "merge_op": "immutable"},
                {"name": "count", "type": "number", "merge_op": "sum"},
                {"name": "score", "type": "number", "merge_op": "replace"},
                {"name": "labels", "type": "list", "merge_op": "patch"},
                {"name": "owners", "type": "list", "merge_op": "replace"},
                {"name": "status", "merge_op": "replace"},
                {"name": "content", "merge_op": "patch"},
            ],
        }
    )


def test_patch_blocks_apply_in_order() -> None:
    update = {
        "content": [
            {"search": "green tea", "replace": "jasmine tea"},
            {"delete": "User drinks it without sugar."},
        ]
    }
    result = merge_memory(_schema("preferences"), {"topic": "tea"}, BODY, update)
    assert result.body == "User prefers jasmine tea."
    assert result.applied == ["content"]
    assert result.problems == []


def test_a_patch_that_does_not_apply_is_reported_not_applied() -> None:
    update = {
        "content": [
            {"search": "black coffee", "replace": "espresso"},  # not found
            {"search": "User", "replace": "The user"},  # twice
            {"search": "without sugar", "replace": "with honey"},  # fine
            {"replace": "no search"},  # malformed
            {"search": "", "replace": "x"},  # empty search
        ]
    }
    result = merge_memory(_schema("preferences"), {}, BODY, update)
    assert result.body == "User prefers green tea.\n\nUser drinks it with honey."
    assert result.applied == ["content"]
    assert len(result.problems) == 4
    assert "block 1" in result.problems[0]
    assert "not found" in result.problems[0]
    assert "block 2" in result.problems[1]
    assert "more than once" in result.problems[1]
    assert "block 4" in result.problems[2]
    assert "block 5" in result.problems[3]


def test_overlapping_matches_count_as_more_than_once() -> None:
    result = merge_memory(_schema("preferences"), {}, "aaa", {"content": [{"delete": "aa"}]})
    assert result.body == "aaa"
    assert result.applied == []
    assert "more than once" in result.problems[0]


def test_a_plain_string_appends_unless_already_there() -> None:
    schema = _schema("preferences")
    appended = merge_memory(schema, {}, BODY, {"content": "User avoids caffeine after 6pm."})
    assert appended.body == BODY + "\n\nUser avoids caffeine after 6pm."
    assert appended.applied == ["content"]
    for same in ("user prefers GREEN tea.", "The user prefers green tea!"):
        unchanged = merge_memory(schema, {}, BODY, {"content": same})
        assert unchanged.body == BODY
        assert unchanged.applied == []
        assert unchanged.problems == []
    empty = merge_memory(schema, {}, "", {"content": "User prefers tea."})
    assert empty.body == "User prefers tea."


def test_immutable_fields_never_change() -> None:
    schema = _schema("entities")
    existing = {"category": "person", "name": "Ann Lee", "version": 4}
    same = merge_memory(schema, existing, "", {"name": "ann  lee"})
    assert same.problems == []
    assert same.applied == []
    conflict = merge_memory(schema, existing, "", {"name": "Bob", "category": "person"})
    assert conflict.fields == existing
    assert conflict.applied == []
    assert len(conflict.problems) == 1
    assert "entities.name is immutable" in conflict.problems[0]
    first = merge_memory(schema, {}, "", {"category": "person"})
    assert first.fields == {"category": "person"}
    assert first.applied == ["category"]


def test_replace_sum_and_lists() -> None:
    existing: dict[str, Any] = {
        "habit": "run",
        "count": 2,
        "score": 1.5,
        "labels": ["a", "b"],
        "owners": ["x"],
        "status": "old",
        "tags": ["t1"],
        "version": 3,
    }
    update = {
        "count": 3,
        "score": 2,
        "labels": ["b", "c", {"delete": "a"}],
        "owners": ["y", "z"],
        "status": "new",
        "tags": ["t2", "t1"],
    }
    result = merge_memory(_custom(), existing, "body", update)
    assert result.problems == []
    assert result.fields == {
        "habit": "run",
        "count": 5,
        "score": 2,
        "labels": ["b", "c"],
        "owners": ["y", "z"],
        "status": "new",
        "tags": ["t1", "t2"],
        "version": 3,
    }
    assert sorted(result.applied) == ["count", "labels", "owners", "score", "status", "tags"]
    assert existing["count"] == 2  # the input is not mutated


def test_bad_values_are_reported() -> None:
    update = {
        "count": "three",
        "score": True,
        "status": {"a": 1},
        "labels": [{"delete": "missing"}],
        "nonsense": 1,
    }
    result = merge_memory(_custom(), {"count": 1, "labels": ["a"]}, "body", update)
    assert result.fields == {"count": 1, "labels": ["a"]}
    assert result.applied == []
    assert len(result.problems) == 5
    assert any("no such field" in p for p in result.problems)
    assert any("not a number" in p for p in result.problems)


def test_replace_on_content() -> None:
    result = merge_memory(_schema("events"), {}, "old", {"content": "new story"})
    assert result.body == "new story"
    assert result.applied == ["content"]
