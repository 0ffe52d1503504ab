"""Cheap text similarity and de-duplication of one batch of operations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from openviking_mcp.memory.dedup import NEAR_DUPLICATE, dedupe_operations, text_similarity
from openviking_mcp.memory.operations import MemoryOperation

WHEN = datetime(2026, 11, 23, tzinfo=UTC)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("User prefers dark mode.", "The user prefers dark mode!"),
        ("User prefers dark mode.", "user PREFERS   dark-mode"),
        ("User likes green tables", "User likes green table."),
        ("深色模式很好", "深色模式很好。"),
    ],
)
def test_near_duplicates_reach_the_threshold(a: str, b: str) -> None:
    assert text_similarity(a, b) >= NEAR_DUPLICATE


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("User prefers dark mode.", "User prefers dark mode in editors."),
        ("User prefers tea.", "User prefers coffee."),
        ("User prefers tabs over spaces.", "User prefers spaces over tabs in Go."),
        ("Deployed billing on Friday.", "Ann lives in Berlin."),
    ],
)
def test_different_statements_stay_below(a: str, b: str) -> None:
    assert text_similarity(a, b) < NEAR_DUPLICATE


def test_similarity_bounds() -> None:
    assert NEAR_DUPLICATE == 0.85
    assert text_similarity("", "") == 1.0
    assert text_similarity("word", "") == 0.0
    assert text_similarity("alpha beta", "gamma delta") == 0.0
    assert text_similarity("alpha beta", "alpha beta") == 1.0


def _add(memory_type: str, **fields: object) -> MemoryOperation:
    return MemoryOperation(op="add", memory_type=memory_type, fields=dict(fields))


def test_same_target_is_folded_into_the_first() -> None:
    ops = [
        _add("preferences", topic="Tea", content="User prefers green tea."),
        _add("preferences", topic="tea", content="User dislikes sweet tea."),
        _add("preferences", topic="TEA", content="The user prefers green tea!"),
    ]
    out = dedupe_operations(ops, when=WHEN)
    assert len(out) == 1
    assert out[0].fields["content"] == "User prefers green tea.\n\nUser dislikes sweet tea."


def test_replace_fields_take_the_later_value_and_immutable_the_first() -> None:
    ops = [
        _add("profile", name="Ann", content="User's name is Ann."),
        _add("profile", name="Annie", location="Berlin", content="User lives in Berlin."),
    ]
    (out,) = dedupe_operations(ops, when=WHEN)
    assert out.fields["name"] == "Annie"
    assert out.fields["location"] == "Berlin"


def test_near_duplicate_content_of_the_same_type_is_dropped() -> None:
    ops = [
        _add("events", event_name="deploy", content="We deployed the billing service."),
        _add("events", event_name="billing", content="we deployed the billing service"),
        _add("cases", case_name="deploy", content="We deployed the billing service."),
    ]
    out = dedupe_operations(ops, when=WHEN)
    assert [(o.memory_type, o.fields.get("event_name")) for o in out] == [
        ("events", "deploy"),
        ("cases", None),
    ]


def test_updates_of_one_uri_merge_and_a_contradicting_delete_is_dropped() -> None:
    uri = "viking://user/u/memories/preferences/tea.md"
    block_a = {"search": "green", "replace": "jasmine"}
    block_b = {"delete": "sweet"}
    ops = [
        MemoryOperation(
            op="update", memory_type="preferences", uri=uri, fields={"content": [block_a]}
        ),
        MemoryOperation(op="delete", memory_type="preferences", uri=uri),
        MemoryOperation(
            op="update", memory_type="preferences", uri=uri, fields={"content": [block_b]}
        ),
        MemoryOperation(op="delete", memory_type="preferences", uri=uri + "x"),
        MemoryOperation(op="delete", memory_type="preferences", uri=uri + "x"),
    ]
    out = dedupe_operations(ops, when=WHEN)
    assert [o.op for o in out] == ["update", "delete"]
    assert out[0].fields["content"] == [block_a, block_b]
