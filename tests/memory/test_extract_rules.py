"""The no-LLM extractor on a scripted conversation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from openviking_mcp.memory.extract_rules import extract_with_rules
from openviking_mcp.memory.memory_schema import load_schemas, memory_relpath
from openviking_mcp.memory.operations import MemoryOperation, check_operation

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # extraction runs a day later
MONDAY = "2026-11-23T09:00:00Z"  # the messages were written on Monday 23 November


def _user(text: str, at: str = MONDAY) -> dict[str, Any]:
    return {"role": "user", "parts": [{"type": "text", "text": text}], "created_at": at}


CONVERSATION: list[dict[str, Any]] = [
    _user("Hi! My name is Ann Lee. I work at Acme Corp as a data engineer."),
    {
        "role": "assistant",
        "content": "Nice to meet you. I prefer Python myself. Yesterday I deployed a model. "
        "Remember that the sky is green. Do you prefer tabs?",
    },
    _user("Do you prefer tabs or spaces? I prefer spaces over tabs in Python code."),
    _user("Would you like coffee? I don't like long emails. I really love dark mode."),
    _user(
        "On Friday we deployed the new billing service and it broke checkout. "
        "Yesterday I fixed the payment webhook. On 2026-11-02 we migrated the orders database."
    ),
    _user("Remember that the staging database runs on port 5433. I live in Berlin, Germany."),
    _user("I like it. If I prefer tea, tell me. I'd like a summary please. Call me Annie."),
    {
        "role": "assistant",
        "parts": [
            {"type": "text", "text": "Done."},
            {"type": "tool", "tool_name": "search", "tool_output": "I prefer nothing."},
        ],
    },
    {"role": "user", "content": "Your name is Viki.", "created_at": "2026-11-23T10:00:00Z"},
]


def _by_type(ops: list[MemoryOperation]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for op in ops:
        assert op.op == "add"
        out.setdefault(op.memory_type, []).append(op.fields)
    return out


def test_scripted_conversation() -> None:
    ops = extract_with_rules(CONVERSATION, session_id="s-42", now=NOW)
    found = _by_type(ops)

    assert found["preferences"] == [
        {"topic": "spaces", "content": "User prefers spaces over tabs in Python code."},
        {"topic": "long emails", "content": "User does not like long emails."},
        {"topic": "dark mode", "content": "User loves dark mode."},
    ]
    (profile,) = found["profile"]
    assert profile["name"] == "Annie"  # the later statement wins
    assert profile["employer"] == "Acme Corp"
    assert profile["occupation"] == "data engineer"
    assert profile["location"] == "Berlin"
    assert "User's name is Ann Lee." in profile["content"]
    assert "User wants to be called Annie." in profile["content"]
    assert found["identity"] == [{"name": "Viki", "content": "The user named the assistant Viki."}]
    assert found["entities"] == [
        {
            "category": "facts",
            "name": "staging database",
            "content": "The staging database runs on port 5433.",
        }
    ]

    *events, summary = found["events"]
    # Dates are resolved against each message's created_at (Monday), not against `now`.
    assert [(e["event_date"], e["event_name"]) for e in events] == [
        ("2026-11-20", "deployed new billing service"),
        ("2026-11-22", "fixed payment webhook"),
        ("2026-11-02", "migrated orders database"),
    ]
    assert events[0]["content"].startswith('On 2026-11-20 (Friday), the user said: "On Friday')

    assert summary["tags"] == ["session-summary"]
    assert summary["event_date"] == "2026-11-23"
    assert "s-42" in summary["content"]
    assert "7 user message(s), 2 assistant message(s), 1 tool call(s)" in summary["content"]
    assert 'First request: "Hi! My name is Ann Lee.' in summary["content"]
    assert "3 events" in summary["content"]
    assert "3 preferences" in summary["content"]
    assert ops[-1].reason == "rule: one summary event per extraction"


def test_no_memories_from_the_assistant_or_from_questions() -> None:
    ops = extract_with_rules(CONVERSATION, session_id="s", now=NOW)
    text = " ".join(str(op.fields) for op in ops[:-1])
    for leaked in ("Python myself", "sky is green", "deployed a model", "tabs or", "coffee"):
        assert leaked not in text
    assert "tea" not in text  # "If I prefer tea" is a conditional
    assert "summary please" not in text  # "I'd like" is a request
    assert not any(op.fields.get("topic") == "it" for op in ops)

    only_questions = [
        _user("Do you prefer tabs? Would you like me to remember that I prefer tea? What now?")
    ]
    ops = extract_with_rules(only_questions, session_id="q", now=NOW)
    assert [op.memory_type for op in ops] == ["events"]  # the summary alone


def test_every_operation_fits_its_schema_and_renders_a_path() -> None:
    schemas = load_schemas()
    ops = extract_with_rules(CONVERSATION, session_id="s/../x", now=NOW)
    paths = set()
    for op in ops:
        checked, problems = check_operation(op, schemas, (), now=NOW)
        assert checked is not None
        assert problems == []
        paths.add(memory_relpath(schemas[op.memory_type], op.fields, NOW))
    assert len(paths) == len(ops)
    assert "memories/preferences/dark-mode.md" in paths
    assert "memories/events/2026/11/20/deployed-new-billing-service.md" in paths
    assert "memories/events/2026/11/23/session-s-x-090000.md" in paths


def test_the_summary_path_is_stable_across_re_extraction() -> None:
    first = extract_with_rules(CONVERSATION, session_id="s1", now=NOW)[-1]
    again = extract_with_rules(CONVERSATION, session_id="s1", now=datetime(2027, 1, 1, tzinfo=UTC))
    assert again[-1].fields["event_name"] == first.fields["event_name"]


def test_relative_dates() -> None:
    cases = {
        "Tomorrow we will release version 2.": "2026-11-24",
        "Next Tuesday we will run the load test.": "2026-11-24",
        "Last Monday I visited the Berlin office.": "2026-11-16",
        "3 days ago I broke the staging cluster.": "2026-11-20",
        "The day before yesterday our team shipped the search feature.": "2026-11-21",
        "On Nov 5 I started the migration project.": "2026-11-05",
        "On the 2nd of March 2025 we opened the Paris office.": "2025-03-02",
    }
    for sentence, expected in cases.items():
        ops = extract_with_rules([_user(sentence)], session_id="d", now=NOW)
        events = [op for op in ops if "session-summary" not in op.fields.get("tags", [])]
        assert [op.fields["event_date"] for op in events] == [expected], sentence


def test_content_string_messages_and_missing_times() -> None:
    ops = extract_with_rules(
        [{"role": "user", "content": "Today I adopted a cat named Miso."}],
        session_id="c",
        now=NOW,
    )
    assert ops[0].fields["event_date"] == "2026-11-24"  # no created_at: `now`
    assert ops[0].fields["event_name"] == "adopted cat named Miso"


def test_no_messages_no_operations() -> None:
    assert extract_with_rules([], session_id="e", now=NOW) == []
