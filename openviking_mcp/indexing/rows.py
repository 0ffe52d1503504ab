"""Turning content into index rows: embed in batches, upsert in batches.

:class:`RecordBuffer` collects rows (with the text to embed) and flushes them with one
``embed_documents`` call and one upsert per batch, so bulk imports make few LanceDB fragments
and the embedder sees full, length-sorted batches.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from openviking_mcp.contract.uri import VikingURI, context_type_of
from openviking_mcp.indexing.passages import split_passages
from openviking_mcp.models.base import Embedder
from openviking_mcp.storage.index import IndexRecord, VectorIndex

__all__ = ["PendingRow", "RecordBuffer", "directory_rows", "file_rows", "owner_of"]


def owner_of(uri: VikingURI) -> str:
    """The user id owning ``viking://user/{uid}/...``, else ``""``."""
    parts = uri.parts
    return parts[1] if len(parts) >= 2 and parts[0] == "user" else ""


@dataclass(slots=True)
class PendingRow:
    record: IndexRecord
    embed_text: str


def _base(account_id: str, uri: VikingURI, level: int, anchor: str = "") -> IndexRecord:
    now = time.time()
    parent = uri.parent
    return IndexRecord(
        uri=uri.uri,
        level=level,
        account_id=account_id,
        context_type=context_type_of(uri),
        vector=np.zeros(0, dtype=np.float32),
        parent_uri=parent.uri if parent else "",
        anchor=anchor,
        name=uri.name,
        owner_user_id=owner_of(uri),
        created_at=now,
        updated_at=now,
    )


def directory_rows(
    account_id: str,
    uri: VikingURI,
    abstract: str,
    overview: str,
    *,
    tags: list[str] | None = None,
) -> list[PendingRow]:
    """The L0 and L1 rows of a directory (carrying its explicit ``tags``)."""
    rows: list[PendingRow] = []
    for level, body in ((0, abstract), (1, overview)):
        if not body.strip():
            continue
        record = _base(account_id, uri, level)
        record.abstract = abstract
        record.text = body
        record.tags = list(tags or [])
        rows.append(PendingRow(record, f"{uri.name}\n{body}"))
    return rows


def file_rows(
    account_id: str,
    uri: VikingURI,
    *,
    title: str,
    summary: str,
    text: str | None,
    count_tokens: Callable[[str], int],
    max_tokens: int,
    tags: list[str] | None = None,
) -> list[PendingRow]:
    """L2 rows of a file: one per passage (binary files: one row describing the file)."""
    body = text if text and text.strip() else summary
    passages = split_passages(
        body, count_tokens, target_tokens=max(32, int(max_tokens * 0.75)), max_tokens=max_tokens
    ) or [summary or uri.name]
    rows: list[PendingRow] = []
    for i, passage in enumerate(passages):
        record = _base(account_id, uri, 2, f"p{i}")
        record.abstract = summary
        record.text = f"{uri.name}\n{passage}" if i == 0 else passage
        record.tags = list(tags or [])
        rows.append(PendingRow(record, f"{title}\n{passage}"))
    return rows


class RecordBuffer:
    """Collects rows and writes them in batches (embedding first)."""

    def __init__(
        self,
        index: VectorIndex,
        embedder: Embedder,
        *,
        batch_rows: int = 256,
        on_flush: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self._index = index
        self._embedder = embedder
        self._batch = batch_rows
        self._rows: list[PendingRow] = []
        self._on_flush = on_flush
        self.written = 0

    async def add(self, rows: list[PendingRow]) -> None:
        self._rows.extend(rows)
        if len(self._rows) >= self._batch:
            await self.flush()

    async def flush(self) -> None:
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        vectors = await self._embedder.embed_documents([r.embed_text for r in rows])
        for row, vector in zip(rows, vectors, strict=True):
            row.record.vector = np.asarray(vector, dtype=np.float32)
        await self._index.upsert([r.record for r in rows])
        self.written += len(rows)
        if self._on_flush is not None:
            await self._on_flush(self.written)
