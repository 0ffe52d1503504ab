"""grep and glob over the content tree (pure matching; the service walks the tree)."""

from __future__ import annotations

import re
from functools import lru_cache

from openviking_mcp.contract.errors import InvalidArgumentError

__all__ = ["compile_glob", "compile_grep"]

_MAX_PATTERN = 1000


def compile_grep(pattern: str, case_insensitive: bool) -> re.Pattern[str]:
    if not pattern or len(pattern) > _MAX_PATTERN:
        raise InvalidArgumentError(f"pattern must be 1 to {_MAX_PATTERN} characters")
    try:
        return re.compile(pattern, re.IGNORECASE if case_insensitive else 0)
    except re.error as exc:
        raise InvalidArgumentError(
            f"Invalid regular expression: {exc}", {"pattern": pattern}
        ) from exc


@lru_cache(maxsize=256)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """Shell-style glob over relative paths: ``*`` and ``?`` stay inside one segment, ``**``
    spans segments (``**/`` also matches zero folders), ``[...]`` is a character class."""
    if not pattern or len(pattern) > _MAX_PATTERN:
        raise InvalidArgumentError(f"pattern must be 1 to {_MAX_PATTERN} characters")
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end < 0:
                out.append(re.escape(ch))
                i += 1
                continue
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
            i = end + 1
        else:
            out.append(re.escape(ch))
            i += 1
    try:
        return re.compile("".join(out) + r"\Z")
    except re.error as exc:
        raise InvalidArgumentError(f"Invalid glob pattern: {pattern}") from exc
