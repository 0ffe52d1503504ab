"""Memory categories as YAML schemas, and where a memory of a category is stored.

The built-in schemas ship in ``sessions/schemas/*.yaml`` (profile, preferences, entities,
events, cases, patterns, identity, experiences). A schema names its ``directory`` (relative to
the user's space, e.g. ``memories/events``) and a ``filename_template`` whose ``{placeholders}``
are either the date parts ``{YYYY}``/``{MM}``/``{DD}`` or *identity fields*: fields that form the
file name and therefore must be ``immutable``. Every schema has a ``content`` field, the
Markdown body of the file (merged by ``patch`` or ``replace``).

A YAML file may also set ``date_field``: the field whose ``YYYY-MM-DD`` value fills the date
placeholders (events use ``event_date``); without it, or when the field is absent, the ``when``
given to :func:`memory_relpath` is used.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from openviking_mcp.contract.errors import InvalidArgumentError

__all__ = [
    "CONTENT_FIELD",
    "DATE_PLACEHOLDERS",
    "RESERVED_FIELDS",
    "MemoryField",
    "MemorySchema",
    "load_schemas",
    "memory_relpath",
    "slugify",
]

CONTENT_FIELD = "content"
DATE_PLACEHOLDERS = frozenset({"YYYY", "MM", "DD"})
# Bookkeeping fields of the MEMORY_FIELDS trailer (see memory_file); a schema cannot redefine them.
RESERVED_FIELDS = frozenset(
    {"memory_type", "version", "created_at", "updated_at", "source_sessions", "tags"}
)
SLUG_MAX = 64

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAME = r"^[a-z][a-z0-9_]*$"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


class MemoryField(BaseModel):
    """One field of a memory category."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    type: Literal["string", "list", "number"] = "string"
    description: str = ""
    merge_op: Literal["immutable", "patch", "replace", "sum"] = "replace"

    @model_validator(mode="after")
    def _op_fits_type(self) -> MemoryField:
        if self.merge_op == "sum" and self.type != "number":
            raise ValueError(f"field {self.name!r}: merge_op sum needs type number")
        if self.merge_op == "patch" and self.type == "number":
            raise ValueError(f"field {self.name!r}: merge_op patch needs type string or list")
        return self


