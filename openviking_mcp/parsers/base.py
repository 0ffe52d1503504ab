"""The parsers' result types and the helpers every format shares: names, decoding, sizes."""

from __future__ import annotations

import codecs
import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from openviking_mcp.parsers.media import media_info, media_kind

__all__ = [
    "ParsedFile",
    "ParsedResource",
    "binary_file",
    "decode_text",
    "human_size",
    "sanitize_name",
    "slugify",
    "split_filename",
]


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """One file to store inside a resource directory."""

    path: str  # relative POSIX path inside the resource directory ("02-setup/01-install.md")
    content: bytes  # what gets stored (UTF-8 for text)
    kind: str  # "markdown" | "text" | "code" | "data" | "binary"
    title: str  # human title (first heading, file stem...)
    summary: str  # 1-3 sentence extractive description (≤ 400 chars), never empty
    text: str | None  # searchable text (None for binary)


@dataclass(frozen=True, slots=True)
class ParsedResource:
    """What one uploaded document became: a directory name and the files to put in it."""

    name: str  # sanitized resource (directory) name
    files: list[ParsedFile]
    warnings: list[str] = field(default_factory=list)


_MAX_NAME = 100
_MARK = "\x00"  # stands for a replaced character until runs are collapsed
_MARK_RUNS = re.compile("\x00+")
_DOTS = re.compile(r"\.{2,}")


def _safe_char(ch: str) -> str:
    """``ch`` if it is a letter, digit, mark, ``-``, ``_`` or ``.``, else the placeholder."""
    if ch in "-_.":
        return ch
    return ch if unicodedata.category(ch)[0] in "LNM" else _MARK


def sanitize_name(name: str) -> str:
    """A safe single path segment made from ``name``.

    Unicode letters and digits, ``-``, ``_`` and ``.`` are kept (NFC-normalised); every run of
    other characters becomes one ``_`` and runs of dots collapse to one; leading dots and
    spaces (and replaced characters at either end) and trailing dots go, so ``__init__.py``
    stays as it is while ``../x`` becomes ``x``. The result has at most 100 characters (an
    extension is kept when it is cut), is never empty (``untitled``) and never ``.``/``..``.
    """
    text = "".join(_safe_char(ch) for ch in unicodedata.normalize("NFC", name).strip())
    text = _DOTS.sub(".", _MARK_RUNS.sub(_MARK, text))
    text = text.lstrip("." + _MARK).rstrip("." + _MARK).replace(_MARK, "_")
    if len(text) > _MAX_NAME:
        stem, dot, ext = text.rpartition(".")
        if dot and stem and 0 < len(ext) <= 16:
            text = stem[: _MAX_NAME - len(ext) - 1].rstrip(".") + "." + ext
        else:
            text = text[:_MAX_NAME].rstrip(".")
    if not text or text in (".", ".."):
        return "untitled"
    return text


_SLUG_SPLIT = re.compile(r"[^\w]+|_+", re.UNICODE)


def slugify(text: str, max_chars: int = 60, default: str = "section") -> str:
    """A lowercase ``words-joined-by-dashes`` slug for a heading, cut at a dash boundary."""
    words = [w for w in _SLUG_SPLIT.split(unicodedata.normalize("NFC", text).lower()) if w]
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_chars:
            if not slug:
                slug = word[:max_chars]
            break
        slug = candidate
    return sanitize_name(slug) if slug else default


def split_filename(filename: str) -> tuple[str, str, str]:
    """``(basename, stem, lowercase extension with dot)`` of a possibly path-like filename."""
    base = PurePosixPath(filename.replace("\\", "/")).name or "untitled"
    suffix = PurePosixPath(base).suffix
    stem = base[: len(base) - len(suffix)] if suffix else base
    return base, stem, suffix.lower()


_UTF32_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"))
_UTF16_BOMS = ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_text(data: bytes, *, lenient: bool = False) -> tuple[str | None, str | None]:
    """``(text, warning)``: ``data`` decoded as text with newlines normalised to ``\\n``.

    A UTF-8/UTF-16/UTF-32 byte-order mark picks the codec (and is dropped). Otherwise the data
    must be valid UTF-8 without NUL bytes; with ``lenient`` (the name says it is text), bytes
    that are not UTF-8 but look like Windows-1252 text are accepted with a warning. ``text`` is
    ``None`` for binary data.
    """
    text: str | None = None
    warning: str | None = None
    try:
        if data.startswith(codecs.BOM_UTF8):
            text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
        else:
            for bom, codec in (*_UTF32_BOMS, *_UTF16_BOMS):
                if data.startswith(bom):
                    text = data[len(bom) :].decode(codec)
                    break
    except UnicodeDecodeError:
        return None, None
    if text is None:
        if b"\x00" in data[:8192]:
            return None, None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            if not lenient:
                return None, None
            text = data.decode("cp1252", errors="replace")
            if len(_CONTROL.findall(text[:8192])) > len(text[:8192]) // 100:
                return None, None
            warning = "not valid UTF-8; decoded as Windows-1252"
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return text, warning


def human_size(size: int) -> str:
    """``512 B``, ``1.5 KB``, ``3.0 MB``... (powers of 1024)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover - the loop always returns


def binary_file(filename: str, data: bytes) -> ParsedFile:
    """``data`` kept as-is under its own (sanitised) name, described by size and MIME type."""
    base, _stem, _ext = split_filename(filename)
    name = sanitize_name(base)
    mime = mimetypes.guess_type(base, strict=False)[0] or "unknown"
    summary = f"Binary file {name}, {human_size(len(data))}, type {mime}."
    kind = media_kind(base)
    if kind is not None:
        summary = f"{kind.capitalize()} {name}: {_describe(media_info(base, data))}, " + (
            f"{human_size(len(data))}, type {mime}."
        )
    return ParsedFile(name, data, "binary", name, summary, None)


def _describe(info: dict[str, Any]) -> str:
    """``png, 640x480 px`` or ``wav, 3.5 s, 44100 Hz, 2 channels``: a media file's facts."""
    parts = [str(info["format"])]
    if "width" in info:
        parts.append(f"{info['width']}x{info['height']} px")
    if "duration" in info:
        parts.append(f"{info['duration']:g} s")
    if info.get("sample_rate"):
        parts.append(f"{info['sample_rate']} Hz")
    if info.get("channels"):
        parts.append(f"{info['channels']} channel" + ("s" if info["channels"] != 1 else ""))
    return ", ".join(parts)
