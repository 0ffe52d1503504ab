"""The memory operation both extractors return, and its check against the schemas.

An operation says what to do with one memory: ``add`` a new one (its identity fields name the
file), ``update`` an existing one (``uri``) with field-level values merged by the schema's merge
ops, or ``delete`` one (``uri``). Extractors only propose; the writer applies.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.memory.memory_schema import CONTENT_FIELD, MemorySchema, memory_relpath

__all__ = ["MemoryOperation", "check_operation"]


class MemoryOperation(BaseModel):
    """One proposed change to long-term memory."""

    model_config = ConfigDict(extra="forbid")

    op: Literal["add", "update", "delete"]
    memory_type: str = Field(min_length=1)
    fields: dict[str, Any] = Field(default_factory=dict)
    uri: str = ""
    reason: str = ""


def _is_patch_blocks(value: Any) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and any(isinstance(v, dict) for v in value)
    )


def check_operation(
    op: MemoryOperation,
    schemas: Mapping[str, MemorySchema],
    known_uris: Collection[str],
    *,
    now: datetime,
) -> tuple[MemoryOperation | None, list[str]]:
    """``(op, problems)``: the operation cleaned for the schemas, or ``None`` if it must be
    dropped, with the reasons.

    Dropped: an unknown ``memory_type``; an add/update without the schema's identity fields
    (or with values that give no file name); an add without ``content`` text or with patch
    blocks (there is nothing to patch yet); an update/delete whose ``uri`` is not in
    ``known_uris``; an update of an add-only type. Fields the schema does not have are removed
    from a kept operation and reported.
    """
    label = f"{op.op} {op.memory_type}" + (f" {op.uri}" if op.uri else "")
    schema = schemas.get(op.memory_type)
    if schema is None:
        return None, [f"{label}: unknown memory_type {op.memory_type!r}"]
    if op.op in ("update", "delete") and op.uri not in known_uris:
        return None, [f"{label}: uri is not one of the existing memories shown"]
    if op.op == "update" and schema.operation_mode == "add_only":
        return None, [f"{label}: {op.memory_type} memories are add-only"]
    if op.op == "delete":
        return op, []
    problems: list[str] = []
    known = {f.name for f in schema.fields} | {"tags"}
    unknown = sorted(set(op.fields) - known)
    if unknown:
        problems.append(f"{label}: ignored unknown fields {', '.join(unknown)}")
    fields = {k: v for k, v in op.fields.items() if k in known}
    try:
        memory_relpath(schema, fields, now)
    except InvalidArgumentError as exc:
        return None, [*problems, f"{label}: {exc.message}"]
    if op.op == "add":
        patched = sorted(k for k, v in fields.items() if _is_patch_blocks(v))
        if patched:
            return None, [
                *problems,
                f"{label}: patch blocks in a new memory ({', '.join(patched)})",
            ]
        content = fields.get(CONTENT_FIELD)
        if not isinstance(content, str) or not content.strip():
            return None, [*problems, f"{label}: an added memory needs 'content' text"]
    return op.model_copy(update={"fields": fields}), problems
