"""Split file text into passages of roughly 200-400 tokens for embedding.

Long files stay searchable end to end (one index row per passage) instead of being truncated.
Paragraphs are kept whole where they fit; an oversized paragraph is cut on sentence, then word
boundaries. Passages never exceed ``max_tokens`` by the given counter.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["split_passages"]

# Sentence ends, including the CJK full stop and full-width ! and ?.
_SENTENCE_RE = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])\s+")


def _pieces(paragraph: str, count: Callable[[str], int], max_tokens: int) -> list[str]:
    if count(paragraph) <= max_tokens:
        return [paragraph]
    out: list[str] = []
    for sentence in _SENTENCE_RE.split(paragraph):
        if count(sentence) <= max_tokens:
            out.append(sentence)
            continue
        words = sentence.split(" ")
        chunk: list[str] = []
        for word in words:
            candidate = " ".join([*chunk, word])
            if chunk and count(candidate) > max_tokens:
                out.append(" ".join(chunk))
                chunk = [word]
            else:
                chunk.append(word)
        if chunk:
            out.append(" ".join(chunk))
    return out


def split_passages(
    text: str,
    count_tokens: Callable[[str], int],
    *,
    target_tokens: int = 300,
    max_tokens: int = 400,
) -> list[str]:
    """Passages covering all non-blank text, each at most ``max_tokens`` tokens."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    pieces: list[str] = []
    for paragraph in paragraphs:
        if paragraph:
            pieces.extend(p for p in _pieces(paragraph, count_tokens, max_tokens) if p.strip())
    passages: list[str] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        n = count_tokens(piece)
        if current and (size + n > max_tokens or size >= target_tokens):
            passages.append("\n\n".join(current))
            current, size = [], 0
        current.append(piece)
        size += n
    if current:
        passages.append("\n\n".join(current))
    return passages
