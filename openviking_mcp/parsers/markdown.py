"""Markdown: split a long document into a tree of numbered section files.

The document is scanned once into lines, headings (ATX ``#`` and single-line setext) and
protected regions (code fences and front matter, where nothing is a heading and no cut is
allowed). Every produced file is a contiguous range of the input lines, so reading the files in
path order gives back every non-blank line; the only text added is a ``## Title (part N)``
heading on the continuation parts of a section that had to be cut by paragraphs.

Splitting a range (the whole document, or one oversized section):

1. the split level is the highest heading level occurring more than once in the range (below the
   range's own heading); text before the first heading of that level is the *preamble*;
2. a tiny preamble joins the first section, a larger one becomes ``00-{slug}.md``;
3. a small section joins the previous one when the two still fit;
4. a section that fits becomes ``NN-{slug}.md``; an oversized one with subheadings becomes a
   directory ``NN-{slug}/`` split the same way; an oversized leaf becomes ``NN-{slug}-1.md``,
   ``NN-{slug}-2.md``... cut at paragraph boundaries (lines if needed, never inside a fence).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from openviking_mcp.parsers.base import slugify
from openviking_mcp.parsers.text import clean_inline

__all__ = ["MarkdownPart", "markdown_title", "split_markdown"]

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(={2,}|-{2,})[ \t]*$")
_NOT_PARAGRAPH = re.compile(r"^(?: {4,}|\t|\s*(?:[-*+>|]|\d{1,9}[.)])(?:\s|$))")


@dataclass(frozen=True, slots=True)
class MarkdownPart:
    """One produced file: its path, its text and the title of its first section."""

    path: str
    text: str
    title: str


@dataclass(frozen=True, slots=True)
class _Heading:
    start: int  # first line (the text line of a setext heading)
    end: int  # line after the heading
    level: int
    title: str


@dataclass(slots=True)
class _Piece:
    start: int
    end: int
    own: _Heading | None  # the section heading this piece starts with (None: a preamble)


class _Doc:
    """Lines of a document with headings, protected regions and token prefix sums."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        n = len(self.lines)
        self.protected = [False] * n  # inside a fence or front matter (delimiters included)
        self.opens = [False] * n  # the first line of a protected region
        self.headings: list[_Heading] = []
        self.front_matter_end = 0  # the line after a leading front-matter block
        self._scan()
        self.heading_starts = {h.start for h in self.headings}
        self._words = [0]
        self._chars = [0]
        self._filled = [0]
        for line in self.lines:
            self._words.append(self._words[-1] + len(line.split()))
            self._chars.append(self._chars[-1] + len(line) + 1)
            self._filled.append(self._filled[-1] + (1 if line.strip() else 0))

    def _protect(self, start: int, end: int) -> None:
        self.opens[start] = True
        for i in range(start, end + 1):
            self.protected[i] = True

    def _scan(self) -> None:
        lines = self.lines
        n = len(lines)
        i = 0
        if lines and lines[0].strip() in ("---", "+++"):
            marker = lines[0].strip()
            close = next(
                (j for j in range(1, min(n, 400)) if lines[j].strip() in (marker, "...")), None
            )
            if close is not None:
                self._protect(0, close)
                self.front_matter_end = i = close + 1
        while i < n:
            line = lines[i]
            fence = _FENCE.match(line)
            if fence and not (fence.group(1)[0] == "`" and "`" in fence.group(2)):
                mark = fence.group(1)
                close = n - 1
                for j in range(i + 1, n):
                    body = lines[j].strip()
                    if (
                        body.startswith(mark)
                        and not body.strip(mark[0])
                        and len(lines[j]) - len(lines[j].lstrip(" ")) <= 3
                    ):
                        close = j
                        break
                self._protect(i, close)
                i = close + 1
                continue
            atx = _ATX.match(line)
            if atx:
                title = clean_inline(atx.group(2) or "")
                self.headings.append(_Heading(i, i + 1, len(atx.group(1)), title))
            elif self._is_setext(i):
                level = 1 if line.strip().startswith("=") else 2
                self.headings.append(_Heading(i - 1, i + 1, level, clean_inline(lines[i - 1])))
            i += 1

    def _is_setext(self, i: int) -> bool:
        """Line ``i`` underlines a one-line paragraph (so it makes a setext heading)."""
        lines = self.lines
        if i == 0 or not _SETEXT.match(lines[i]) or self.protected[i - 1]:
            return False
        prev = lines[i - 1]
        if not prev.strip() or _NOT_PARAGRAPH.match(prev) or _ATX.match(prev):
            return False
        if self.headings and self.headings[-1].end > i - 1:
            return False
        return (
            i < 2
            or not lines[i - 2].strip()
            or self.protected[i - 2]
            or bool(self.headings and self.headings[-1].end == i - 1)
        )

    def tokens(self, a: int, b: int) -> int:
        words = self._words[b] - self._words[a]
        chars = self._chars[b] - self._chars[a]
        return max(math.ceil(words * 1.3), math.ceil(chars / 4))

    def has_text(self, a: int, b: int) -> bool:
        return self._filled[b] > self._filled[a]

    def can_cut(self, k: int) -> bool:
        """A cut before line ``k`` does not fall inside a fence or front matter."""
        return not (self.protected[k] and not self.opens[k])

    def trimmed(self, a: int, b: int) -> tuple[int, int]:
        while a < b and not self.lines[a].strip():
            a += 1
        while b > a and not self.lines[b - 1].strip():
            b -= 1
        return a, b

    def text(self, a: int, b: int) -> str:
        a, b = self.trimmed(a, b)
        return "\n".join(self.lines[a:b]) + "\n"

    def first_heading(self, a: int, b: int) -> _Heading | None:
        return next((h for h in self.headings if a <= h.start < b), None)


