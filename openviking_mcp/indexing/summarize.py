"""Deterministic, extractive L0/L1 text: the default when no LLM is configured.

Three tiers describe every directory of the ``viking://`` tree:

* a file's *summary* (1-3 sentences) comes from :func:`summarize_text` (or from the parsers for
  code and data files);
* a directory's L1 *overview* is built by :func:`build_overview` from its children's summaries;
* a directory's L0 *abstract* is cut from the overview by :func:`abstract_from_overview`.

Nothing here calls a model or touches the disk: the same input always gives the same text, and
the result is never empty. The text helpers it uses live in :mod:`openviking_mcp.parsers.text`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from openviking_mcp.parsers.text import (
    ATX_HEADING,
    FENCE_OPEN,
    LIST_ITEM,
    WHITESPACE,
    WORD,
    clean_inline,
    cut_words,
    truncate_text,
)

__all__ = ["ChildInfo", "abstract_from_overview", "build_overview"]


@dataclass(frozen=True, slots=True)
class ChildInfo:
    """One entry of a directory, as its parent's overview sees it."""

    name: str  # file or directory name
    is_dir: bool
    summary: str  # file summary, or the child directory's L0 abstract
    kind: str = ""  # for files: markdown/text/code/data/binary


# -- shared text helpers ----------------------------------------------------------------------


_STOPWORD_TEXT = """
    a about above after again against all also an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself
    just me more most my no nor not now of off on once only or other our out over own same she
    should so some such than that the their them then there these they this those through to
    too under until up very was we were what when where which while who whom why will with
    would you your via using use used uses how-to new one two three first second etc per
    within without file files folder folders directory directories document documents doc docs
    contains contain section sections part parts page pages readme index overview summary
    intro introduction binary text markdown module modules source sources data json yaml csv
    toml tsv type types size unknown defines define function functions class classes import
    imports line lines item items key keys value values object array table tables column
    columns row rows top-level level top mapping list lists values could parsed see note notes
    md txt py untitled sections: misc other more number
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_NUM_PREFIX = re.compile(r"^\d+[-_. ]+")
_README = re.compile(r"^(?:readme|index|overview|intro|introduction|00-.+)(?:\.\w+)?$", re.I)


def _name_words(name: str, is_dir: bool) -> list[str]:
    stem = name if is_dir or "." not in name.lstrip(".") else name.rsplit(".", 1)[0]
    stem = _CAMEL.sub(" ", _NUM_PREFIX.sub("", stem))
    return [w.lower() for w in WORD.findall(stem.replace("_", " "))]


def _informative(word: str) -> bool:
    return 3 <= len(word) <= 30 and not word.isdigit() and word not in _STOPWORDS


def _topics(children: list[ChildInfo], limit: int = 3) -> list[str]:
    """The most common informative words of the children: first by how many children use them
    (in the name or the summary), then by weight (a name word counts 3, a summary word 1)."""
    spread: Counter[str] = Counter()
    weight: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for child in sorted(children, key=lambda c: (not c.is_dir, c.name.casefold(), c.name)):
        weighted = [(w, 3) for w in _name_words(child.name, child.is_dir)]
        weighted += [(w.lower(), 1) for w in WORD.findall(child.summary.replace("_", " "))]
        seen: set[str] = set()
        for word, value in weighted:
            if _informative(word):
                weight[word] += value
                first_seen.setdefault(word, len(first_seen))
                if word not in seen:
                    seen.add(word)
                    spread[word] += 1
    ranked = sorted(weight, key=lambda w: (-spread[w], -weight[w], first_seen[w]))
    return ranked[:limit]


def _plural(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def _join_and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


_KIND_NOUNS = {
    "code": ("code file", "code files"),
    "data": ("data file", "data files"),
    "binary": ("binary file", "binary files"),
}


def _synthesised_brief(dir_name: str, children: list[ChildInfo]) -> str:
    """``Contains N documents and M folders about X, Y and Z.`` plus a README's first sentence."""
    if not children:
        return f"Empty folder {dir_name}: it has no documents or subfolders yet."
    kinds: Counter[str] = Counter()
    for child in children:
        kinds["dir" if child.is_dir else (child.kind if child.kind in _KIND_NOUNS else "doc")] += 1
    counts: list[str] = []
    if kinds["doc"]:
        counts.append(_plural(kinds["doc"], "document"))
    for kind, (one, many) in _KIND_NOUNS.items():
        if kinds[kind]:
            counts.append(_plural(kinds[kind], one, many))
    if kinds["dir"]:
        counts.append(_plural(kinds["dir"], "folder"))
    brief = "Contains " + _join_and(counts)
    topics = _topics(children)
    brief += f" about {_join_and(topics)}." if topics else "."
    lead = next(
        (c for c in sorted(children, key=lambda c: c.name) if _README.match(c.name) and c.summary),
        None,
    )
    if lead is None and len(children) == 1 and children[0].summary.strip():
        lead = children[0]
    if lead is not None:
        first = truncate_text(lead.summary, 300, max_sentences=1)
        if first and first not in brief:
            brief += " " + first
    return brief


