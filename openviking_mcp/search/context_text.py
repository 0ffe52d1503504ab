"""Text helpers of context assembly: a tokenizer-free token estimate and the shaping of tier
texts (a memory file without its field trailer, a file's overview, an LLM digest as bullets).
Pure functions over strings, no I/O.
"""

from __future__ import annotations

import math
import re

__all__ = [
    "estimate_tokens",
    "file_overview",
    "parse_bullets",
    "strip_memory_trailer",
]

_OVERVIEW_CHARS = 1200
_WIDE = re.compile(r"[^\u0000-\u2fff]")
_TRAILER = re.compile(r"\s*<!--\s*MEMORY_FIELDS\b.*?-->\s*\Z", re.DOTALL)
_SUMMARY_HEADING = re.compile(r"#{1,6}[ \t]+summary[ \t]*\n", re.IGNORECASE)
_HEADING = re.compile(r"^#{1,6}[ \t]", re.MULTILINE)
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+(.*\S)")


def estimate_tokens(text: str) -> int:
    """Cheap token estimate, no tokenizer: the larger of ``words * 1.3`` and a character
    count where ordinary characters weigh 1/4 token and wide ones (code points from U+3000:
    CJK, kana, hangul, emoji) 1.5 tokens. Words undercount dense text (code, URLs), characters
    undercount short-word prose; the maximum errs on the high side, so budgets hold."""
    if not text:
        return 0
    wide = len(_WIDE.findall(text))
    by_chars = (len(text) - wide) / 4 + wide * 1.5
    return max(math.ceil(len(text.split()) * 1.3), math.ceil(by_chars))


def strip_memory_trailer(text: str) -> str:
    """A memory file's body without its ``<!-- MEMORY_FIELDS ... -->`` trailer."""
    return _TRAILER.sub("", text)


def file_overview(text: str, max_chars: int = _OVERVIEW_CHARS) -> str:
    """The "overview" tier of a file: its leading ``# Summary`` section if it starts with one,
    else its beginning; at most ``max_chars``, cut at a paragraph, line or word boundary and
    marked with ``…`` when shortened."""
    text = text.strip()
    summary = _SUMMARY_HEADING.match(text)
    if summary:
        rest = text[summary.end() :]
        following = _HEADING.search(rest)
        text = (rest[: following.start()] if following else rest).strip() or text
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    for sep in ("\n\n", "\n", " "):
        at = cut.rfind(sep)
        if at >= max_chars // 2:
            cut = cut[:at]
            break
    return cut.rstrip() + "\n…"


def parse_bullets(answer: str, max_bullets: int) -> str:
    """An LLM digest as ``- bullet`` lines: its bullet lines (or, with none, its non-empty
    lines), at most ``max_bullets``."""
    lines = [line for line in answer.strip().strip("`").splitlines() if line.strip()]
    bullets = [m.group(1) for m in map(_BULLET.match, lines) if m]
    if not bullets:
        bullets = [line.strip() for line in lines]
    return "\n".join(f"- {b.strip()}" for b in bullets[:max_bullets])
