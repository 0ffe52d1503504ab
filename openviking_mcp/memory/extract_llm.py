"""Memory extraction with an LLM: one JSON call that proposes add/update/delete operations.

The prompt (``prompts/extract.j2``) shows the archived messages, every schema (description,
identity fields, fields with their merge ops) and the top existing memories of each category,
so that the model updates instead of duplicating. The answer must be
``{"operations": [...]}``; anything else raises :class:`ProcessingError` (the commit task fails
with that clear error). Individual operations that do not fit - an unknown type, missing
identity fields, an update/delete of a uri that was not given - are dropped and listed in
``problems``; the rest are kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, ValidationError

from openviking_mcp.contract.errors import ProcessingError
from openviking_mcp.memory.memory_schema import MemorySchema
from openviking_mcp.memory.operations import MemoryOperation, check_operation
from openviking_mcp.sessions.transcript import message_role, message_text, message_time

__all__ = [
    "SYSTEM_PROMPT",
    "ExistingMemory",
    "ExtractionResult",
    "build_extraction_prompt",
    "extract_with_llm",
    "parse_extraction",
]

SYSTEM_PROMPT = (
    "You maintain the long-term memory of an AI assistant. You read conversations and answer "
    "with a single JSON object of memory operations, never with prose."
)
_MESSAGE_CHARS = 4000
_ABSTRACT_CHARS = 400
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*?)\n?\s*```\s*$", re.S | re.I)


@dataclass(frozen=True)
class ExistingMemory:
    """A stored memory shown to the model: its ``uri`` and ``abstract`` (or first lines)."""

    uri: str
    abstract: str


@dataclass
class ExtractionResult:
    """The kept ``operations`` and why others were dropped (``problems``)."""

    operations: list[MemoryOperation] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class _Output(BaseModel):
    model_config = ConfigDict(extra="ignore")

    operations: list[Any]


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("openviking_mcp.memory", "prompts"),
        autoescape=False,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def build_extraction_prompt(
    messages: Sequence[Mapping[str, Any]],
    existing: Mapping[str, Sequence[ExistingMemory]],
    schemas: Mapping[str, MemorySchema],
    *,
    now: datetime,
    max_existing: int = 5,
) -> str:
    """The rendered extraction prompt (at most ``max_existing`` memories per category)."""
    shown = [
        {
            "index": i,
            "role": message_role(m) or "unknown",
            "time": message_time(m, now).strftime("%Y-%m-%d %H:%M (%A)"),
            "text": message_text(m, include_other_parts=True)[:_MESSAGE_CHARS] or "(empty)",
        }
        for i, m in enumerate(messages)
    ]
    memories = {
        kind: [
            ExistingMemory(e.uri, " ".join(e.abstract.split())[:_ABSTRACT_CHARS] or "(empty)")
            for e in entries[:max_existing]
        ]
        for kind, entries in existing.items()
    }
    return (
        _environment()
        .get_template("extract.j2")
        .render(
            today=now.strftime("%Y-%m-%d (%A)"),
            schemas=list(schemas.values()),
            existing=memories,
            messages=shown,
        )
    )


def _not_json(why: str, raw: str) -> ProcessingError:
    snippet = " ".join(raw.split())[:200]
    return ProcessingError(
        f"memory extraction: model output is not valid JSON: {why} (output starts: {snippet!r})",
        {"stage": "memory_extraction"},
    )


def parse_extraction(
    raw: str,
    schemas: Mapping[str, MemorySchema],
    known_uris: set[str],
    *,
    now: datetime,
) -> ExtractionResult:
    """Validate the model's answer; see the module docstring for what is dropped or raised."""
    text = raw.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _not_json(str(exc), raw) from None
    try:
        output = _Output.model_validate(data)
    except ValidationError:
        raise _not_json('expected an object {"operations": [...]}', raw) from None
    result = ExtractionResult()
    for i, item in enumerate(output.operations):
        try:
            op = MemoryOperation.model_validate(item)
        except ValidationError as exc:
            errors = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'operation'}: {e['msg']}"
                for e in exc.errors()
            )
            result.problems.append(f"operation {i}: {errors}")
            continue
        checked, problems = check_operation(op, schemas, known_uris, now=now)
        result.problems.extend(f"operation {i}: {p}" for p in problems)
        if checked is not None:
            result.operations.append(checked)
    return result


async def extract_with_llm(
    complete: Callable[..., Awaitable[str]],
    messages: Sequence[Mapping[str, Any]],
    existing: Mapping[str, Sequence[ExistingMemory]],
    schemas: Mapping[str, MemorySchema],
    *,
    now: datetime,
    max_existing: int = 5,
    max_tokens: int = 4096,
) -> ExtractionResult:
    """One call of ``complete(prompt, system=..., max_tokens=..., json_mode=True)`` (the
    signature of :meth:`openviking_mcp.models.llm.LLM.complete`), validated.

    Update and delete operations may only name uris from ``existing``. A failing call
    propagates (``VLMFailedError``); an unusable answer raises :class:`ProcessingError`.
    """
    prompt = build_extraction_prompt(
        messages, existing, schemas, now=now, max_existing=max_existing
    )
    raw = await complete(prompt, system=SYSTEM_PROMPT, max_tokens=max_tokens, json_mode=True)
    known = {e.uri for entries in existing.values() for e in entries}
    return parse_extraction(raw if isinstance(raw, str) else "", schemas, known, now=now)
