"""Retrieval-only answers (no model configured): the best contexts for the message.

The raw hit list is tidied for a person to read: summaries of the preset folders every store
starts with ("Account-global skills: ...") are left out, and a file is not listed again under a
folder already listed (a skill's folder and its SKILL.md are one answer).
"""

from __future__ import annotations

from typing import Any

from openviking_mcp.presets import account_presets, user_presets
from openviking_mcp.search.render import typed_hits

__all__ = ["SIDECARS", "retrieval_answer", "useful_hits"]

#: Suffixes of directory hits (a folder's L0 or L1 matched).
SIDECARS = ("/.abstract.md", "/.overview.md")


def _folder(uri: str) -> str | None:
    """The folder a directory hit stands for (``None`` for a file hit)."""
    for suffix in SIDECARS:
        if uri.endswith(suffix):
            return uri[: -len(suffix)]
    return None


def useful_hits(result: dict[str, Any], user_id: str, limit: int) -> list[dict[str, Any]]:
    """``find``'s hits, best first, with ``context_type``; preset folders and files inside a
    listed folder are left out."""
    presets = {
        "viking://" + "/".join(p.parts) for p in [*account_presets(), *user_presets(user_id)]
    }
    hits = typed_hits(result)
    hits.sort(key=lambda h: -float(h.get("score") or 0.0))
    kept: list[dict[str, Any]] = []
    folders: list[str] = []
    for hit in hits:
        uri = str(hit["uri"])
        folder = _folder(uri)
        if folder in presets:
            continue
        if any(uri.startswith(f + "/") for f in folders):
            continue  # inside a folder already listed
        if folder is not None:
            if any(str(k["uri"]).startswith(folder + "/") for k in kept):
                continue  # a file of this folder is already listed
            folders.append(folder)
        kept.append(hit)
        if len(kept) == limit:
            break
    return kept


def retrieval_answer(hits: list[dict[str, Any]], asked: bool) -> str:
    note = (
        "No language model is configured (set vlm or bot.model in ov.conf), so this is "
        "retrieval-only mode"
    )
    if not asked:
        return f"{note}: send a text message to search the store."
    if not hits:
        return f"{note}, and nothing in the store matches this message."
    lines = [f"{note}. The most relevant contexts in the store:", ""]
    for number, hit in enumerate(hits, 1):
        score = round(float(hit.get("score") or 0.0) * 100)
        abstract = " ".join(str(hit.get("abstract") or "").split()) or "(no abstract)"
        lines.append(f"{number}. [{hit['context_type']} {score}%] {hit['uri']}")
        lines.append(f"   {abstract}")
    return "\n".join(lines)
