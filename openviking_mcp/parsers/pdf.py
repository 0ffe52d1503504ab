"""PDF: text extracted page by page with ``pypdf`` (BSD) and stored as Markdown.

Pages are joined with blank lines; when the text has no Markdown headings of its own, each page
gets a ``## Page N`` heading so that long documents split by page. Encrypted (without an empty
user password), broken and image-only PDFs are reported to the caller, which keeps the original
file as binary.
"""

from __future__ import annotations

import io
import logging
import re

__all__ = ["PdfError", "pdf_to_markdown"]

logger = logging.getLogger("openviking_mcp.resources")

_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.M)
_BLANK_RUNS = re.compile(r"\n{3,}")


class PdfError(Exception):
    """The PDF cannot be read as text; the message says why (for a warning)."""


def pdf_to_markdown(data: bytes) -> tuple[str, str, list[str]]:
    """``(markdown, title, warnings)`` for a PDF; raises :class:`PdfError` when no text can be
    extracted (encrypted, broken or scanned). ``title`` is the metadata title or empty."""
    from pypdf import PdfReader  # imported lazily: pypdf is only needed for PDFs

    warnings: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise PdfError("PDF is encrypted")
        pages = list(reader.pages)
    except PdfError:
        raise
    except Exception as exc:
        raise PdfError(f"PDF could not be read ({type(exc).__name__}: {exc})") from exc
    title = ""
    try:
        meta = reader.metadata
        title = " ".join((meta.title or "").split()) if meta is not None else ""
    except Exception:
        title = ""
    texts: list[str] = []
    failed = 0
    for page in pages:
        try:
            text = page.extract_text() or ""
        except Exception as exc:
            logger.debug("pdf page text failed: %s", exc)
            failed += 1
            text = ""
        text = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n"))
        texts.append(_BLANK_RUNS.sub("\n\n", text).strip())
    if failed:
        warnings.append(f"text of {failed} of {len(pages)} PDF pages could not be extracted")
    if not any(texts):
        raise PdfError("PDF has no extractable text (scanned or image-only?)")
    if any(_HEADING.search(t) for t in texts):
        body = "\n\n".join(t for t in texts if t)
    else:
        body = "\n\n".join(f"## Page {n}\n\n{t}" for n, t in enumerate(texts, start=1) if t)
    if title:
        body = f"# {title}\n\n{body}"
    return body + "\n", title, warnings
