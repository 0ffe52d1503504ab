"""Cheap near-duplicate detection for memories, and de-duplication of one batch of operations.

:func:`text_similarity` is the Jaccard index of two token sets: words are lowercased,
NFKC-normalised, stripped of a short English stop-word list and of a plural ``s``; runs of CJK
characters become character bigrams. No model is involved, so it catches rewordings that keep
the words ("The user prefers dark mode" / "User prefers dark mode.") and not paraphrases
("likes dark themes"), which is what the LLM, seeing the existing memories, is for.

``NEAR_DUPLICATE = 0.85``: at this level two short statements differ by at most about one
content word in seven; "User prefers dark mode." vs "User prefers dark mode in editors." (0.67)
stay apart, "User prefers dark mode." vs "The user prefers dark mode!" (1.0) merge.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.memory.memory_schema import (
    CONTENT_FIELD,
    MemorySchema,
    load_schemas,
    memory_relpath,
)
from openviking_mcp.memory.operations import MemoryOperation

__all__ = [
    "NEAR_DUPLICATE",
    "already_said",
    "containment",
    "dedupe_operations",
    "is_near_duplicate",
    "same_event",
    "text_similarity",
    "tokens",
]

NEAR_DUPLICATE = 0.85


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WORD = re.compile(r"[^\W_]+", re.U)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
_STOP = _words(
    "a an the is are was were be been am of to in on at for and or with that this it "
    "its their they them user users s"
)


def tokens(text: str) -> frozenset[str]:
    """The normalised token set :func:`text_similarity` compares."""
    text = unicodedata.normalize("NFKC", text).lower()
    out: set[str] = set()
    for run in _CJK.findall(text):
        out.update(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    for word in _WORD.findall(_CJK.sub(" ", text)):
        if word in _STOP:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.add(word)
    return frozenset(out)


def text_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the token sets of ``a`` and ``b`` in ``[0, 1]`` (two texts with
    no tokens are identical: 1.0; one empty: 0.0)."""
    ta, tb = tokens(a), tokens(b)
    if not ta and not tb:
        return 1.0
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def containment(a: str, b: str, *, min_tokens: int = 3) -> float:
    """How much of the shorter text the longer one holds: ``|A ∩ B| / min(|A|, |B|)``.

    Catches restatements that add or drop words ("billing runs on Kubernetes" inside "the
    billing service runs on Kubernetes"), which Jaccard scores low. Texts with fewer than
    ``min_tokens`` tokens score 0 (too little to judge)."""
    ta, tb = tokens(a), tokens(b)
    if min(len(ta), len(tb)) < min_tokens:
        return 0.0
    return len(ta & tb) / min(len(ta), len(tb))


def is_near_duplicate(a: str, b: str) -> bool:
    """Jaccard at or above :data:`NEAR_DUPLICATE`, or one text wholly inside the other."""
    return text_similarity(a, b) >= NEAR_DUPLICATE or containment(a, b) >= 1.0


def same_event(a: str, b: str, *, ignore_numbers: bool = False) -> bool:
    """Whether two event texts of one day record the same thing: Jaccard at or above
    :data:`NEAR_DUPLICATE`. With ``ignore_numbers`` tokens holding a digit (times, counts,
    session ids such as ``s1``) are left out first: two session summaries of the same messages
    differ only there."""
    if not ignore_numbers:
        return text_similarity(a, b) >= NEAR_DUPLICATE
    ta = {t for t in tokens(a) if not any(c.isdigit() for c in t)}
    tb = {t for t in tokens(b) if not any(c.isdigit() for c in t)}
    if not ta or not tb:
        return ta == tb
    return len(ta & tb) / len(ta | tb) >= NEAR_DUPLICATE


def already_said(text: str, addition: str) -> bool:
    """Whether ``text`` already holds ``addition``: verbatim (whitespace and case aside) or as
    a paragraph at least :data:`NEAR_DUPLICATE` similar."""
    flat = " ".join(text.split()).casefold()
    if " ".join(addition.split()).casefold() in flat:
        return True
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return any(text_similarity(p, addition) >= NEAR_DUPLICATE for p in paragraphs)


def _target(op: MemoryOperation, schemas: Mapping[str, MemorySchema], when: datetime) -> str | None:
    if op.uri:
        return op.uri
    schema = schemas.get(op.memory_type)
    if schema is None:
        return None
    try:
        return f"{op.memory_type}:{memory_relpath(schema, op.fields, when)}"
    except InvalidArgumentError:
        return None


def _fold(
    first: dict[str, Any], later: Mapping[str, Any], schema: MemorySchema | None
) -> dict[str, Any]:
    """``first`` with what ``later`` adds: new keys, appended text, list union, patch blocks,
    numbers summed for ``sum`` fields and later values for ``replace`` fields."""
    out = dict(first)
    for key, value in later.items():
        spec = schema.field(key) if schema is not None else None
        if key not in out or out[key] in (None, "", []):
            out[key] = value
            continue
        old = out[key]
        if isinstance(old, str) and isinstance(value, str):
            if key == CONTENT_FIELD and not already_said(old, value):
                out[key] = f"{old.rstrip()}\n\n{value.strip()}"
            elif key != CONTENT_FIELD and spec is not None and spec.merge_op == "replace":
                out[key] = value
        elif isinstance(old, list) and isinstance(value, list):
            out[key] = old + [v for v in value if v not in old]
        elif spec is not None and spec.merge_op == "sum":
            if isinstance(old, int | float) and isinstance(value, int | float):
                out[key] = old + value
        elif spec is not None and spec.merge_op == "replace":
            out[key] = value
    return out


def dedupe_operations(
    ops: Sequence[MemoryOperation],
    schemas: Mapping[str, MemorySchema] | None = None,
    *,
    when: datetime | None = None,
) -> list[MemoryOperation]:
    """``ops`` without the duplicates of one batch, order kept.

    * Two operations on the same target (the same ``uri``, or adds rendering to the same path)
      become one: the first, with the later one's fields folded in (new fields, content
      appended unless near-duplicate, lists and patch blocks concatenated, later values for
      ``replace`` fields, sums for ``sum`` fields; immutable fields keep the first value).
    * An add whose ``content`` is a near-duplicate (``>= NEAR_DUPLICATE``) of an earlier add of
      the same type is dropped.
    * A delete of a uri that the same batch also updates is dropped: on a contradictory batch
      the memory is kept rather than lost.

    ``schemas`` defaults to the built-ins; ``when`` (default now) dates adds without a date.
    """
    schemas = schemas if schemas is not None else load_schemas()
    when = when or datetime.now(UTC)
    updated = {op.uri for op in ops if op.op == "update" and op.uri}
    kept: list[MemoryOperation] = []
    by_target: dict[tuple[str, str], int] = {}
    for op in ops:
        if op.op == "delete" and op.uri in updated:
            continue
        target = _target(op, schemas, when)
        key = (op.op, target) if target is not None else None
        if key is not None and key in by_target:
            index = by_target[key]
            if op.op != "delete":
                first = kept[index]
                folded = _fold(first.fields, op.fields, schemas.get(op.memory_type))
                kept[index] = first.model_copy(update={"fields": folded})
            continue
        if op.op == "add":
            content = str(op.fields.get(CONTENT_FIELD) or "")
            if content and any(
                other.op == "add"
                and other.memory_type == op.memory_type
                and text_similarity(content, str(other.fields.get(CONTENT_FIELD) or ""))
                >= NEAR_DUPLICATE
                for other in kept
            ):
                continue
        if key is not None:
            by_target[key] = len(kept)
        kept.append(op)
    return kept
