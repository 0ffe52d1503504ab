"""Structured data (JSON, JSON Lines, YAML, CSV/TSV, TOML...): kept as-is, described by shape.

The summary says what the data looks like (top-level keys, item count and item keys, header
columns and row count). Data that does not parse is still kept; its summary says so.
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
from typing import Any

import yaml

from openviking_mcp.parsers.text import truncate_text

__all__ = ["DATA_FORMATS", "data_summary"]

#: Extension (with dot, lowercase) → data format name.
DATA_FORMATS: dict[str, str] = {
    **dict.fromkeys((".json", ".geojson", ".ipynb", ".webmanifest"), "JSON"),
    **dict.fromkeys((".jsonl", ".ndjson"), "JSON Lines"),
    **dict.fromkeys((".yaml", ".yml"), "YAML"),
    ".csv": "CSV",
    ".tsv": "TSV",
    ".toml": "TOML",
    **dict.fromkeys((".xml", ".svg", ".plist"), "XML"),
    **dict.fromkeys((".ini", ".cfg", ".properties"), "INI"),
}

_MAX_KEYS = 10
_MAX_YAML_CHARS = 2_000_000
_MAX_JSON_CHARS = 20_000_000


def _keys(keys: list[Any]) -> str:
    names = [str(k)[:40] for k in keys[:_MAX_KEYS]]
    more = f" (+{len(keys) - _MAX_KEYS} more)" if len(keys) > _MAX_KEYS else ""
    return ", ".join(names) + more


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "null" if value is None else type(value).__name__


def _items_shape(items: list[Any]) -> str:
    """``items are objects with keys a, b`` / ``items are strings`` / ``mixed items``."""
    if not items:
        return ""
    kinds = {_type_name(item) for item in items[:200]}
    if kinds == {"object"}:
        keys: dict[str, None] = {}
        for item in items[:50]:
            keys.update(dict.fromkeys(str(k) for k in item))
        return f"items are objects with keys {_keys(list(keys))}" if keys else "items are objects"
    if len(kinds) == 1:
        return f"items are {kinds.pop()}s"
    return "items are of mixed types (" + ", ".join(sorted(kinds)) + ")"


def _describe(label: str, value: Any) -> str:
    """Shape of one parsed JSON/YAML/TOML value."""
    if isinstance(value, dict):
        if not value:
            return f"Empty {label} object."
        return f"{label} object with {_count(len(value), 'top-level key')}: {_keys(list(value))}."
    if isinstance(value, list):
        shape = _items_shape(value)
        return f"{label} array of {_count(len(value), 'item')}" + (f"; {shape}." if shape else ".")
    return f"{label} {_type_name(value)} value: {str(value)[:80]!s}."


def _json_lines(text: str) -> str:
    records: list[Any] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError as exc:
            return f"JSON Lines file could not be parsed (line {number}: {exc})."
    shape = _items_shape(records).replace("items are", "records are")
    head = f"JSON Lines file with {_count(len(records), 'record')}"
    return head + (f"; {shape}." if shape else ".")


def _yaml(text: str) -> str:
    if len(text) > _MAX_YAML_CHARS:
        return f"Large YAML document ({text.count(chr(10)) + 1} lines); not parsed."
    docs = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    if len(docs) > 1:
        return f"YAML stream of {len(docs)} documents; the first is a " + _describe(
            "YAML", docs[0]
        ).removeprefix("YAML ")
    if not docs:
        return "Empty YAML document."
    return (
        _describe("YAML", docs[0])
        .replace("YAML object", "YAML mapping")
        .replace("YAML array", "YAML list")
    )


def _table(text: str, delimiter: str, label: str) -> str:
    if not text.strip():
        return f"Empty {label} file."
    if delimiter == ",":
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;|\t").delimiter
        except csv.Error:
            delimiter = ","
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row]
    if not rows:
        return f"Empty {label} file."
    header = [cell.strip() for cell in rows[0]]
    shape = f"{_count(len(rows) - 1, 'row')} and {_count(len(header), 'column')}"
    return f"{label} table with {shape}: {_keys(header)}."


def _ini(text: str) -> str:
    sections = [
        line.strip()[1:-1]
        for line in text.split("\n")
        if line.strip().startswith("[") and line.strip().endswith("]")
    ]
    if sections:
        return f"Configuration file with {len(sections)} sections: {_keys(sections)}."
    keys = [
        line.split("=", 1)[0].strip()
        for line in text.split("\n")
        if "=" in line and not line.lstrip().startswith(("#", ";"))
    ]
    return (
        f"Configuration file with {len(keys)} settings: {_keys(keys)}."
        if keys
        else "Empty configuration file."
    )


def _xml(text: str) -> str:
    body = text.lstrip()
    while body.startswith(("<?", "<!")):
        end = body.find(">")
        if end < 0:
            break
        body = body[end + 1 :].lstrip()
    if not body.startswith("<"):
        return "XML document could not be parsed (no root element)."
    root = body[1:].split(None, 1)[0].split(">", 1)[0].rstrip("/") if len(body) > 1 else ""
    return f"XML document with root element <{root}>, {text.count(chr(10)) + 1} lines."


def data_summary(fmt: str, text: str, max_chars: int = 400) -> str:
    """Describe the structure of ``text`` in format ``fmt`` (see :data:`DATA_FORMATS`).

    Never raises: data that does not parse gets a summary saying so.
    """
    try:
        if fmt == "JSON":
            if len(text) > _MAX_JSON_CHARS:
                summary = f"Large JSON document ({len(text)} characters); not parsed."
            else:
                summary = _describe("JSON", json.loads(text))
        elif fmt == "JSON Lines":
            summary = _json_lines(text)
        elif fmt == "YAML":
            summary = _yaml(text)
        elif fmt in ("CSV", "TSV"):
            summary = _table(text, "\t" if fmt == "TSV" else ",", fmt)
        elif fmt == "TOML":
            summary = _describe("TOML", tomllib.loads(text)).replace("TOML object", "TOML document")
        elif fmt == "INI":
            summary = _ini(text)
        elif fmt == "XML":
            summary = _xml(text)
        else:
            summary = f"{fmt} data file with {text.count(chr(10)) + 1} lines."
    except Exception as exc:  # any parser error: the file is kept, the summary says why
        reason = " ".join(str(exc).split())[:150] or type(exc).__name__
        summary = f"{fmt} file could not be parsed ({reason})."
    return truncate_text(summary, max_chars)
