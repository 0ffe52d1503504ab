"""Archived turns as conversation memory: what was said stays findable, without an LLM.

Commit phase 2 writes one small file per archived turn (a user or assistant message with text)
to ``viking://user/{uid}/memories/conversations/{session_id}/{archive}-{NNNN}.md``, where
``NNNN`` is the message's position in the archive. It sits in the user's memory space, so it is
indexed and found by ``find``/``search`` like every other memory of that user and is private to
them exactly as those are (another user's search never covers ``viking://user/{uid}``).

*Granularity:* one index passage per turn. The passage holds the speaker, the turn's date
and the turn's own words, then the previous turn (cut to :data:`CONTEXT_CHARS`) as context, so
an answer ("Yes, last Tuesday") still carries what it answers. A whole-session file would give
one hit per session and bury the sentence that holds the fact in a long embedding.

*Dates:* the message's ``created_at``; a date the caller gave in the message's (or a text
part's) ``metadata`` (``date``, ``date_time``, ``timestamp`` or ``session_date``) wins, and is
quoted as given when it is not ISO 8601.

The hidden fields block names the source: ``session_id``, ``archive``, ``turn`` (position),
``message_id``, ``turn_id`` (the caller's id of the turn, such as a dataset's dialogue id),
``speaker``, ``role`` and ``date``; ``archive_uri`` points at the archived ``messages.jsonl``.
Writing is idempotent: the paths are fixed by session, archive and position, and a file whose
text is unchanged is not rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from openviking_mcp.contract.errors import OpenVikingError
from openviking_mcp.memory.memory_file import new_fields, parse_memory, render_memory
from openviking_mcp.sessions.transcript import message_role, message_text, message_time

__all__ = [
    "CONTEXT_CHARS",
    "CONVERSATIONS_DIR",
    "CONVERSATION_TYPE",
    "Turn",
    "conversation_turns",
    "is_conversation_uri",
    "turn_date",
    "unchanged",
]

CONVERSATIONS_DIR = "memories/conversations"
CONVERSATION_TYPE = "conversation"
CONTEXT_CHARS = 200
_TURN_CHARS = 4000
_ROLES = ("user", "assistant")
_DATE_KEYS = ("date", "date_time", "timestamp", "session_date")


@dataclass(frozen=True)
class Turn:
    """One turn file: its path below the user's space, its text and its fields."""

    relpath: str
    body: str
    fields: dict[str, Any] = field(default_factory=dict)

    def render(self) -> str:
        return render_memory(self.body, self.fields)


def is_conversation_uri(uri: str) -> bool:
    """Whether ``uri`` is a turn file or folder of the conversation memory."""
    return f"/{CONVERSATIONS_DIR}/" in uri or uri.endswith(f"/{CONVERSATIONS_DIR}")


def _metadata_date(message: Mapping[str, Any]) -> str:
    """A date the caller passed in the message's or a text part's ``metadata``."""
    sources: list[Any] = [message.get("metadata")]
    parts = message.get("parts")
    if isinstance(parts, list):
        sources += [p.get("metadata") for p in parts if isinstance(p, Mapping)]
    for meta in sources:
        if not isinstance(meta, Mapping):
            continue
        for key in _DATE_KEYS:
            value = meta.get(key)
            if isinstance(value, str | int | float) and str(value).strip():
                return str(value).strip()
    return ""


def turn_date(message: Mapping[str, Any], default: datetime) -> tuple[str, str]:
    """``(date for the passage text, ISO date for the fields)`` of a turn."""
    given = _metadata_date(message)
    if given:
        try:
            when = datetime.fromisoformat(given.replace("Z", "+00:00"))
        except ValueError:
            return given, message_time(message, default).date().isoformat()
        return f"{when:%Y-%m-%d (%A) %H:%M}", when.date().isoformat()
    when = message_time(message, default)
    return f"{when:%Y-%m-%d (%A) %H:%M}", when.date().isoformat()


def _speaker(message: Mapping[str, Any]) -> str:
    for key in ("peer_id", "name", "speaker"):
        value = message.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return message_role(message) or "unknown"


def _clip(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "\u2026"


def conversation_turns(
    session_id: str,
    archive: str,
    archive_uri: str,
    messages: Sequence[Mapping[str, Any]],
    now: datetime,
) -> list[Turn]:
    """The turn files of one archive (user and assistant messages with text)."""
    turns: list[Turn] = []
    previous: tuple[str, str] | None = None
    for position, message in enumerate(messages, start=1):
        role = message_role(message)
        text = message_text(message).strip()
        if role not in _ROLES or not text:
            continue
        speaker = _speaker(message)
        shown, day = turn_date(message, now)
        body = f"{speaker} said on {shown}:\n\n{_clip(text, _TURN_CHARS)}"
        if previous is not None:
            body += f"\n\n(In reply to {previous[0]}: {_clip(previous[1], CONTEXT_CHARS)})"
        previous = (speaker, text)
        fields = {
            **new_fields(CONVERSATION_TYPE, now, source_session=session_id, tags=["conversation"]),
            "session_id": session_id,
            "archive": archive,
            "archive_uri": f"{archive_uri}/messages.jsonl",
            "turn": position,
            "message_id": str(message.get("id") or ""),
            "turn_id": str(message.get("turn_id") or ""),
            "speaker": speaker,
            "role": role,
            "date": day,
        }
        relpath = f"{CONVERSATIONS_DIR}/{session_id}/{archive}-{position:04d}.md"
        turns.append(Turn(relpath, body, fields))
    return turns


def unchanged(existing: str | None, turn: Turn) -> bool:
    """Whether the stored file already says what ``turn`` would write (times aside)."""
    if existing is None:
        return False
    try:
        doc = parse_memory(existing)
    except OpenVikingError:
        return False
    keys = ("session_id", "archive", "turn", "message_id", "turn_id", "speaker", "date")
    return doc.body == turn.body.rstrip() and all(
        doc.fields.get(k) == turn.fields.get(k) for k in keys
    )
