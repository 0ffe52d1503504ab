"""The search index: :class:`SearchIndex` is its interface (the PostgreSQL backend implements
it too); the embedded implementation, :class:`VectorIndex`, is one LanceDB table
(``contexts``) under ``{workspace}/index``.

One row per ``(account_id, uri, level, anchor)``: level 0 is a directory's abstract, level 1
its overview, level 2 a passage of a file (``anchor`` ``"p0"``, ``"p1"``...). Rows carry the
embedding (``vector``, cosine), the full-text-searched ``text`` (BM25) and the columns
filters use (account, URI, parent, level, type, tags, times).

**Model safety.** The embedding model id and dimension the table was built with are stored in
the table's schema metadata (committed atomically with the table, no side file).
:meth:`VectorIndex.open` with another model or dimension raises ``FailedPreconditionError``
asking for ``openviking-mcp reindex --all``; :meth:`VectorIndex.reset` drops and recreates
the table.
Vectors of different models are never mixed.

**Write discipline.** Every LanceDB write is a commit that adds a data fragment (and a table
version). 1000 single-row upserts make 1000 fragments and slow every search down, so:

* write in batches: :meth:`VectorIndex.upsert` is ONE ``merge_insert`` on ``id`` per call,
  whatever the number of records (buffer rows and flush a few hundred at a time);
* after bulk work call :meth:`VectorIndex.schedule_optimize` (sync, background, coalesced):
  it compacts fragments, prunes old versions, folds new rows into the indexes and creates
  missing ones (IVF_FLAT once the table is large). As a safety net the index also schedules
  it by itself after ``AUTO_OPTIMIZE_COMMITS`` commits or ``AUTO_OPTIMIZE_ROWS`` rows.

**Freshness** (verified with lancedb 0.40): rows are searchable by vector and by FTS right
after ``upsert`` returns; LanceDB searches the fragments an index does not cover yet by brute
force (flat BM25 for FTS), so no index rebuild is needed on the write path. ``optimize``
only makes searches fast again. Another process (or another ``VectorIndex`` on the same
folder) sees new writes on its next read: the connection uses ``read_consistency_interval``
(0 s by default: every read checks for a newer table version).

**In memory.** Tables of up to ``MEMORY_MAX_ROWS`` rows are also mirrored in process memory
(:mod:`._cache`, :mod:`._mirror`): ``vector_search`` and ``fts_search`` are answered there
without a LanceDB query whenever the mirror is current and the filter has no ``where``.

All LanceDB calls are awaited on its own runtime; Arrow conversions of large batches run in a
worker thread. ``OSError`` from LanceDB (unreachable or unwritable storage) is reported as
``UnavailableError``; other errors propagate unchanged.
"""

from typing import TYPE_CHECKING

from openviking_mcp._lazy import lazy_exports
from openviking_mcp.storage.index._model import (
    FILTER_COLUMNS,
    BoolCondition,
    Condition,
    FilterNode,
    IndexFilter,
    IndexHit,
    IndexRecord,
    normalize_uri,
    record_id,
)
from openviking_mcp.storage.index._protocol import SearchIndex

if TYPE_CHECKING:
    from openviking_mcp.storage.index._stem import stem_word
    from openviking_mcp.storage.index._table import (
        AUTO_OPTIMIZE_COMMITS,
        AUTO_OPTIMIZE_ROWS,
        MEMORY_MAX_ROWS,
        TABLE_NAME,
        VECTOR_INDEX_MIN_ROWS,
        VectorIndex,
    )

__all__ = [
    "AUTO_OPTIMIZE_COMMITS",
    "AUTO_OPTIMIZE_ROWS",
    "FILTER_COLUMNS",
    "MEMORY_MAX_ROWS",
    "TABLE_NAME",
    "VECTOR_INDEX_MIN_ROWS",
    "BoolCondition",
    "Condition",
    "FilterNode",
    "IndexFilter",
    "IndexHit",
    "IndexRecord",
    "SearchIndex",
    "VectorIndex",
    "normalize_uri",
    "record_id",
    "stem_word",
]

#: The table itself loads LanceDB and pyarrow: it is imported on first use.
_LAZY = {
    name: "openviking_mcp.storage.index._table"
    for name in (
        "AUTO_OPTIMIZE_COMMITS",
        "AUTO_OPTIMIZE_ROWS",
        "MEMORY_MAX_ROWS",
        "TABLE_NAME",
        "VECTOR_INDEX_MIN_ROWS",
        "VectorIndex",
    )
}

_LAZY["stem_word"] = "openviking_mcp.storage.index._stem"

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__, globals())
