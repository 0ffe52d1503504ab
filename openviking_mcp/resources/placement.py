"""Where imported files land, as the original places them (pure, no I/O).

* A single image, audio or video file imported without ``to`` or ``parent`` goes below the
  day's media folder, ``viking://resources/{images|audio|video}/YYYY/MM/DD`` (UTC), in a
  folder named ``{stem}_{ext}`` that holds the file under its own name
  (``.../images/2026/01/31/photo_png/photo.png``).
* In a folder import, each document (Markdown, plain text, PDF, HTML, office files) gets a
  folder named after it (``bench/note_00.md`` → ``bench/note_00/note_00.md``); code, data and
  media files keep their place.
"""

from __future__ import annotations

from datetime import UTC, datetime

from openviking_mcp.parsers.media import media_kind

__all__ = ["folder_per_file", "media_name", "media_parent"]

_MEDIA_FOLDERS = {"image": "images", "audio": "audio", "video": "video"}
_DOCUMENTS = frozenset(
    {".md", ".markdown", ".mdx", ".mdown", ".mkd", ".mkdn", ".txt", ".text", ".pdf"}
    | {".html", ".htm", ".xhtml", ".doc", ".docx", ".ppt", ".pptx", ".xls", ".xlsx", ".epub"}
)


def _split(filename: str) -> tuple[str, str]:
    dot = filename.rfind(".")
    if dot <= 0:
        return filename, ""
    return filename[:dot], filename[dot + 1 :].lower()


def media_parent(filename: str, is_dir: bool, now: datetime | None = None) -> str | None:
    """The day's media folder for a single media file (``None`` for anything else)."""
    kind = None if is_dir else media_kind(filename)
    if kind is None:
        return None
    day = (now or datetime.now(UTC)).astimezone(UTC)
    return f"viking://resources/{_MEDIA_FOLDERS[kind]}/{day:%Y/%m/%d}"


def media_name(stem: str, filename: str) -> str:
    """The folder of a media import: ``{stem}_{ext}`` (``stem`` is the auto-chosen name)."""
    _, ext = _split(filename)
    return f"{stem}_{ext}" if ext else stem


def folder_per_file(filename: str) -> bool:
    """Whether a file of a folder import gets a folder of its own (documents do)."""
    _, ext = _split(filename)
    return f".{ext}" in _DOCUMENTS if ext else False
