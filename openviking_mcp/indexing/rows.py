"""Turning content into index rows: embed in batches, upsert in batches.

:class:`RecordBuffer` collects rows (with the text to embed) and flushes them with one
``embed_documents`` call and one upsert per batch, so bulk imports make few LanceDB fragments
and the embedder sees full, length-sorted batches.

A directory whose only entry is one file (an imported document gets such a folder) describes
nothing but that file, so its L0 and L1 rows take the vector of the file's first passage
(``PendingRow.vector_of``) instead of embedding two more texts about the same content; they
keep their own text for keyword search.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from openviking_mcp.contract.uri import VikingURI, context_type_of
from openviking_mcp.indexing.passages import split_passages
from openviking_mcp.models.base import Embedder
from openviking_mcp.storage.index import IndexFilter, IndexRecord, record_id

if TYPE_CHECKING:
    from openviking_mcp.storage.index import SearchIndex

__all__ = ["PendingRow", "RecordBuffer", "directory_rows", "file_rows", "owner_of"]


def owner_of(uri: VikingURI) -> str:
    """The user id owning ``viking://user/{uid}/...``, else ``""``."""
    parts = uri.parts
    return parts[1] if len(parts) >= 2 and parts[0] == "user" else ""


@dataclass(slots=True)
class PendingRow:
    """A row to write, with the text to embed, or the id of the row whose vector it takes
    (``vector_of``; embedded after all when that row is nowhere to be found)."""

    record: IndexRecord
    embed_text: str
    vector_of: str = ""


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
    only_file: VikingURI | None = None,
) -> list[PendingRow]:
    """The L0 and L1 rows of a directory (carrying its explicit ``tags``); ``only_file``: the
    directory holds just this file, whose first passage's vector they take."""
    reuse = record_id(account_id, only_file.uri, 2, "p0") if only_file is not None else ""
    rows: list[PendingRow] = []
    for level, body in ((0, abstract), (1, overview)):
        if not body.strip():
            continue
        record = _base(account_id, uri, level)
        record.abstract = abstract
        record.text = body
        record.tags = list(tags or [])
        rows.append(PendingRow(record, f"{uri.name}\n{body}", reuse))
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


#: Paths looked up together when dropping stale rows (one ``IN`` list).
_LOOKUP_URIS = 256


def _parent_of(uri: str) -> str:
    """The parent of a normalised ``viking://`` URI string."""
    return uri.rsplit("/", 1)[0]


def _chunks(items: list[str]) -> list[tuple[str, ...]]:
    return [tuple(items[i : i + _LOOKUP_URIS]) for i in range(0, len(items), _LOOKUP_URIS)]


class RecordBuffer:
    """Collects rows and writes them in batches (embedding first)."""

    def __init__(
        self,
        index: SearchIndex,
        embedder: Embedder,
        *,
        batch_rows: int = 256,
        on_flush: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self._index = index
        self._embedder = embedder
        self._batch = batch_rows
        self._rows: list[PendingRow] = []
        self._stale: dict[str, dict[str, None]] = {}  # account id -> uris, in order
        self._on_flush = on_flush
        self._flushing = asyncio.Lock()
        self.written = 0

    def forget(self, account_id: str, uri: str) -> None:
        """Drop the rows at and below ``uri`` at the next flush, except those it rewrites."""
        self._stale.setdefault(account_id, {})[uri] = None

    async def add(self, rows: list[PendingRow]) -> None:
        self._rows.extend(rows)
        if len(self._rows) >= self._batch:
            await self.flush()

    async def flush(self) -> None:
        """Write the rows collected so far; flushes of concurrent adders run one at a time."""
        async with self._flushing:
            rows, self._rows = self._rows, []
            await self._drop_stale({r.record.id for r in rows})
            if not rows:
                return
            await self._vectors(rows)
            await self._index.upsert([r.record for r in rows])
            self.written += len(rows)
            if self._on_flush is not None:
                await self._on_flush(self.written)

    async def _vectors(self, rows: list[PendingRow]) -> None:
        """Set every row's vector: taken from its ``vector_of`` row (in this batch, or
        stored), else embedded (all of those in one call)."""
        in_batch = {r.record.id: r for r in rows}
        wanted = {r.vector_of for r in rows if r.vector_of and r.vector_of not in in_batch}
        stored = {rec.id: rec.vector for rec in await self._index.get(list(wanted))}
        followers: list[tuple[PendingRow, PendingRow]] = []
        todo: list[PendingRow] = []
        for row in rows:
            source = in_batch.get(row.vector_of) if row.vector_of else None
            if source is not None and not source.vector_of:
                followers.append((row, source))
            elif row.vector_of in stored:
                row.record.vector = np.asarray(stored[row.vector_of], dtype=np.float32)
            else:
                todo.append(row)
        vectors = await self._embedder.embed_documents([r.embed_text for r in todo])
        for row, vector in zip(todo, vectors, strict=True):
            row.record.vector = np.asarray(vector, dtype=np.float32)
        for row, source in followers:
            row.record.vector = source.record.vector

    async def _drop_stale(self, kept: set[str]) -> None:
        """Delete the stored rows of the forgotten paths whose ids are not in ``kept``."""
        stale, self._stale = self._stale, {}
        doomed: list[str] = []
        for account_id, forgotten in stale.items():
            doomed += await self._stale_ids(account_id, list(forgotten), kept)
        if doomed:
            await self._index.delete_ids(doomed)

    async def _stale_ids(self, account_id: str, uris: list[str], kept: set[str]) -> list[str]:
        """Ids of the stored rows at or below ``uris`` that are not in ``kept``.

        One lookup by ``parent_uri`` (indexed; a list of prefixes is not) finds the paths' own
        rows (their parent is the path's parent) and any rows right below them; a path with
        rows below it (it was a folder) is then looked up by prefix, which is rare."""
        wanted = set(uris)
        parents = sorted({_parent_of(u) for u in uris} | wanted)
        found: set[tuple[str, int, str]] = set()
        folders: set[str] = set()
        for chunk in _chunks(parents):
            for key in await self._index.uris(
                IndexFilter(account_id=account_id, parent_uris=chunk)
            ):
                if key[0] in wanted:
                    found.add(key)
                elif _parent_of(key[0]) in wanted:
                    folders.add(_parent_of(key[0]))
        for folder in sorted(folders):
            found |= await self._index.uris(
                IndexFilter(account_id=account_id, uri_prefixes=(folder,))
            )
        ids = (record_id(account_id, uri, level, anchor) for uri, level, anchor in found)
        return [row_id for row_id in ids if row_id not in kept]
