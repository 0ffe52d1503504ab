"""Plain-text helpers shared by the parsers, summaries and context assembly: token estimates,
inline Markdown clean-up, sentence splitting, truncation on word and sentence boundaries, and
the extractive summary of a document (:func:`summarize_text`). Deterministic: no model, no disk.
"""

from __future__ import annotations

import math
import re

__all__ = [
    "ATX_HEADING",
    "FENCE_OPEN",
    "LIST_ITEM",
    "WHITESPACE",
    "WORD",
    "clean_inline",
    "cut_words",
    "estimate_tokens",
    "split_sentences",
    "summarize_text",
    "truncate_text",
]


WHITESPACE = re.compile(r"\s+")
WORD = re.compile(r"\w+", re.UNICODE)


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
    return WHITESPACE.sub(" ", text).strip()


_SENTENCE_END = re.compile(r"([.!?…]+[\"'\u201d\u2019)\]]*)(?=\s|$)|([\u3002\uff01\uff1f]+)")
_ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "st", "fig", "no", "cf", "approx", "al"}
)


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences at ``.``/``!``/``?`` (and CJK stops), sparing abbreviations."""
    text = WHITESPACE.sub(" ", text).strip()
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


def cut_words(text: str, max_chars: int) -> str:
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
        collapsed = WHITESPACE.sub(" ", text[:size]).strip()
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
    return cut_words(sentences[0] if sentences else text, max_chars)


# -- summarize_text -----------------------------------------------------------------------------

FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+")
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


def _closes_fence(stripped: str, fence: str) -> bool:
    """Whether a stripped line closes the code fence opened by ``fence``."""
    return stripped.startswith(fence) and not stripped[len(fence) :].strip(fence[0] + " \t")


def _is_non_prose(line: str, stripped: str) -> bool:
    """A line that ends a paragraph without adding text: blank, a rule, links or badges only,
    a link reference definition, a table row, an HTML comment or a markup-only HTML line."""
    return bool(
        not stripped
        or _RULE.match(line)
        or _is_link_only(stripped)
        or _REF_DEF.match(line)
        or stripped.startswith(("|", "<!--", "-->"))
        or (stripped.startswith("<") and not clean_inline(stripped))
    )


def _add_clean(out: list[str], text: str) -> None:
    """Append ``text`` to ``out`` with inline markup removed, unless nothing is left."""
    cleaned = clean_inline(text)
    if cleaned:
        out.append(cleaned)


def _unquote(stripped: str) -> str:
    """A stripped line without its leading block-quote markers."""
    return stripped.lstrip("> ").strip() if stripped.startswith(">") else stripped


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
            _add_clean(paragraphs, " ".join(current))
            current.clear()

    for line in lines:
        stripped = line.strip()
        if fence is not None:
            if _closes_fence(stripped, fence):
                fence = None
            continue
        opening = FENCE_OPEN.match(line)
        if opening:
            flush()
            fence = opening.group(1)
            continue
        heading = ATX_HEADING.match(line)
        if heading:
            flush()
            _add_clean(headings, heading.group(2) or "")
            continue
        if _SETEXT.match(line) and current:
            _add_clean(headings, " ".join(current))
            current.clear()
            continue
        if _is_non_prose(line, stripped):
            flush()
            continue
        if LIST_ITEM.match(line):
            flush()
            _add_clean(items, LIST_ITEM.sub("", line, count=1))
            continue
        current.append(_unquote(stripped))
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
        return cut_words("Sections: " + "; ".join(unique), max_chars)
    fallback = clean_inline(title) or next(
        (clean_inline(line) for line in text.splitlines() if line.strip()), ""
    )
    return cut_words(fallback or "Untitled", max_chars)


# -- build_overview -----------------------------------------------------------------------------
