"""Field-level merge of an update into an existing memory, by each field's ``merge_op``.

* ``immutable``: set once; a different later value is a problem and the old value stays.
* ``replace``: the new value wins (lists too).
* ``sum``: numbers add up.
* ``patch`` on text (``content`` is the file body): the update is a list of blocks
  ``{"search": s, "replace": r}`` or ``{"delete": s}``. Each ``s`` must occur exactly once in
  the current text, else that block is reported in ``problems`` and not applied (the others
  still are, in order). A plain string is appended as a new paragraph unless the text already
  contains it or a paragraph near-duplicates it (:data:`.dedup.NEAR_DUPLICATE`).
* ``patch`` on a list, and the bookkeeping ``tags``: ordered union; ``{"delete": item}``
  entries remove an item.

Nothing here bumps ``version``: the writer calls :func:`.memory_file.bump_version`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openviking_mcp.memory.dedup import already_said
from openviking_mcp.memory.memory_schema import CONTENT_FIELD, MemoryField, MemorySchema

__all__ = ["MergeResult", "apply_patch_blocks", "merge_memory"]


@dataclass
class MergeResult:
    """The merged ``fields`` and ``body``, the names of the fields that changed (``applied``)
    and what could not be applied (``problems``)."""

    fields: dict[str, Any]
    body: str
    applied: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _occurrences(text: str, needle: str) -> int:
    """How many times ``needle`` occurs in ``text``, overlaps included (stops at 2)."""
    count, start = 0, text.find(needle)
    while start != -1 and count < 2:
        count += 1
        start = text.find(needle, start + 1)
    return count


def apply_patch_blocks(text: str, blocks: list[Any], label: str) -> tuple[str, int, list[str]]:
    """Apply SEARCH/REPLACE and DELETE blocks in order: ``(text, applied_count, problems)``."""
    applied, problems = 0, []
    for i, block in enumerate(blocks, 1):
        where = f"{label}: patch block {i}"
        if isinstance(block, dict) and set(block) == {"search", "replace"}:
            search, replacement = block["search"], block["replace"]
        elif isinstance(block, dict) and set(block) == {"delete"}:
            search, replacement = block["delete"], ""
        else:
            problems.append(f"{where} is not {{search, replace}} or {{delete}}; not applied")
            continue
        if not isinstance(search, str) or not isinstance(replacement, str) or not search:
            problems.append(f"{where} needs non-empty text to search; not applied")
            continue
        found = _occurrences(text, search)
        if found != 1:
            how = "not found" if found == 0 else "found more than once"
            problems.append(f"{where}: search text {how} ({search[:60]!r}); not applied")
            continue
        start = text.index(search)
        text = text[:start] + replacement + text[start + len(search) :]
        if not replacement:
            text = _tidy(text)
        applied += 1
    return text, applied, problems


def _tidy(text: str) -> str:
    """Collapse the blank lines a deletion leaves behind."""
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip("\n")


def _append(text: str, addition: str) -> str | None:
    """``text`` with ``addition`` as a new paragraph, or ``None`` if it is already there."""
    addition = addition.strip()
    if not addition:
        return None
    if not text.strip():
        return addition
    if already_said(text, addition):
        return None
    return f"{text.rstrip()}\n\n{addition}"


def _merge_list(old: Any, new: Any, label: str, problems: list[str]) -> list[Any] | None:
    current = list(old) if isinstance(old, list) else ([] if old in (None, "") else [old])
    items = new if isinstance(new, list) else [new]
    out = list(current)
    for item in items:
        if isinstance(item, dict) and set(item) == {"delete"}:
            if item["delete"] in out:
                out.remove(item["delete"])
            else:
                problems.append(f"{label}: cannot delete {item['delete']!r}: not in the list")
        elif isinstance(item, dict | list):
            problems.append(f"{label}: list items must be plain values; {item!r} not applied")
        elif item not in out:
            out.append(item)
    return out if out != current else None


def _merge_list_field(
    op: str, old: Any, new: Any, label: str, problems: list[str]
) -> tuple[bool, Any]:
    """A list field: ``immutable`` once set, ``replace``d whole, or merged item by item."""
    if op == "immutable" and old not in (None, [], ""):
        if new != old:
            problems.append(f"{label} is immutable; keeping {old!r}")
        return False, old
    if op in ("replace", "immutable"):
        items = new if isinstance(new, list) else [new]
        return items != old, items
    merged = _merge_list(old, new, label, problems)
    return (merged is not None), (merged if merged is not None else old)


def _merge_number(op: str, old: Any, new: Any, label: str, problems: list[str]) -> tuple[bool, Any]:
    """A number field: added to (``sum``), ``immutable`` once set, or replaced."""
    if not _is_number(new):
        problems.append(f"{label}: {new!r} is not a number; not applied")
        return False, old
    if op == "sum":
        base = old if _is_number(old) else 0
        return new != 0, base + new
    if op == "immutable" and _is_number(old) and old != new:
        problems.append(f"{label} is immutable; keeping {old!r}")
        return False, old
    return new != old, new


def _patch_text(old: Any, new: Any, label: str, problems: list[str]) -> tuple[bool, Any]:
    """A ``patch`` text field: patch blocks applied to it, or plain text appended."""
    text = old if isinstance(old, str) else ""
    if isinstance(new, dict | list):
        blocks = [new] if isinstance(new, dict) else new
        text, count, block_problems = apply_patch_blocks(text, blocks, label)
        problems.extend(block_problems)
        return count > 0 and text != old, text
    if not isinstance(new, str | int | float):
        problems.append(f"{label}: {type(new).__name__} is not text; not applied")
        return False, old
    appended = _append(text, str(new))
    return (appended is not None), (appended if appended is not None else old)


def _merge_text(op: str, old: Any, new: Any, label: str, problems: list[str]) -> tuple[bool, Any]:
    """A text field: patched, ``immutable`` once set (a change of case or spacing is no
    change), or replaced."""
    if op == "patch":
        return _patch_text(old, new, label, problems)
    if isinstance(new, dict | list) or new is None:
        problems.append(f"{label}: {type(new).__name__} is not text; not applied")
        return False, old
    value = str(new)
    if op == "immutable" and old not in (None, ""):
        if " ".join(value.split()).casefold() != " ".join(str(old).split()).casefold():
            problems.append(f"{label} is immutable; keeping {old!r}, not {value!r}")
        return False, old
    return value != old, value


def _merge_field(
    spec: MemoryField, old: Any, new: Any, label: str, problems: list[str]
) -> tuple[bool, Any]:
    """``(changed, value)`` for one field, by the field's type and merge operation."""
    if spec.type == "list":
        return _merge_list_field(spec.merge_op, old, new, label, problems)
    if spec.type == "number":
        return _merge_number(spec.merge_op, old, new, label, problems)
    return _merge_text(spec.merge_op, old, new, label, problems)


def merge_memory(
    schema: MemorySchema,
    existing_fields: Mapping[str, Any],
    existing_body: str,
    update: Mapping[str, Any],
) -> MergeResult:
    """Merge ``update`` (field name to value; ``content`` is the body) into a memory.

    Unknown fields are reported and ignored. ``fields`` of the result is a new dict holding the
    existing fields (bookkeeping included) with the merged values.
    """
    result = MergeResult(dict(existing_fields), existing_body)
    for name, value in update.items():
        label = f"{schema.memory_type}.{name}"
        if name == "tags":
            merged = _merge_list(existing_fields.get("tags"), value, label, result.problems)
            if merged is not None:
                result.fields["tags"] = merged
                result.applied.append(name)
            continue
        spec = schema.field(name)
        if spec is None:
            result.problems.append(f"{label}: no such field in the schema; ignored")
            continue
        old = existing_body if name == CONTENT_FIELD else existing_fields.get(name)
        changed, merged_value = _merge_field(spec, old, value, label, result.problems)
        if not changed:
            continue
        if name == CONTENT_FIELD:
            result.body = str(merged_value)
        else:
            result.fields[name] = merged_value
        result.applied.append(name)
    return result
