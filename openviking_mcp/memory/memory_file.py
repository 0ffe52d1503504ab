"""The memory file format: a Markdown body followed by a hidden fields block.

::

    User prefers tabs over spaces.

    <!-- MEMORY_FIELDS
    {
      "memory_type": "preferences",
      "version": 2,
      ...
    }
    -->

The block holds the bookkeeping fields (``memory_type``, ``version``, ``created_at``,
``updated_at``, ``source_sessions``, ``tags``) and the schema's non-``content`` fields. Public
reads show :func:`strip_memory_fields`; raw reads keep the block. ``-->`` and ``<!--`` inside
JSON strings are written with ``\\u003e`` / ``\\u003c`` so the block can neither end early nor be
mistaken for another one; the block is always the last ``<!-- MEMORY_FIELDS`` of the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from openviking_mcp.contract.errors import ProcessingError

__all__ = [
    "MemoryDoc",
    "bump_version",
    "isoformat_utc",
    "new_fields",
    "parse_memory",
    "render_memory",
    "strip_memory_fields",
]

_OPEN = "<!-- MEMORY_FIELDS"
_TRAILER = re.compile(r"<!-- MEMORY_FIELDS[ \t]*\n(?P<json>.*)\n?-->\s*\Z", re.S)


@dataclass(frozen=True)
class MemoryDoc:
    """A parsed memory file: the Markdown ``body`` and the ``fields`` of its trailer."""

    body: str
    fields: dict[str, Any] = field(default_factory=dict)


def isoformat_utc(when: datetime) -> str:
    """``2026-11-23T09:30:00Z`` (a naive datetime is taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def render_memory(body: str, fields: Mapping[str, Any]) -> str:
    """The file text: ``body`` (trailing whitespace removed) and the fields block."""
    block = json.dumps(dict(fields), indent=2, ensure_ascii=False, default=str)
    block = block.replace("-->", "--\\u003e").replace("<!--", "\\u003c!--")
    return f"{body.rstrip()}\n\n{_OPEN}\n{block}\n-->\n"


def _trailer(text: str) -> re.Match[str] | None:
    """The fields block ending the text: the last ``<!-- MEMORY_FIELDS`` (render escapes any
    other inside the JSON), running to a final ``-->``."""
    start = text.rfind(_OPEN)
    return None if start < 0 else _TRAILER.match(text, start)


def parse_memory(text: str) -> MemoryDoc:
    """Split a memory file into body and fields; a file without a block has fields ``{}``.

    A block whose JSON is broken raises :class:`ProcessingError` rather than silently losing the
    fields on the next write.
    """
    match = _trailer(text)
    if match is None:
        return MemoryDoc(text.rstrip(), {})
    try:
        fields = json.loads(match.group("json"))
    except json.JSONDecodeError as exc:
        raise ProcessingError(
            f"memory file: the MEMORY_FIELDS block is not valid JSON: {exc}"
        ) from None
    if not isinstance(fields, dict):
        raise ProcessingError("memory file: the MEMORY_FIELDS block is not a JSON object")
    return MemoryDoc(text[: match.start()].rstrip(), fields)


def strip_memory_fields(text: str) -> str:
    """The text a public read shows: the body without the fields block (kept as is otherwise)."""
    match = _trailer(text)
    return text if match is None else text[: match.start()].rstrip() + "\n"


def new_fields(
    memory_type: str,
    now: datetime,
    *,
    source_session: str = "",
    tags: Iterable[str] = (),
) -> dict[str, Any]:
    """The bookkeeping fields of a memory written for the first time (``version`` 1)."""
    stamp = isoformat_utc(now)
    return {
        "memory_type": memory_type,
        "version": 1,
        "created_at": stamp,
        "updated_at": stamp,
        "source_sessions": [source_session] if source_session else [],
        "tags": list(dict.fromkeys(tags)),
    }


def bump_version(fields: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A copy of ``fields`` for the next write: ``version`` + 1, ``updated_at`` = ``now``;
    ``created_at`` is kept (set to ``now`` if it was missing)."""
    out = dict(fields)
    version = out.get("version")
    out["version"] = (version if isinstance(version, int) and version >= 0 else 0) + 1
    stamp = isoformat_utc(now)
    out["updated_at"] = stamp
    out.setdefault("created_at", stamp)
    return out
