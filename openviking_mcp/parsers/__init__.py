"""Parsers: turn one uploaded document into the files of a resource directory.

:func:`parse_document` is the entry point. It picks a format from the file name (and, for
unknown names, from the bytes), then:

* Markdown (and HTML and PDF, converted to Markdown) is stored as ``{stem}.md``, or, when it is
  larger than ``max_section_tokens``, split into a tree of numbered section files;
* plain text is stored as one ``{stem}.txt`` (the indexer cuts passages itself);
* source code and structured data are kept as-is, with a summary of their declarations or
  shape;
* anything else is kept byte for byte as a binary file.

Parsing never raises on bad content (a broken PDF becomes a binary file with a warning); only an
empty file name is an error. Each module of this package handles one format.
"""

from __future__ import annotations

import logging

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.parsers.base import (
    ParsedFile,
    ParsedResource,
    binary_file,
    decode_text,
    sanitize_name,
    slugify,
    split_filename,
)
from openviking_mcp.parsers.code import (
    LANGUAGES,
    LANGUAGES_BY_NAME,
    code_skeleton,
    code_summary,
)
from openviking_mcp.parsers.data import DATA_FORMATS, data_summary
from openviking_mcp.parsers.html import html_to_markdown, looks_like_html
from openviking_mcp.parsers.markdown import MarkdownPart, markdown_title, split_markdown
from openviking_mcp.parsers.pdf import PdfError, pdf_to_markdown
from openviking_mcp.parsers.text import estimate_tokens, summarize_text

__all__ = [
    "ParsedFile",
    "ParsedResource",
    "code_skeleton",
    "detect_kind",
    "parse_document",
    "sanitize_name",
]

logger = logging.getLogger("openviking_mcp.resources")

_MARKDOWN = frozenset({".md", ".markdown", ".mdx", ".mdown", ".mkd", ".mkdn"})
_TEXT = frozenset({".txt", ".text", ".rst", ".log", ".adoc", ".asciidoc", ".org", ".tex"})
_HTML = frozenset({".html", ".htm", ".xhtml", ".shtml"})
_BINARY_EXTENSIONS = (
    ".png .jpg .jpeg .gif .webp .bmp .ico .tif .tiff .heic .avif .psd .zip .gz .tgz .bz2 .xz "
    ".zst .7z .rar .tar .jar .war .whl .egg .exe .dll .so .dylib .bin .o .a .lib .class .pyc "
    ".wasm .woff .woff2 .ttf .otf .eot .mp3 .mp4 .m4a .wav .ogg .oga .flac .aac .mov .avi .mkv "
    ".webm .doc .docx .xls .xlsx .ppt .pptx .odt .ods .odp .epub .sqlite .sqlite3 .db .parquet "
    ".feather .arrow .avro .orc .pkl .pickle .npy .npz .onnx .pt .pth .safetensors .h5 .iso "
    ".dmg .deb .rpm .apk"
)
_BINARY = frozenset(_BINARY_EXTENSIONS.split())


_SNIFF_BYTES = 65536


def _format(filename: str, data: bytes) -> str:
    """``markdown``/``html``/``pdf``/``text``/``code``/``data``/``binary`` from name and bytes
    (a cheap decision; the bytes may still turn out undecodable later)."""
    base, _stem, ext = split_filename(filename)
    if ext == ".pdf" or data.startswith(b"%PDF-"):
        return "pdf"
    if ext in _BINARY:
        return "binary"
    if ext in _MARKDOWN:
        return "markdown"
    if ext in _HTML:
        return "html"
    if ext in _TEXT and base.lower() != "cmakelists.txt":
        return "text"
    if ext in LANGUAGES or base.lower() in LANGUAGES_BY_NAME:
        return "code"
    if ext in DATA_FORMATS:
        return "data"
    cut = min(len(data), _SNIFF_BYTES)
    while 0 < cut < len(data) and cut > _SNIFF_BYTES - 4 and data[cut] & 0xC0 == 0x80:
        cut -= 1  # do not cut a UTF-8 character in two
    text, _warning = decode_text(data[:cut])
    if text is None:
        return "binary"
    return "html" if looks_like_html(text) else "text"


def detect_kind(filename: str, data: bytes) -> str:
    """The stored kind of a document: ``markdown`` (also HTML and PDF, converted), ``text``,
    ``code``, ``data`` or ``binary``. Undecodable bytes are ``binary`` whatever the name."""
    fmt = _format(filename, data)
    if fmt in ("html", "pdf"):
        return "markdown"
    if fmt == "binary":
        return "binary"
    text, _warning = decode_text(data, lenient=True)
    return fmt if text is not None else "binary"