def markdown_title(text: str, default: str) -> str:
    """The first level-1 heading of ``text``, else its first heading, else ``default``."""
    doc = _Doc(text)
    first_h1 = next((h.title for h in doc.headings if h.level == 1 and h.title), None)
    first = next((h.title for h in doc.headings if h.title), None)
    return first_h1 or first or default


class _Splitter:
    def __init__(self, doc: _Doc, max_tokens: int, min_tokens: int, default_title: str) -> None:
        self.doc = doc
        self.max = max(1, max_tokens)
        self.min = min_tokens
        self.default_title = default_title

    # -- sections ------------------------------------------------------------------------

    def split_range(self, piece: _Piece, slug: str, prefix: str) -> list[MarkdownPart] | None:
        """Split ``piece`` at its headings into files under ``prefix``; ``None`` if it has no
        structure to split by (the caller then cuts it by paragraphs)."""
        doc = self.doc
        first = piece.own.end if piece.own is not None else piece.start
        heads = [h for h in doc.headings if first <= h.start and h.end <= piece.end]
        if not heads:
            return None
        counts = Counter(h.level for h in heads)
        repeated = [level for level, count in counts.items() if count > 1]
        level = min(repeated) if repeated else min(counts)
        splits = [h for h in heads if h.level <= level]
        first_at_level = next(i for i, h in enumerate(splits) if h.level == level)
        splits = splits[first_at_level:]
        sections = [
            _Piece(h.start, splits[i + 1].start if i + 1 < len(splits) else piece.end, h)
            for i, h in enumerate(splits)
        ]
        preamble: _Piece | None = None
        if doc.has_text(piece.start, splits[0].start):
            only_front_matter = piece.start == 0 and not doc.has_text(
                doc.front_matter_end, splits[0].start
            )
            if only_front_matter or doc.tokens(piece.start, splits[0].start) < self.min:
                sections[0].start = piece.start
            else:
                preamble = _Piece(piece.start, splits[0].start, None)
        merged: list[_Piece] = []
        for section in sections:
            if (
                merged
                and doc.tokens(section.start, section.end) < self.min
                and doc.tokens(merged[-1].start, section.end) <= self.max
            ):
                merged[-1].end = section.end
            else:
                merged.append(section)
        if len(merged) + (preamble is not None) < 2:
            return None
        width = max(2, len(str(len(merged))))
        out: list[MarkdownPart] = []
        if preamble is not None:
            out += self.leaf(preamble, f"{0:0{width}d}-{slug}", prefix)
        for number, section in enumerate(merged, start=1):
            assert section.own is not None
            sub_slug = slugify(section.own.title)
            name = f"{number:0{width}d}-{sub_slug}"
            sub = None
            if doc.tokens(section.start, section.end) > self.max:
                sub = self.split_range(section, sub_slug, f"{prefix}{name}/")
            out += sub if sub is not None else self.leaf(section, name, prefix)
        return out

    # -- leaves ------------------------------------------------------------------------

    def leaf(self, piece: _Piece, name: str, prefix: str) -> list[MarkdownPart]:
        """One file for ``piece``, or ``name-1.md``, ``name-2.md``... if it is too large."""
        doc = self.doc
        heading = piece.own or doc.first_heading(piece.start, piece.end)
        title = heading.title if heading is not None and heading.title else self.default_title
        ranges = [(piece.start, piece.end)]
        if doc.tokens(piece.start, piece.end) > self.max:
            ranges = self._paragraph_ranges(piece.start, piece.end)
        if len(ranges) == 1:
            a, b = ranges[0]
            return [MarkdownPart(f"{prefix}{name}.md", doc.text(a, b), title)]
        width = len(str(len(ranges)))
        parts: list[MarkdownPart] = []
        for i, (a, b) in enumerate(ranges, start=1):
            text = doc.text(a, b)
            if i > 1 and heading is not None and doc.trimmed(a, b)[0] not in doc.heading_starts:
                text = f"{'#' * heading.level} {heading.title or title} (part {i})\n\n{text}"
            path = f"{prefix}{name}-{i:0{width}d}.md"
            parts.append(MarkdownPart(path, text, title if i == 1 else f"{title} (part {i})"))
        return parts

    def _paragraph_ranges(self, start: int, end: int) -> list[tuple[int, int]]:
        """Cut ``[start, end)`` into ranges of at most ``max`` tokens: at blank lines when
        possible, else between lines, never inside a protected region (which may overflow)."""
        doc = self.doc
        lines = doc.lines
        ranges: list[tuple[int, int]] = []
        s = start
        while s < end:
            if doc.tokens(s, end) <= self.max:
                ranges.append((s, end))
                break
            paragraph_cut: int | None = None
            line_cut: int | None = None
            for k in range(s + 1, end):
                if doc.tokens(s, k) > self.max:
                    break
                if doc.can_cut(k) and doc.has_text(s, k):
                    line_cut = k
                    if not lines[k - 1].strip():
                        paragraph_cut = k
            cut = paragraph_cut or line_cut
            if cut is None:  # one unit larger than the budget: take it whole
                cut = next(
                    (k for k in range(s + 1, end) if doc.can_cut(k) and doc.has_text(s, k)), end
                )
            ranges.append((s, cut))
            s = cut
        kept = [(a, b) for a, b in ranges if doc.has_text(a, b)]
        return kept or [(start, end)]


def split_markdown(
    text: str, slug: str, *, max_tokens: int, min_tokens: int, default_title: str
) -> list[MarkdownPart]:
    """Split ``text`` (already known to be larger than ``max_tokens``) into section files.

    Paths are relative (``01-intro.md``, ``02-setup/01-linux.md``); ``slug`` names the
    preamble and the parts of a document without headings.
    """
    doc = _Doc(text)
    splitter = _Splitter(doc, max_tokens, min_tokens, default_title)
    whole = _Piece(0, len(doc.lines), None)
    parts = splitter.split_range(whole, slug, "")
    if parts is None:
        parts = splitter.leaf(whole, slug, "")
    return parts
