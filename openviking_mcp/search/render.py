"""Readable text of tool results (MCP and bot tools), in the original's formats where it has one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openviking_mcp.contract.errors import OpenVikingError

__all__ = [
    "error_text",
    "format_context",
    "format_edit",
    "format_glob",
    "format_grep",
    "format_hits",
    "format_list",
    "format_read",
    "format_tree",
    "format_write",
    "listing_entry",
    "typed_hits",
]

NO_MATCH = "No matching context found."
_LABELS = (("memories", "memory"), ("resources", "resource"), ("skills", "skill"))


def typed_hits(result: dict[str, Any]) -> list[dict[str, Any]]:
    """A ``find``/``search`` result's hits, memories → resources → skills, each with its
    ``context_type`` (``memory``, ``resource`` or ``skill``)."""
    return [
        {**hit, "context_type": label}
        for bucket, label in _LABELS
        for hit in result.get(bucket, [])
    ]


def listing_entry(item: dict[str, Any]) -> dict[str, Any]:
    """A listing entry of the service (``ls``/``tree``, agent output) in the tools' shape."""
    return {
        "uri": item["uri"],
        "name": item["uri"].rstrip("/").rsplit("/", 1)[-1],
        "rel_path": item.get("rel_path", ""),
        "is_dir": item["isDir"],
        "size": item["size"],
        "abstract": item.get("abstract", ""),
    }


def format_hits(result: dict[str, Any]) -> str:
    """``Found N item(s):`` with percent scores, memories → resources → skills."""
    lines: list[str] = []
    for hit in typed_hits(result):
        score = round(float(hit.get("score", 0.0)) * 100)
        abstract = " ".join(str(hit.get("abstract") or "").split()) or "(no abstract)"
        lines.append(f"- [{hit['context_type']} {score}%] {hit['uri']}\n    {abstract}")
    if not lines:
        return NO_MATCH
    return (
        f"Found {len(lines)} item(s):\n\n"
        + "\n".join(lines)
        + "\n\nUse the read tool to expand a URI."
    )


def format_context(result: dict[str, Any]) -> str:
    """Context mode: the digest if there is one, else the rendered block."""
    return str(result.get("digest") or result.get("rendered") or NO_MATCH)


def format_read(items: Sequence[dict[str, Any]]) -> str:
    if len(items) == 1:
        item = items[0]
        return str(item["error"] or item["text"])
    blocks = [f"=== {i['uri']} ===\n{i['error'] or i['text']}" for i in items]
    return "\n\n".join(blocks)


def format_list(uri: str, entries: Sequence[dict[str, Any]], recursive: bool) -> str:
    if not entries:
        return f"(no entries under {uri})"
    if recursive:
        return "\n".join(e["uri"] + ("/" if e["is_dir"] else "") for e in entries)
    return "\n".join(f"[{'dir' if e['is_dir'] else 'file'}] {e['name']}" for e in entries)


def format_tree(
    uri: str, entries: Sequence[dict[str, Any]], depth: int, truncated: bool, node_limit: int
) -> str:
    lines = [f"Tree of {uri} (depth <= {depth}, {len(entries)} entries):"]
    for entry in entries:
        rel = entry["rel_path"].rstrip("/")
        indent = "  " * (rel.count("/") + 1)
        name = rel.rsplit("/", 1)[-1]
        lines.append(
            f"{indent}{name}/" if entry["is_dir"] else f"{indent}{name} ({entry['size']} B)"
        )
        if entry.get("abstract"):
            lines.append(f"{indent}  - {' '.join(str(entry['abstract']).split())}")
    if truncated:
        lines.append(f"(truncated at {node_limit} entries; narrow the uri or raise node_limit)")
    return "\n".join(lines)


def _indexing(result: dict[str, Any]) -> str:
    semantic = result.get("semantic_status") or "skipped"
    vector = result.get("vector_status") or "skipped"
    line = f"\nIndexing: semantic={semantic}, vector={vector}."
    if "queued" in (semantic, vector) or "pending" in (semantic, vector):
        line += " (searchable in a moment; pass wait=true to block until indexed)"
    return line


def format_write(result: dict[str, Any]) -> str:
    return (
        f"Wrote {result['written_bytes']} bytes to {result['uri']} (mode={result['mode']})."
        + _indexing(result)
    )


def format_edit(result: dict[str, Any]) -> str:
    if not result.get("changed", True):
        return f"No changes: new_string equals old_string in {result['uri']}."
    count = result.get("replacements", 1)
    return (
        f"Edited {result['uri']} ({result['written_bytes']} bytes written, "
        f"{count} replacement{'s' if count != 1 else ''})." + _indexing(result)
    )


def format_grep(matches: Sequence[dict[str, Any]], patterns: int, truncated: bool) -> str:
    if not matches:
        return f"No matches across {patterns} pattern(s)."
    lines = [f"Found {len(matches)} match(es) across {patterns} pattern(s):"]
    current = None
    for match in matches:
        if match["uri"] != current:
            current = match["uri"]
            lines.append(f"\n{current}")
        lines.append(f"  L{match['line']} [{match.get('pattern', '')}]: {match['content']}")
    if truncated:
        lines.append("\n(truncated: raise node_limit or narrow the uri for more)")
    return "\n".join(lines)


def format_glob(pattern: str, matches: Sequence[str]) -> str:
    if not matches:
        return f"No files found matching: {pattern}"
    return f"Found {len(matches)} file(s):\n" + "\n".join(f"  {uri}" for uri in matches)


_HINTS = {
    "NOT_FOUND": "Check the URI with the list, tree or glob tool (or find it with find).",
    "INVALID_URI": (
        "URIs look like viking://resources/..., viking://agent/skills/... or "
        "viking://~/memories/... (~ is your own user space)."
    ),
    "PERMISSION_DENIED": (
        "This identity may not touch that URI: stay inside viking://resources, "
        "viking://agent and your own viking://~ space."
    ),
    "ALREADY_EXISTS": "Use mode='replace' to overwrite it, or pick another URI.",
    "UNAUTHENTICATED": "Configure the MCP client with a valid API key (X-API-Key header).",
    "NOT_INITIALIZED": "The store is still starting; try again in a moment.",
}


def error_text(exc: OpenVikingError) -> str:
    """``Error [CODE]: message`` plus what to do about it."""
    text = f"Error [{exc.code}]: {exc.message}"
    hint = _HINTS.get(exc.code)
    if exc.code == "NOT_FOUND" and exc.details.get("type") == "session":
        hint = (
            "Check the id (sessions live under viking://~/sessions), start one with "
            "create_session, or omit session_id."
        )
    elif exc.code == "ALREADY_EXISTS" and exc.details.get("type") == "session":
        hint = "Pick another session_id, or leave it empty to get a generated one."
    return f"{text}\n{hint}" if hint else text
