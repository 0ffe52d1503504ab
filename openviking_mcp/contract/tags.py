"""Tags and attributes: explicit ``k=v`` retrieval tags set on a file or directory.

A tag is a ``key=value`` string, lower-cased, with exactly one ``=`` and both sides non-empty;
a list of tags holds one value per key (the last one given wins) in the order the keys first
appeared. The index rows of a tagged path carry its tags, so ``find``/``search`` with
``tags=[...]`` only return paths that have every one of them. Tags are stored per path: a
directory's tags are on its L0/L1 rows, a file's on its passages; ``recursive`` tags every
path below a directory as well. ``mode`` says how the given tags combine with a path's own:
``replace`` (an empty list changes nothing), ``append`` (merged by key) or ``clear``.

``attrs`` answers a path's logical attributes: its tags and, for a memory file, the fields of
its hidden fields block.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field

from openviking_mcp.contract.base import Request, Result, omitted
from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.contract.operations import Operation, Route

__all__ = [
    "OPERATIONS",
    "Attrs",
    "AttrsRequest",
    "AttrsResult",
    "SetTagsRequest",
    "SetTagsResult",
    "TagMode",
    "apply_tag_mode",
    "merge_tags",
    "normalize_tag",
    "normalize_tags",
]

TagMode = Literal["replace", "append", "clear"]


def normalize_tag(tag: object) -> str:
    """``tag`` as a stored tag (lower-cased, stripped), else ``INVALID_ARGUMENT``."""
    value = str(tag).strip().lower()
    key, sep, rest = value.partition("=")
    if not sep or "=" in rest or not key or not rest:
        raise InvalidArgumentError(
            f"Invalid tag {tag!r}: expected strict k=v with a non-empty key and value",
            {"tag": str(tag)},
        )
    return value


def normalize_tags(tags: Iterable[object] | None, *, discard_invalid: bool = False) -> list[str]:
    """Normalized tags, one per key (the last value wins, the first position is kept).
    ``discard_invalid`` drops malformed tags instead of refusing them."""
    by_key: dict[str, str] = {}
    for item in tags or ():
        if item is None:
            continue
        try:
            tag = normalize_tag(item)
        except InvalidArgumentError:
            if discard_invalid:
                continue
            raise
        key, _, value = tag.partition("=")
        by_key[key] = value
    return [f"{k}={v}" for k, v in by_key.items()]


def merge_tags(existing: Iterable[str], incoming: Iterable[str]) -> list[str]:
    """``existing`` with ``incoming`` merged in by key (incoming values win)."""
    return normalize_tags([*existing, *incoming], discard_invalid=True)


def apply_tag_mode(existing: list[str], tags: list[str], mode: TagMode) -> list[str]:
    """A path's tags after setting ``tags`` (normalized) with ``mode``."""
    if mode == "clear":
        return []
    if mode == "append":
        return merge_tags(existing, tags)
    return list(tags)


class SetTagsRequest(Request):
    """Set the ``k=v`` retrieval tags of a file or directory (and, recursively, below it)."""

    uri: str = Field(description="A viking:// URI.")
    tags: list[str] | None = Field(default=None, description="k=v tags.")
    mode: TagMode = Field(
        default="replace",
        description="replace (empty: no change), append (merge by key) or clear.",
    )
    recursive: bool = Field(default=False, description="Also tag every path below a directory.")


class SetTagsResult(Result):
    """``updated_uris``: the paths whose tags changed (stored, and on their index rows);
    ``skipped_count``: the paths left as they were."""

    uri: str
    updated_uris: list[str]
    root_uri: str
    context_type: str
    tags: list[str]
    mode: str
    success_count: int
    skipped_count: int
    failed_count: int = 0
    tags_updated: bool


class AttrsRequest(Request):
    """The logical attributes of a path: its tags (and a memory file's fields)."""

    uri: str = Field(description="A viking:// URI.")


class Attrs(Result):
    tags: list[str]
    memory: dict[str, Any] | None = omitted()


class AttrsResult(Result):
    uri: str
    context_type: str
    attrs: Attrs


OPERATIONS = (
    Operation(
        "set_tags",
        "tags.set_tags",
        SetTagsRequest,
        SetTagsResult,
        ("uri", "tags", "mode", "recursive"),
        Route("POST", "/api/v1/content/set_tags"),
    ),
    Operation(
        "attrs",
        "tags.attrs",
        AttrsRequest,
        AttrsResult,
        ("uri",),
        Route("GET", "/api/v1/fs/attrs"),
    ),
)
