"""Deterministic, extractive L0/L1 text: the default when no LLM is configured.

Three tiers describe every directory of the ``viking://`` tree:

* a file's *summary* (1-3 sentences) comes from :func:`summarize_text` (or from the parsers for
  code and data files);
* a directory's L1 *overview* is built by :func:`build_overview` from its children's summaries;
* a directory's L0 *abstract* is cut from the overview by :func:`abstract_from_overview`.

Nothing here calls a model or touches the disk: the same input always gives the same text, and
the result is never empty. The small text helpers (:func:`estimate_tokens`, :func:`clean_inline`,
:func:`truncate_text`) are shared with the parsers.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

__all__ = [
    "ChildInfo",
    "abstract_from_overview",
    "build_overview",
    "clean_inline",
    "estimate_tokens",
    "split_sentences",
    "summarize_text",
    "truncate_text",
]


@dataclass(frozen=True, slots=True)
class ChildInfo:
    """One entry of a directory, as its parent's overview sees it."""

    name: str  # file or directory name
    is_dir: bool
    summary: str  # file summary, or the child directory's L0 abstract
    kind: str = ""  # for files: markdown/text/code/data/binary


# -- shared text helpers ----------------------------------------------------------------------

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)


def estimate_tokens(text: str) -> int:
    """Rough token count: the larger of ``words * 1.3`` and ``chars / 4``.

    Words undercount dense text (code, URLs), characters undercount prose; the maximum of the
    two is a cheap upper-ish estimate that needs no tokenizer.
    """
    if not text:
        return 0
    return max(math.ceil(len(text.split()) * 1.3), math.ceil(len(text) / 4))