class MemorySchema(BaseModel):
    """A memory category: what it holds (``description``, written for an LLM), where its files
    go and how each field merges."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    memory_type: str = Field(pattern=_NAME)
    description: str = Field(min_length=1)
    directory: str = Field(pattern=r"^[a-z0-9_-]+(/[a-z0-9_-]+)*$")
    filename_template: str = Field(min_length=4)
    operation_mode: Literal["upsert", "add_only"] = "upsert"
    date_field: str | None = None
    fields: tuple[MemoryField, ...]

    @model_validator(mode="after")
    def _consistent(self) -> MemorySchema:
        self._check_field_names()
        self._check_content_field()
        self._check_filename_template()
        self._check_date_field()
        return self

    def _check_field_names(self) -> None:
        """Field names are unique and none is a reserved bookkeeping name."""
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError("duplicate field names")
        reserved = sorted(RESERVED_FIELDS.intersection(names))
        if reserved:
            raise ValueError(f"reserved field names: {', '.join(reserved)}")

    def _check_content_field(self) -> None:
        """A string ``content`` field exists and merges by patch or replace."""
        content = self.field(CONTENT_FIELD)
        if content is None or content.type != "string":
            raise ValueError("a schema needs a string field named 'content'")
        if content.merge_op not in ("patch", "replace"):
            raise ValueError("the 'content' field must merge by patch or replace")

    def _check_filename_template(self) -> None:
        """The template is a relative ``.md`` path whose placeholders are date parts or
        immutable string fields."""
        template = self.filename_template
        if not template.endswith(".md") or template.startswith("/"):
            raise ValueError("filename_template must be a relative path ending in .md")
        if any(seg in ("", ".", "..") for seg in template.split("/")):
            raise ValueError("filename_template has an empty, '.' or '..' segment")
        for placeholder in _PLACEHOLDER.findall(template):
            if placeholder in DATE_PLACEHOLDERS:
                continue
            spec = self.field(placeholder)
            if spec is None:
                raise ValueError(f"filename_template names unknown field {{{placeholder}}}")
            if spec.merge_op != "immutable" or spec.type != "string":
                raise ValueError(
                    f"field {placeholder!r} is in the file name: it must be an immutable string"
                )

    def _check_date_field(self) -> None:
        """``date_field``, when set, names a string field."""
        if self.date_field is not None:
            spec = self.field(self.date_field)
            if spec is None or spec.type != "string":
                raise ValueError(f"date_field {self.date_field!r} is not a string field")

    def field(self, name: str) -> MemoryField | None:
        """The field called ``name``, or ``None``."""
        return next((f for f in self.fields if f.name == name), None)

    @property
    def identity_fields(self) -> tuple[str, ...]:
        """The fields that form the file name, in template order (may be empty: one file)."""
        found = _PLACEHOLDER.findall(self.filename_template)
        return tuple(dict.fromkeys(p for p in found if p not in DATE_PLACEHOLDERS))

    @property
    def dated(self) -> bool:
        """Whether the path contains the date (``{YYYY}``...)."""
        return any(p in DATE_PLACEHOLDERS for p in _PLACEHOLDER.findall(self.filename_template))

    @property
    def path_pattern(self) -> str:
        """``directory/filename_template``, e.g. ``memories/preferences/{topic}.md``."""
        return f"{self.directory}/{self.filename_template}"


def slugify(value: object) -> str:
    """A file-name-safe form: lowercase ``[a-z0-9-]``, at most 64 characters.

    Text with letters or digits but none in ASCII (e.g. Chinese) gets a stable ``u-{hash}``
    slug instead of an empty one; text with no letters or digits gives ``""``.
    """
    text = str(value).strip()
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")[:SLUG_MAX].strip("-")
    if not slug and any(ch.isalnum() for ch in text):
        slug = "u-" + hashlib.sha256(text.encode()).hexdigest()[:12]
    return slug


def _event_day(schema: MemorySchema, fields: Mapping[str, Any], when: datetime) -> date:
    if schema.date_field is None or not fields.get(schema.date_field):
        return when.date()
    raw = str(fields[schema.date_field]).strip()
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise InvalidArgumentError(
            f"memory field {schema.date_field!r} of {schema.memory_type} is not a YYYY-MM-DD "
            f"date: {raw[:40]!r}",
            {"memory_type": schema.memory_type, "field": schema.date_field},
        ) from None


def memory_relpath(schema: MemorySchema, fields: Mapping[str, Any], when: datetime) -> str:
    """The memory's path relative to the user space, e.g.
    ``memories/events/2026/11/23/deploy-outage.md``.

    Identity fields are slugified; a missing one or one with no usable characters raises
    :class:`InvalidArgumentError` naming the field.
    """
    day = _event_day(schema, fields, when) if schema.dated else when.date()
    parts = {"YYYY": f"{day.year:04d}", "MM": f"{day.month:02d}", "DD": f"{day.day:02d}"}
    for name in schema.identity_fields:
        value = fields.get(name)
        slug = slugify(value) if value is not None else ""
        if not slug:
            raise InvalidArgumentError(
                f"memory field {name!r} of {schema.memory_type} is missing or gives an empty "
                f"file name: {value!r}",
                {"memory_type": schema.memory_type, "field": name},
            )
        parts[name] = slug
    rendered = _PLACEHOLDER.sub(lambda m: parts[m.group(1)], schema.filename_template)
    return f"{schema.directory}/{rendered}"


def _load_file(path: Path | Traversable, label: str) -> MemorySchema:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        raise InvalidArgumentError(
            f"memory schema {label}: not readable YAML: {exc}", {"file": label}
        ) from None
    if not isinstance(data, dict):
        raise InvalidArgumentError(
            f"memory schema {label}: expected a mapping at the top level", {"file": label}
        )
    try:
        return MemorySchema.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'schema'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidArgumentError(f"memory schema {label}: {problems}", {"file": label}) from None


@functools.cache
def _builtin_schemas() -> tuple[MemorySchema, ...]:
    folder = importlib.resources.files(__package__ or "openviking_mcp.memory") / "schemas"
    entries = sorted(
        (e for e in folder.iterdir() if e.name.endswith(".yaml")), key=lambda e: e.name
    )
    return tuple(_load_file(e, f"schemas/{e.name}") for e in entries)


def load_schemas(custom_dir: Path | None = None) -> dict[str, MemorySchema]:
    """The memory schemas by ``memory_type``: the built-ins, then ``custom_dir``'s ``*.yaml`` /
    ``*.yml`` files, which add new types or replace built-ins of the same type.

    A missing custom folder, a file that is not valid YAML or not a valid schema, or two custom
    files for one type raise :class:`InvalidArgumentError` naming the file.
    """
    schemas = {s.memory_type: s for s in _builtin_schemas()}
    if custom_dir is None:
        return schemas
    if not custom_dir.is_dir():
        raise InvalidArgumentError(
            f"memory schema folder not found: {custom_dir}", {"file": str(custom_dir)}
        )
    seen: dict[str, Path] = {}
    for path in sorted(custom_dir.iterdir()):
        if path.suffix not in (".yaml", ".yml") or not path.is_file():
            continue
        schema = _load_file(path, str(path))
        if schema.memory_type in seen:
            raise InvalidArgumentError(
                f"memory schema {path}: memory_type {schema.memory_type!r} is also defined in "
                f"{seen[schema.memory_type]}",
                {"file": str(path)},
            )
        seen[schema.memory_type] = path
        schemas[schema.memory_type] = schema
    return schemas
