"""The memory file format: body + MEMORY_FIELDS trailer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from openviking_mcp.contract.errors import ProcessingError
from openviking_mcp.memory.memory_file import (
    MemoryDoc,
    bump_version,
    new_fields,
    parse_memory,
    render_memory,
    strip_memory_fields,
)

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_round_trip_keeps_body_and_fields() -> None:
    fields = {**new_fields("preferences", NOW, source_session="s1"), "topic": "tabs"}
    body = "# Tabs\n\nUser prefers tabs over spaces.\n"
    text = render_memory(body, fields)
    assert text.endswith("-->\n")
    assert "\n\n<!-- MEMORY_FIELDS\n{\n" in text
    assert parse_memory(text) == MemoryDoc(body.rstrip(), fields)
    assert fields == {
        "memory_type": "preferences",
        "version": 1,
        "created_at": "2026-11-23T09:30:00Z",
        "updated_at": "2026-11-23T09:30:00Z",
        "source_sessions": ["s1"],
        "tags": [],
        "topic": "tabs",
    }


def test_public_reads_strip_the_trailer() -> None:
    text = render_memory("User prefers tea.", {"memory_type": "preferences", "version": 3})
    assert strip_memory_fields(text) == "User prefers tea.\n"
    assert strip_memory_fields("no trailer here\n") == "no trailer here\n"


def test_a_file_without_trailer_has_no_fields() -> None:
    assert parse_memory("# Notes\n\nhello\n") == MemoryDoc("# Notes\n\nhello", {})


def test_comment_closers_in_values_cannot_end_the_block_early() -> None:
    fields = {"memory_type": "entities", "note": "a --> b <!-- c"}
    text = render_memory("body with --> arrow", fields)
    assert text.count("-->") == 2  # the body's and the block's end
    assert parse_memory(text).fields == fields
    assert strip_memory_fields(text) == "body with --> arrow\n"


def test_only_the_final_block_is_the_trailer() -> None:
    body = "Quoted example:\n\n<!-- MEMORY_FIELDS\n{}\n-->\n\nmore text"
    text = render_memory(body, {"version": 1})
    doc = parse_memory(text)
    assert doc.body == body
    assert doc.fields == {"version": 1}


def test_a_broken_block_is_an_error_not_silent_loss() -> None:
    with pytest.raises(ProcessingError, match="not valid JSON"):
        parse_memory("body\n\n<!-- MEMORY_FIELDS\n{broken\n-->\n")
    with pytest.raises(ProcessingError, match="not a JSON object"):
        parse_memory("body\n\n<!-- MEMORY_FIELDS\n[1, 2]\n-->\n")


def test_bump_version() -> None:
    fields = new_fields("profile", NOW)
    bumped = bump_version(fields, LATER)
    assert bumped["version"] == 2
    assert bumped["created_at"] == "2026-11-23T09:30:00Z"
    assert bumped["updated_at"] == "2026-11-24T08:00:00Z"
    assert fields["version"] == 1  # not mutated
    fresh = bump_version({}, datetime(2026, 1, 1))  # naive is UTC
    assert fresh == {
        "version": 1,
        "updated_at": "2026-01-01T00:00:00Z",
        "created_at": "2026-01-01T00:00:00Z",
    }
