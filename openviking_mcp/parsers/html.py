"""HTML: converted to Markdown with ``markdownify`` (MIT, on BeautifulSoup), then treated as
Markdown. Scripts, styles, navigation, footers and other page chrome are dropped first."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from openviking_mcp.parsers.text import clean_inline

if TYPE_CHECKING:  # BeautifulSoup and markdownify load with the first HTML page
    from bs4 import Tag

__all__ = ["html_to_markdown", "looks_like_html"]

_DROPPED_TAGS = [
    "script",
    "style",
    "nav",
    "footer",
    "noscript",
    "template",
    "iframe",
    "svg",
    "canvas",
    "form",
    "button",
    "head",
]
_BLANK_RUNS = re.compile(r"\n{3,}")
_HTML_START = re.compile(r"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]", re.I | re.S)
_HTML_TAGS = re.compile(r"<(?:html|head|body)[\s>]", re.I)
_H1 = re.compile(r"^# \S", re.M)


def looks_like_html(text: str) -> bool:
    """``text`` starts like an HTML page (doctype or ``<html>``), or has ``<head>``/``<body>``
    near its start."""
    head = text[:2048]
    return bool(_HTML_START.match(head) or len(_HTML_TAGS.findall(head)) >= 2)


def _code_language(el: Tag) -> str:
    """The language of a ``<pre>`` block from a ``language-xxx``/``lang-xxx`` class."""
    from bs4 import Tag

    for node in (el, el.find("code")):
        if isinstance(node, Tag):
            classes = node.get("class")
            names: list[str] = [classes] if isinstance(classes, str) else list(classes or [])
            for cls in names:
                for prefix in ("language-", "lang-"):
                    if cls.startswith(prefix):
                        return cls[len(prefix) :]
    return ""


def html_to_markdown(html: str) -> tuple[str, str]:
    """``(markdown, title)`` of an HTML page; ``title`` comes from ``<title>`` or the first
    ``<h1>`` (empty if neither). A ``# title`` heading is added when the page has no H1."""
    from bs4 import BeautifulSoup
    from markdownify import MarkdownConverter

    soup = BeautifulSoup(html, "html.parser")
    title = ""
    if soup.title is not None:
        title = clean_inline(soup.title.get_text(" ", strip=True))
    if not title:
        h1 = soup.find("h1")
        if h1 is not None:
            title = clean_inline(h1.get_text(" ", strip=True))
    for tag in soup.find_all(_DROPPED_TAGS):
        tag.decompose()
    for tag in soup.find_all(True, attrs={"role": "navigation"}):
        tag.decompose()
    converter = MarkdownConverter(
        heading_style="atx",
        bullets="-",
        escape_asterisks=False,
        escape_underscores=False,
        code_language_callback=_code_language,
    )
    root = soup.body if soup.body is not None else soup
    markdown = converter.convert_soup(root)
    lines = [line.rstrip() for line in markdown.replace("\r\n", "\n").split("\n")]
    markdown = _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()
    if title and not _H1.search(markdown):
        markdown = f"# {title}\n\n{markdown}" if markdown else f"# {title}"
    return markdown + "\n", title
