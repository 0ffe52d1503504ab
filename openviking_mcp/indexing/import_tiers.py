"""The model-written summaries of an imported tree's files, read from the content store.

An import keeps no file text in its task state (only each file's kind, title and extractive
summary): :func:`summarize_import` reads each file's start from the content store when its
model call runs (through the :class:`~openviking_mcp.events.TextIndexed` filters, as indexing
does) and replaces the extractive summaries the model improved on. These summaries are the
files' L0 (their index rows' abstract) and what their folders' L1 overviews are written from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

from openviking_mcp.config import SemanticConfig
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.resources import ImportSummaries
from openviking_mcp.contract.uri import VikingURI, parse_uri
from openviking_mcp.events import TextIndexed
from openviking_mcp.indexing.import_summaries import ImportFile, ImportSummarizer
from openviking_mcp.indexing.semantic import FileInfo
from openviking_mcp.indexing.service import utf8_prefix
from openviking_mcp.storage.base import Entry
from openviking_mcp.store import Store

__all__ = ["summarize_import"]

_WALK_DEPTH = 10_000
_WALK_ENTRIES = 1_000_000


async def summarize_import(
    store: Store,
    config: SemanticConfig,
    ctx: RequestContext,
    root: VikingURI,
    known: dict[str, FileInfo],
    on_progress: Callable[[int], Awaitable[None]] | None = None,
) -> ImportSummaries | None:
    """With a chat model configured, replace the summaries in ``known`` (``{uri: info}`` of
    the files stored below ``root``) by model-written ones where the model wrote one, and
    return the report; ``None`` (``known`` untouched) without a model."""
    llm = store.llm
    if llm is None:
        return None
    root_key = store.key(ctx, root)
    sizes = {e.key: e.size for e in await _walk(store, root_key) if not e.is_dir}
    prefix = root.uri.rstrip("/") + "/"
    files: list[ImportFile] = []
    for uri, info in known.items():
        label = uri[len(prefix) :] if uri.startswith(prefix) else uri
        size = sizes.get(f"{root_key}/{label}", 0)
        files.append(ImportFile(uri, label, uri.rsplit("/", 1)[-1], info.kind, size))
    limit = store.config.index.max_file_bytes

    async def read(file: ImportFile, chars: int) -> str | None:
        uri = parse_uri(file.uri)
        try:
            data = await store.content.read_prefix(store.key(ctx, uri), min(limit, 4 * chars))
        except (FileNotFoundError, IsADirectoryError):
            return None
        text = utf8_prefix(data, len(data)).decode("utf-8", errors="replace")
        if store.events.handlers(TextIndexed):
            text = await store.events.filter(TextIndexed(ctx, uri), text)
        return text[:chars]

    summarizer = ImportSummarizer(llm.complete, config, read)
    written, report = await summarizer.run(files, on_progress)
    for uri, summary in written.items():
        known[uri] = dataclasses.replace(known[uri], summary=summary)
    return report


async def _walk(store: Store, key: str) -> list[Entry]:
    try:
        return list(await store.content.walk(key, _WALK_DEPTH, _WALK_ENTRIES))
    except (FileNotFoundError, NotADirectoryError):
        return []
