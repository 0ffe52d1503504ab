"""Semantic tiers: file descriptions and directory L0/L1, extractive by default, LLM when
configured (an LLM failure falls back to the extractive text: tiers are never empty)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from openviking_mcp.config import SemanticConfig
from openviking_mcp.indexing.llm_summary import LLMSummarizer
from openviking_mcp.indexing.summarize import ChildInfo, abstract_from_overview, build_overview
from openviking_mcp.parsers import ParsedFile, parse_document

__all__ = ["FileInfo", "SemanticBuilder"]

logger = logging.getLogger("openviking_mcp.indexing")


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What the index and the parent's overview need to know about one file."""

    kind: str
    title: str
    summary: str
    text: str | None

    @classmethod
    def from_parsed(cls, parsed: ParsedFile) -> FileInfo:
        return cls(parsed.kind, parsed.title, parsed.summary, parsed.text)


class SemanticBuilder:
    def __init__(self, config: SemanticConfig, llm: LLMSummarizer | None = None) -> None:
        self.config = config
        self.llm = llm

    async def describe_file(self, name: str, data: bytes) -> FileInfo:
        """Describe a stored file (no splitting: it is already in place)."""
        parsed = parse_document(name, data, no_split=True)
        first = parsed.files[0] if parsed.files else None
        if first is None:
            return FileInfo("binary", name, f"File {name}", None)
        info = FileInfo.from_parsed(first)
        return await self.improve(name, info)

    async def improve(self, name: str, info: FileInfo) -> FileInfo:
        """With an LLM, replace the extractive summary of a text file by a written one."""
        if self.llm is None or not info.text or info.kind == "binary":
            return info
        text = info.text[: self.config.max_file_content_chars]
        summary = await self.llm.summarize_file(name, text, info.kind)
        return FileInfo(info.kind, info.title, summary or info.summary, info.text)

    async def directory(
        self, name: str, children: list[ChildInfo], *, intro: str | None = None
    ) -> tuple[str, str]:
        """``(abstract, overview)`` of a directory from its children's summaries."""
        overview = ""
        if self.llm is not None and children:
            overview = await self.llm.overview(name, children, self.config.overview_max_chars)
        if not overview.strip():
            overview = build_overview(
                name, children, intro=intro, max_chars=self.config.overview_max_chars
            )
        abstract = intro or abstract_from_overview(overview, self.config.abstract_max_chars)
        return abstract[: self.config.abstract_max_chars], overview
