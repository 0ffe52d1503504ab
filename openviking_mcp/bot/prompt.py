"""The bot's instructions: how to use the store, the user's relevant memories and a summary of
the conversation so far."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["build_instructions", "memories_text"]

_BASE = """\
You are VikingBot, an assistant with access to {user}'s context store: long-term memories, \
resources (documents, code, web pages) and skills, addressed by viking:// URIs.

- Before answering a question about the user's data, projects or past conversations, look it \
up: find (or search) for candidates, then read the most relevant URIs.
- Base the answer on what you read and cite the viking:// URIs you used, in square brackets, \
e.g. [viking://resources/guide/intro.md].
- If the store holds nothing relevant, say so, then answer from general knowledge and mark it \
as such.
- When the user asks you to remember something, or states a lasting preference or fact about \
themselves, call remember.
- Be concise.
{tools_note}
Today is {today}."""


def memories_text(hits: list[dict[str, str]]) -> str | None:
    """The ``relevant_memories`` text: one ``- abstract (uri)`` line per memory."""
    lines = [
        f"- {' '.join(h.get('abstract', '').split()) or '(no abstract)'} ({h['uri']})" for h in hits
    ]
    return "\n".join(lines) or None


def build_instructions(
    user: str,
    *,
    memories: str | None,
    summary: str | None,
    disabled: frozenset[str],
    extra: str = "",
) -> str:
    tools_note = (
        f"- These tools are disabled for this chat: {', '.join(sorted(disabled))}.\n"
        if disabled
        else ""
    )
    parts = [
        _BASE.format(user=user, tools_note=tools_note, today=datetime.now(UTC).strftime("%Y-%m-%d"))
    ]
    if memories:
        parts.append(f"Memories of the user that may be relevant:\n{memories}")
    if summary:
        parts.append(f"Summary of the earlier conversation:\n{summary.strip()}")
    if extra.strip():
        parts.append(extra.strip())
    return "\n\n".join(parts)