def _markdown_files(
    text: str, stem: str, title: str, *, max_tokens: int, min_tokens: int, no_split: bool
) -> list[ParsedFile]:
    name = sanitize_name(stem)
    if no_split or estimate_tokens(text) <= max_tokens:
        return [
            ParsedFile(
                f"{name}.md",
                text.encode("utf-8"),
                "markdown",
                title,
                summarize_text(title, text),
                text,
            )
        ]
    parts = split_markdown(
        text,
        slugify(stem, default=name),
        max_tokens=max_tokens,
        min_tokens=min_tokens,
        default_title=title,
    )
    if len(parts) == 1:
        parts = [MarkdownPart(f"{name}.md", parts[0].text, parts[0].title)]
    return [
        ParsedFile(
            p.path,
            p.text.encode("utf-8"),
            "markdown",
            p.title,
            summarize_text(p.title, p.text),
            p.text,
        )
        for p in parts
    ]


def _parse(
    filename: str,
    data: bytes,
    max_tokens: int,
    min_tokens: int,
    no_split: bool,
    warnings: list[str],
) -> list[ParsedFile]:
    base, stem, ext = split_filename(filename)
    fmt = _format(filename, data)
    if fmt == "binary":
        return [binary_file(filename, data)]
    if fmt == "pdf":
        try:
            markdown, pdf_title, pdf_warnings = pdf_to_markdown(data)
        except PdfError as exc:
            warnings.append(f"{base}: {exc}; kept as a binary file")
            return [binary_file(filename, data)]
        warnings.extend(f"{base}: {w}" for w in pdf_warnings)
        title = pdf_title or stem  # "Page 1" is no title: fall back to the file name
        return _markdown_files(
            markdown, stem, title, max_tokens=max_tokens, min_tokens=min_tokens, no_split=no_split
        )
    text, warning = decode_text(data, lenient=True)
    if text is None:
        return [binary_file(filename, data)]
    if warning:
        warnings.append(f"{base}: {warning}")
    if fmt == "html":
        markdown, html_title = html_to_markdown(text)
        title = html_title or markdown_title(markdown, stem)
        return _markdown_files(
            markdown, stem, title, max_tokens=max_tokens, min_tokens=min_tokens, no_split=no_split
        )
    if fmt == "markdown":
        return _markdown_files(
            text,
            stem,
            markdown_title(text, stem),
            max_tokens=max_tokens,
            min_tokens=min_tokens,
            no_split=no_split,
        )
    if fmt == "text":  # .txt/.rst/.log and no extension: {stem}.txt; unknown ones keep theirs
        name = f"{sanitize_name(stem)}.txt" if not ext or ext in _TEXT else sanitize_name(base)
        summary = summarize_text(stem, text)
        return [ParsedFile(name, text.encode("utf-8"), "text", stem, summary, text)]
    name = sanitize_name(base)
    content = data if warning is None else text.encode("utf-8")
    if fmt == "code":
        return [ParsedFile(name, content, "code", base, code_summary(base, text), text)]
    summary = data_summary(DATA_FORMATS.get(ext, ext.lstrip(".").upper() or "Data"), text)
    return [ParsedFile(name, content, "data", base, summary, text)]


def parse_document(
    filename: str,
    data: bytes,
    *,
    max_section_tokens: int = 1024,
    min_section_tokens: int = 128,
    no_split: bool = False,
) -> ParsedResource:
    """Parse one document into the files of a resource directory named after its stem.

    ``max_section_tokens`` is the size above which Markdown is split into section files, and
    ``min_section_tokens`` the size under which a section joins the previous one; ``no_split``
    keeps any document as a single file. Raises :class:`InvalidArgumentError` only for an
    empty ``filename``: unreadable content is kept as a binary file with a warning.
    """
    if not filename or not filename.strip():
        raise InvalidArgumentError("filename must not be empty", {"filename": filename})
    _base, stem, _ext = split_filename(filename.strip())
    warnings: list[str] = []
    try:
        files = _parse(
            filename.strip(), data, max_section_tokens, min_section_tokens, no_split, warnings
        )
    except Exception as exc:  # a parser bug must not lose the upload: keep the bytes
        logger.warning("parsing %s failed; keeping it as a binary file", filename, exc_info=True)
        warnings.append(
            f"{filename}: could not be parsed ({type(exc).__name__}: {exc}); kept as a binary file"
        )
        files = [binary_file(filename, data)]
    return ParsedResource(sanitize_name(stem), files, warnings)
