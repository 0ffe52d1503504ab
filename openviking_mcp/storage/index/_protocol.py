"""The interface of a search index, whatever its engine: :class:`SearchIndex`.

The embedded backend implements it with LanceDB (:class:`~._table.VectorIndex`), the
PostgreSQL backend with pgvector and full-text search
(:class:`~openviking_mcp.storage.postgres.index.PgVectorIndex`). Both answer the same
searches with the same scores (cosine similarity; BM25 over the same tokens), so a store gives
the same top results on either. This module imports neither engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from os import PathLike
from typing import TYPE_CHECKING, Any, Protocol

from openviking_mcp.storage.index._model import IndexFilter, IndexHit, IndexRecord

if TYPE_CHECKING:
    import numpy as np

__all__ = ["SearchIndex"]


class SearchIndex(Protocol):
    """One search index: rows of :class:`IndexRecord`, searched by vector and by keywords.

    Lifecycle: :meth:`open` (refuses an index built with another model: reindex), :meth:`reset`
    (drop every row, recreate for a model), :meth:`close`. Writes, reads and maintenance as
    documented on each method; the semantics are those of the LanceDB ``VectorIndex``.
    """

    @property
    def path(self) -> str | PathLike[str]:
        """Where the index lives (a folder, or a database and table), for messages."""
        ...

    @property
    def model_id(self) -> str:
        """The embedding model of the open index (``""`` before :meth:`open`)."""
        ...

    @property
    def dimension(self) -> int:
        """The vector dimension of the open index (0 before :meth:`open`)."""
        ...

    @property
    def is_open(self) -> bool:
        """Whether the index is open and usable."""
        ...

    async def open(self, model_id: str, dimension: int) -> None:
        """Open (creating if missing) for ``model_id``/``dimension``; another model than the
        index was built with raises ``FailedPreconditionError`` (``reindex --all``)."""
        ...

    async def reset(self, model_id: str, dimension: int) -> None:
        """Drop every row and recreate the index for a (new) model."""
        ...

    async def close(self) -> None:
        """Finish background work and release the index (safe to call twice)."""
        ...

    async def upsert(self, records: Sequence[IndexRecord]) -> int:
        """Insert or replace ``records`` by id (last duplicate wins); rows written."""
        ...

    async def delete(self, flt: IndexFilter) -> int:
        """Delete the rows matching ``flt``; how many there were."""
        ...

    async def delete_ids(self, ids: Sequence[str]) -> int:
        """Delete rows by id; how many existed."""
        ...

    async def increment_active(self, account_id: str, uris: Sequence[str]) -> int:
        """``active_count += 1`` on the rows of ``uris`` in the account; rows touched."""
        ...

    async def set_tags(self, account_id: str, uris: Sequence[str], tags: Sequence[str]) -> int:
        """Set ``tags`` on the rows of ``uris`` in the account; rows touched."""
        ...

    async def vector_search(
        self, vector: np.ndarray, flt: IndexFilter, limit: int
    ) -> list[IndexHit]:
        """The ``limit`` rows nearest to ``vector``; score = cosine similarity, best first."""
        ...

    async def fts_search(self, query: str, flt: IndexFilter, limit: int) -> list[IndexHit]:
        """The ``limit`` best keyword matches; score = raw BM25, best first."""
        ...

    async def count(self, flt: IndexFilter | None = None) -> int:
        """Rows matching ``flt`` (all rows when ``None``)."""
        ...

    async def scroll(
        self, flt: IndexFilter | None, limit: int, cursor: str | None
    ) -> tuple[list[IndexRecord], str | None]:
        """A page of rows in id order after ``cursor``; the next cursor (``None`` at the end)."""
        ...

    async def get(self, ids: Sequence[str]) -> list[IndexRecord]:
        """The rows with these ids, in the order asked (missing ids skipped)."""
        ...

    async def uris(self, flt: IndexFilter) -> set[tuple[str, int, str]]:
        """``(uri, level, anchor)`` of every row matching ``flt``."""
        ...

    async def ensure_indexes(self) -> None:
        """Create the missing secondary indexes (idempotent)."""
        ...

    async def optimize(self) -> None:
        """Maintenance after bulk work (compaction, index upkeep); safe any time."""
        ...

    def read_scope(self) -> AbstractAsyncContextManager[None]:
        """Searches inside share one freshness check (``async with index.read_scope():``)."""
        ...

    def schedule_optimize(self) -> None:
        """Start :meth:`optimize` in the background (coalesced; needs a running loop)."""
        ...

    async def stats(self) -> dict[str, Any]:
        """Statistics for the observer: ``rows``, ``version``, ``indexes``, ``model_id``,
        ``dimension``, ``path``, sizes and ``memory_rows`` (see ``IndexDetails``)."""
        ...