def _bullet(child: ChildInfo, max_summary: int = 300) -> str:
    name = WHITESPACE.sub(" ", child.name).strip() or "untitled"
    summary = truncate_text(child.summary, max_summary) if child.summary.strip() else ""
    if summary == name:
        summary = ""
    head = f"- **{name}**/" if child.is_dir else f"- **{name}**"
    return f"{head} — {summary}" if summary else head


def _sample(ordered: list[ChildInfo], limit: int) -> list[ChildInfo]:
    """A deterministic, evenly spread sample of ``limit`` entries, in their original order."""
    if limit <= 0:
        return []
    if len(ordered) <= limit:
        return ordered
    step = len(ordered) / limit
    return [ordered[int(i * step)] for i in range(limit)]


def _cut_lines(text: str, max_chars: int) -> str:
    """``text`` cut to ``max_chars`` on a line boundary (a too-long first line is cut hard)."""
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    newline = cut.rfind("\n")
    return (cut[:newline] if newline > 0 else cut_words(cut, max_chars)).rstrip()


def build_overview(
    dir_name: str,
    children: list[ChildInfo],
    *,
    intro: str | None = None,
    max_chars: int = 4000,
    sample_limit: int = 32,
) -> str:
    """The L1 overview of a directory, as Markdown.

    Layout: ``# {dir_name}``, a plain paragraph (``intro`` if given, else synthesised from the
    children), then ``## Contents`` with one bullet per child, directories first, each group
    sorted by name. Beyond ``sample_limit`` children (or when the bullets would not fit in
    ``max_chars``) an evenly spread sample is listed, followed by ``…and K more``.
    """
    title = WHITESPACE.sub(" ", dir_name).strip() or "untitled"
    brief = WHITESPACE.sub(" ", intro or "").strip() or _synthesised_brief(title, children)
    header = f"# {title}\n\n"
    budget = max(0, max_chars - len(header) - len("\n\n## Contents\n\n") - 40)
    brief = truncate_text(brief, max(budget // 2, min(budget, 600))) or brief[:budget]
    head = f"{header}{brief}\n\n## Contents\n\n"
    ordered = sorted(children, key=lambda c: (not c.is_dir, c.name.casefold(), c.name))
    if not ordered:
        return _cut_lines(head + "_No entries._", max_chars - 1).rstrip() + "\n"

    def render(count: int) -> str:
        shown = _sample(ordered, count)
        more = len(ordered) - len(shown)
        tail = f"\n…and {more} more" if more else ""
        return head + "\n".join(_bullet(c) for c in shown) + tail

    count = min(len(ordered), max(1, sample_limit))
    text = render(count)
    if len(text) >= max_chars:  # binary search for the largest sample that fits
        low, high = 1, count - 1
        text = render(1)
        while low <= high:
            middle = (low + high) // 2
            candidate = render(middle)
            if len(candidate) < max_chars:
                text, low = candidate, middle + 1
            else:
                high = middle - 1
    return _cut_lines(text.rstrip(), max(1, max_chars - 1)).rstrip() + "\n"


# -- abstract_from_overview -----------------------------------------------------------------------


def _lead_paragraph(lines: list[str]) -> tuple[str, list[str]]:
    """``(h1, paragraph)``: the text of a leading ``#`` heading and the stripped lines of the
    first paragraph, which ends at a blank line, a fence, any heading after it or a ``##``."""
    h1 = ""
    paragraph: list[str] = []
    for line in lines:
        stripped = line.strip()
        heading = ATX_HEADING.match(line)
        if heading:
            if len(heading.group(1)) == 1 and not h1 and not paragraph:
                h1 = clean_inline(heading.group(2) or "")
                continue
            if paragraph or len(heading.group(1)) >= 2:
                break
            continue
        if not stripped or FENCE_OPEN.match(line):
            if paragraph:
                break
            continue
        paragraph.append(stripped)
    return h1, paragraph


def _first_plain_line(lines: list[str]) -> str:
    """The first non-empty line that is neither a heading nor a fence, bullet markup removed."""
    for line in lines:
        if line.strip() and not ATX_HEADING.match(line) and not FENCE_OPEN.match(line):
            text = clean_inline(LIST_ITEM.sub("", line, count=1))
            if text:
                return text
    return ""


def abstract_from_overview(overview: str, max_chars: int = 256) -> str:
    """The L0 abstract: the overview's first paragraph, cut at a sentence boundary.

    That is the paragraph after the ``#`` heading and before the first ``##``; without one, the
    first line that is not a heading (bullet markup removed); failing that, the H1 text.
    """
    lines = overview.replace("\r\n", "\n").split("\n")
    h1, paragraph = _lead_paragraph(lines)
    text = clean_inline(" ".join(paragraph)) or _first_plain_line(lines)
    return truncate_text(text or h1 or "No description.", max_chars)
