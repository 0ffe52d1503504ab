"""Whether a skill input string names a local path: the rule the server's parser
(:mod:`.formats`) and the HTTP clients (which upload such paths) share.

Standard library only, so the HTTP clients can import it without the skill models.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["is_existing_path", "looks_like_path"]

_PATH_PREFIXES = ("./", "../", "~/", "/", ".\\", "..\\", "~\\")
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def looks_like_path(text: str) -> bool:
    """Whether a string would be taken as a path: one line containing ``/`` or ``\\``, or
    starting with ``./``, ``../``, ``~/``, ``/`` or a drive (text with a newline never is)."""
    if "\n" in text or "\r" in text:
        return False
    text = text.strip()
    return (
        "/" in text
        or "\\" in text
        or text.startswith(_PATH_PREFIXES)
        or bool(_DRIVE.match(text))
        or text == "~"
    )


def is_existing_path(text: str) -> bool:
    """A bare single-line name (``SKILL.md``, ``my-skill``) that exists locally."""
    if "\n" in text or "\r" in text or not text.strip():
        return False
    try:
        return Path(text.strip()).exists()
    except OSError:
        return False
