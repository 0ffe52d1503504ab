"""Reading a URI at a chosen tier: ``abstract`` (L0), ``overview`` (L1) or ``full`` (L2).

Directories carry their tiers as sidecars (``.abstract.md``, ``.overview.md``); their ``full``
form is the overview followed by a listing of the children. Files have no sidecars of their
own: their abstract and overview are extracted from the text when asked for.
"""

from __future__ import annotations

from typing import Any, Literal

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.indexing.summarize import summarize_text, truncate_text
from openviking_mcp.ops.base import ServiceCore

__all__ = ["Level", "TierOps"]

Level = Literal["abstract", "overview", "full"]
_LEVELS: tuple[str, ...] = ("abstract", "overview", "full")
_FILE_ABSTRACT_CHARS = 400
_FILE_OVERVIEW_CHARS = 4000
_LISTING_LIMIT = 200


class TierOps(ServiceCore):
    async def read_level(
        self, ctx: RequestContext, uri: str, level: str = "full"
    ) -> dict[str, Any]:
        """``{uri, level, is_dir, context_type, text}`` for a file or directory at ``level``."""
        if level not in _LEVELS:
            raise InvalidArgumentError("level must be abstract, overview or full", {"level": level})
        info = await self.stat(ctx, uri)
        target = info["uri"]
        if info["isDir"]:
            text = await self._dir_level(ctx, target, level)
        else:
            text = await self.read(ctx, target)
            if level == "abstract":
                text = summarize_text(info["name"], text, _FILE_ABSTRACT_CHARS)
            elif level == "overview":
                text = truncate_text(text, _FILE_OVERVIEW_CHARS)
        return {
            "uri": target,
            "level": level,
            "is_dir": bool(info["isDir"]),
            "context_type": info["context_type"],
            "text": text,
        }

    async def _dir_level(self, ctx: RequestContext, uri: str, level: str) -> str:
        if level == "abstract":
            return await self.abstract(ctx, uri)
        overview = await self.overview(ctx, uri)
        if level == "overview":
            return overview
        entries = await self.ls(ctx, uri, output="agent", node_limit=_LISTING_LIMIT)
        lines = [
            f"- {e['uri']}/" + (f" - {e['abstract']}" if e["abstract"] else "")
            if e["isDir"]
            else f"- {e['uri']} ({e['size']} B)"
            for e in entries
        ]
        listing = "\n".join(lines) if lines else "(empty directory)"
        return f"{overview.rstrip()}\n\n## Contents of {uri}\n\n{listing}\n"