_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_HTML_TAG = re.compile(r"</?[a-z][a-z0-9-]*(?:\s[^<>]*)?/?>")
_EMPHASIS = re.compile(r"(\*\*|\*|~~)(?=\S)(.+?)(?<=\S)\1")
_UNDERSCORE_EMPHASIS = re.compile(r"(?<!\w)(__|_)(?=\S)(.+?)(?<=\S)\1(?!\w)")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def clean_inline(text: str) -> str:
    """Markdown inline markup reduced to plain words, whitespace collapsed.

    Images are dropped, links keep their text, emphasis and code spans keep their content and
    HTML tags disappear.
    """
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    text = _CODE_SPAN.sub(lambda m: m.group(2).strip(), text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _UNDERSCORE_EMPHASIS.sub(r"\2", text)
    return _WS.sub(" ", text).strip()


_SENTENCE_END = re.compile(r"([.!?…]+[\"'\u201d\u2019)\]]*)(?=\s|$)|([\u3002\uff01\uff1f]+)")
_ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "st", "fig", "no", "cf", "approx", "al"}
)


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences at ``.``/``!``/``?`` (and CJK stops), sparing abbreviations."""
    text = _WS.sub(" ", text).strip()
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if m.group(1) is not None:
            words = text[start : m.start()].split()
            last = words[-1].lower().rstrip(".") if words else ""
            if m.group(1) == "." and (
                last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())
            ):
                continue
        sentence = text[start : m.end()].strip()
        if sentence:
            out.append(sentence)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def _cut_words(text: str, max_chars: int) -> str:
    """``text`` cut at a word boundary so that it plus ``…`` fits in ``max_chars``."""
    if len(text) <= max_chars:
        return text
    if max_chars <= 1:
        return text[:max_chars]
    cut = text[: max_chars - 1]
    space = cut.rfind(" ")
    if space >= max(1, (max_chars - 1) // 2):
        cut = cut[:space]
    return cut.rstrip(" ,;:-\u2013\u2014") + "…"


def _collapsed_prefix(text: str, min_chars: int) -> str:
    """The whitespace-collapsed start of ``text``, at least ``min_chars`` long when the text
    is (only a prefix is collapsed: long texts are not processed in full)."""
    size = max(4 * min_chars, 1024)
    while True:
        collapsed = _WS.sub(" ", text[:size]).strip()
        if size >= len(text) or len(collapsed) >= min_chars:
            return collapsed
        size *= 4


def truncate_text(text: str, max_chars: int, *, max_sentences: int | None = None) -> str:
    """Whitespace-collapsed ``text`` cut to ``max_chars`` at a sentence boundary.

    Whole sentences are kept while they fit (and, with ``max_sentences``, up to that many);
    when not even the first sentence fits, it is cut at a word boundary and ends with ``…``.
    """
    text = _collapsed_prefix(text, max_chars + 2)
    if len(text) <= max_chars and max_sentences is None:
        return text
    sentences = split_sentences(text)
    if max_sentences is not None:
        sentences = sentences[:max_sentences]
    kept: list[str] = []
    length = 0
    for sentence in sentences:
        extra = len(sentence) + (1 if kept else 0)
        if length + extra > max_chars:
            break
        kept.append(sentence)
        length += extra
    if kept:
        return " ".join(kept)
    return _cut_words(sentences[0] if sentences else text, max_chars)


# -- summarize_text -----------------------------------------------------------------------------

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+")
_LINKISH = re.compile(
    r"\[!\[[^\]]*\]\([^)]*\)\]\([^)]*\)|!\[[^\]]*\]\([^)]*\)|\[[^\]]*\]\([^)]*\)|<?https?://\S+"
)
_REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S+")
_BOILERPLATE = frozenset({"table of contents", "contents", "toc", "index"})


def _strip_front_matter(lines: list[str]) -> list[str]:
    """Drop a leading YAML (``---``) or TOML (``+++``) front-matter block."""
    if lines and lines[0].strip() in ("---", "+++"):
        marker = lines[0].strip()
        for i in range(1, min(len(lines), 400)):
            if lines[i].strip() in (marker, "..."):
                return lines[i + 1 :]
    return lines


_CJK = re.compile(r"[\u3040-\u9fff\uac00-\ud7af]")


def _is_link_only(line: str) -> bool:
    """A line made only of links, images, badges and bare URLs (with separators)."""
    rest = _LINKISH.sub("", line)
    return rest != line and not rest.strip(" \t,|·•-")


def _is_informative(paragraph: str, min_words: int = 5) -> bool:
    """Prose worth quoting: ``min_words`` words, or a short phrase that ends like a sentence."""
    if paragraph.lower().strip(" :.") in _BOILERPLATE:
        return False
    words = paragraph.split()
    if len(_CJK.findall(paragraph, 0, 200)) >= 6:
        return True
    if not any(ch.isalpha() for ch in paragraph):
        return False
    return len(words) >= min_words or (len(words) >= 2 and paragraph.rstrip()[-1:] in ".!?:")


def _scan_prose(text: str) -> tuple[list[str], list[str], list[str]]:
    """``(paragraphs, list_items, headings)`` of a Markdown/plain text, markup removed."""
    lines = _strip_front_matter(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    paragraphs: list[str] = []
    items: list[str] = []
    headings: list[str] = []
    current: list[str] = []
    fence: str | None = None

    def flush() -> None:
        if current:
            joined = clean_inline(" ".join(current))
            if joined:
                paragraphs.append(joined)
            current.clear()

    for line in lines:
        stripped = line.strip()
        if fence is not None:
            if stripped.startswith(fence) and not stripped[len(fence) :].strip(fence[0] + " \t"):
                fence = None
            continue
        opening = _FENCE_OPEN.match(line)
        if opening:
            flush()
            fence = opening.group(1)
            continue
        heading = _ATX.match(line)
        if heading:
            flush()
            title = clean_inline(heading.group(2) or "")
            if title:
                headings.append(title)
            continue
        if _SETEXT.match(line) and current:
            title = clean_inline(" ".join(current))
            current.clear()
            if title:
                headings.append(title)
            continue
        if (
            not stripped
            or _RULE.match(line)
            or _is_link_only(stripped)
            or _REF_DEF.match(line)
            or stripped.startswith(("|", "<!--", "-->"))
            or (stripped.startswith("<") and not clean_inline(stripped))
        ):
            flush()
            continue
        if _LIST_ITEM.match(line):
            flush()
            item = clean_inline(_LIST_ITEM.sub("", line, count=1))
            if item:
                items.append(item)
            continue
        current.append(stripped.lstrip("> ").strip() if stripped.startswith(">") else stripped)
    flush()
    return paragraphs, items, headings


_SCAN_PREFIX = 20_000


def summarize_text(title: str, text: str, max_chars: int = 400) -> str:
    """The first informative sentences of ``text`` (at most three), cut to ``max_chars``.

    Headings, front matter, code fences, tables, link-only lines and badges are skipped. A text
    without prose is described by its headings (``Sections: A; B; C``); with neither, the title
    is used. The result is never empty.
    """
    paragraphs, items, headings = _scan_prose(text[:_SCAN_PREFIX])
    prose = [p for p in paragraphs if _is_informative(p)]
    if not prose and len(text) > _SCAN_PREFIX:  # the prose may start later: scan everything
        paragraphs, items, headings = _scan_prose(text)
        prose = [p for p in paragraphs if _is_informative(p)]
    if not prose:
        prose = [i if i.rstrip()[-1:] in ".!?" else i + "." for i in items if _is_informative(i, 3)]
    if prose:
        return truncate_text(" ".join(prose[:6]), max_chars, max_sentences=3)
    if headings:
        unique = list(dict.fromkeys(headings))
        return _cut_words("Sections: " + "; ".join(unique), max_chars)
    fallback = clean_inline(title) or next(
        (clean_inline(line) for line in text.splitlines() if line.strip()), ""
    )
    return _cut_words(fallback or "Untitled", max_chars)


# -- build_overview -----------------------------------------------------------------------------

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
    return [w.lower() for w in _WORD.findall(stem.replace("_", " "))]


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
        weighted += [(w.lower(), 1) for w in _WORD.findall(child.summary.replace("_", " "))]
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
    name = _WS.sub(" ", child.name).strip() or "untitled"
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
    return (cut[:newline] if newline > 0 else _cut_words(cut, max_chars)).rstrip()


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
    title = _WS.sub(" ", dir_name).strip() or "untitled"
    brief = _WS.sub(" ", intro or "").strip() or _synthesised_brief(title, children)
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


def abstract_from_overview(overview: str, max_chars: int = 256) -> str:
    """The L0 abstract: the overview's first paragraph, cut at a sentence boundary.

    That is the paragraph after the ``#`` heading and before the first ``##``; without one, the
    first line that is not a heading (bullet markup removed); failing that, the H1 text.
    """
    lines = overview.replace("\r\n", "\n").split("\n")
    h1 = ""
    paragraph: list[str] = []
    for line in lines:
        stripped = line.strip()
        heading = _ATX.match(line)
        if heading:
            if len(heading.group(1)) == 1 and not h1 and not paragraph:
                h1 = clean_inline(heading.group(2) or "")
                continue
            if paragraph or len(heading.group(1)) >= 2:
                break
            continue
        if not stripped:
            if paragraph:
                break
            continue
        if _FENCE_OPEN.match(line):
            if paragraph:
                break
            continue
        paragraph.append(stripped)
    text = clean_inline(" ".join(paragraph))
    if not text:
        for line in lines:
            if line.strip() and not _ATX.match(line) and not _FENCE_OPEN.match(line):
                text = clean_inline(_LIST_ITEM.sub("", line, count=1))
                if text:
                    break
    if not text:
        text = h1 or "No description."
    return truncate_text(text, max_chars)
