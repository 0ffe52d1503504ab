"""An in-memory copy of the search columns of the ``contexts`` table, searched without LanceDB.

Each row lives in a *slot*: its record (without the vector), its vector in one float32 matrix
(with its norm), its BM25 postings and the filter columns as numpy arrays (level, codes of the
account, type, parent and directory, ``updated_at``). A search is then a mask over the slots
(:meth:`Mirror.mask` renders an :class:`IndexFilter` without SQL), a matrix-vector product
for cosine similarity and a postings walk for BM25: no query, no Arrow conversion.

Replacing or removing a row only clears its slot's ``live`` flag; the slots are renumbered
when a third of them are dead. A held record's ``vector`` is a view of its matrix row (kept
pointing at the current matrix when it grows or is compacted), and search hits hand out the
held records themselves: callers must not change them. The mirror is not thread-safe: it is
built (or rebuilt) off the event loop as a new object and then only touched on the loop.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from openviking_mcp.storage.index._bm25 import Postings, query_tokens, text_tokens
from openviking_mcp.storage.index._model import IndexFilter, IndexHit, IndexRecord, normalize_uri
from openviking_mcp.storage.index._sketch import SKETCH_MIN_ROWS, Sketch, candidates

__all__ = ["Mirror", "Prepared", "prepare"]

_ROOT = "viking://"
_MASK_CACHE = 16
#: Below this share of candidate rows, only their rows are multiplied (not the whole matrix).
_SUBSET_SHARE = 0.3
#: Keyword scores are looked up per candidate when fewer than 1/this of the slots pass.
_FEW_CANDIDATES = 16

Prepared = list[tuple[IndexRecord, "Counter[str]"]]


def prepare(records: Sequence[IndexRecord]) -> Prepared:
    """Records paired with their text's tokens (the slow part of an insert; thread-safe)."""
    return [(r, text_tokens(r.text)) for r in records]


def _directory(record: IndexRecord) -> str:
    """The directory a prefix test looks at: the row's own URI for a directory (L0/L1), the
    folder holding it for a file passage."""
    uri = normalize_uri(record.uri)
    if record.level != 2:
        return uri
    head, _, _ = uri.rpartition("/")
    return head if head and not head.endswith(":/") else _ROOT


class _Codes:
    """Strings numbered in order of first sight."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.values: list[str] = []

    def code(self, value: str) -> int:
        number = self.numbers.get(value)
        if number is None:
            number = self.numbers[value] = len(self.values)
            self.values.append(value)
        return number


class _Columns:
    """Per-slot arrays that grow by doubling."""

    def __init__(self, dimension: int, capacity: int = 64) -> None:
        self.dimension = dimension
        self.matrix = np.zeros((capacity, dimension), dtype=np.float32)
        self.norms = np.zeros(capacity, dtype=np.float32)
        self.live = np.zeros(capacity, dtype=bool)
        self.level = np.zeros(capacity, dtype=np.int8)
        self.updated = np.zeros(capacity, dtype=np.float64)
        self.sketch = np.zeros((capacity, 0), dtype=np.float32)
        self.codes = {
            name: np.zeros(capacity, dtype=np.int32)
            for name in ("account", "type", "parent", "directory")
        }

    def reserve(self, size: int) -> bool:
        """Room for ``size`` slots; ``True`` when the arrays were reallocated."""
        capacity = len(self.live)
        if size <= capacity:
            return False
        self._rebuild(max(size, capacity * 2), slice(0, capacity))
        return True

    def keep(self, live: np.ndarray) -> None:
        """Keep only the slots ``live`` (in order), in new arrays (views of the old stay
        valid)."""
        self._rebuild(max(64, len(live) * 2), live)

    def _rebuild(self, capacity: int, rows: slice | np.ndarray) -> None:
        """Every array reallocated with ``capacity`` slots, its ``rows`` copied to the front."""

        def moved(array: np.ndarray) -> np.ndarray:
            kept = array[rows]
            out = np.zeros((capacity, *array.shape[1:]), dtype=array.dtype)
            out[: len(kept)] = kept
            return out

        self.matrix, self.norms, self.live = moved(self.matrix), moved(self.norms), moved(self.live)
        self.level, self.updated = moved(self.level), moved(self.updated)
        self.sketch = moved(self.sketch)
        self.codes = {name: moved(array) for name, array in self.codes.items()}


_BLAS_LIMITED = False


def _one_blas_thread() -> None:
    """Run numpy's BLAS on one thread in this process (once). Its worker threads spin while
    they wait: on two busy cores a 10k x 384 mat-vec then costs ~7 ms of CPU instead of
    ~0.6 ms, and concurrent searches already keep every core busy."""
    global _BLAS_LIMITED
    if not _BLAS_LIMITED:
        threadpool_limits(limits=1, user_api="blas")
        _BLAS_LIMITED = True


class Mirror:
    """The rows of one index table, held in memory (see the module docstring)."""

    def __init__(self, dimension: int) -> None:
        _one_blas_thread()
        self.dimension = dimension
        self._cols = _Columns(dimension)
        self._records: list[IndexRecord | None] = []
        self._slot_of: dict[str, int] = {}
        self._by_uri: dict[str, tuple[int, ...]] = {}
        self._tags: dict[str, set[int]] = {}
        self._postings = Postings()
        self._codes = {name: _Codes() for name in ("account", "type", "parent", "directory")}
        self._masks: dict[IndexFilter, np.ndarray] = {}
        self._under: dict[str, np.ndarray] = {}
        self._sketch: Sketch | None = None

    @property
    def rows(self) -> int:
        """Live rows."""
        return len(self._slot_of)

    def reserve(self, rows: int) -> None:
        """Make room for ``rows`` more rows at once (a build knows its size)."""
        if self._cols.reserve(len(self._records) + rows):
            self._repoint()

    # -- changes ---------------------------------------------------------------------------

    def upsert(self, prepared: Prepared) -> None:
        """Insert or replace rows (by id); each replaced row's slot dies."""
        self._masks.clear()
        if self._cols.reserve(len(self._records) + len(prepared)):
            self._repoint()
        start = len(self._records)
        for record, tokens in prepared:
            self._remove(record.id)
            self._insert(record, tokens)
        self._compact_if_sparse()
        self._update_sketch(start)

    def remove(self, ids: Sequence[str]) -> None:
        """Forget the rows with these ids (unknown ids are ignored)."""
        self._masks.clear()
        for row_id in ids:
            self._remove(row_id)
        self._compact_if_sparse()
        self._update_sketch(len(self._records))

    def _insert(self, record: IndexRecord, tokens: Counter[str]) -> None:
        slot = len(self._records)
        cols = self._cols
        vector = np.asarray(record.vector, dtype=np.float32)
        cols.matrix[slot] = vector
        cols.norms[slot] = float(np.linalg.norm(vector))
        cols.live[slot] = True
        cols.level[slot] = record.level
        cols.updated[slot] = record.updated_at
        values = {
            "account": record.account_id,
            "type": record.context_type,
            "parent": normalize_uri(record.parent_uri) if record.parent_uri else "",
            "directory": _directory(record),
        }
        for name, value in values.items():
            cols.codes[name][slot] = self._codes[name].code(value)
        stored = replace(
            record,
            vector=cols.matrix[slot],
            account_id=sys.intern(record.account_id),
            context_type=sys.intern(record.context_type),
            owner_user_id=sys.intern(record.owner_user_id),
            parent_uri=sys.intern(record.parent_uri),
        )
        stored._id = record.id  # known already: spares each search hit a sha1
        self._records.append(stored)
        self._slot_of[record.id] = slot
        self._by_uri[record.uri] = (*self._by_uri.get(record.uri, ()), slot)
        for tag in record.tags:
            self._tags.setdefault(tag, set()).add(slot)
        self._postings.add(slot, tokens)

    def _remove(self, row_id: str) -> None:
        slot = self._slot_of.pop(row_id, None)
        if slot is None:
            return
        record = self._slot_record(slot)
        self._cols.live[slot] = False
        self._records[slot] = None
        others = tuple(s for s in self._by_uri.pop(record.uri, ()) if s != slot)
        if others:
            self._by_uri[record.uri] = others
        for tag in record.tags:
            self._tags.get(tag, set()).discard(slot)
        self._postings.remove(slot, text_tokens(record.text))

    def _compact_if_sparse(self) -> None:
        size = len(self._records)
        if size < 1024 or self.rows * 3 > size * 2:
            return
        remap = np.full(size, -1, dtype=np.int64)
        live = np.flatnonzero(self._cols.live[:size])
        remap[live] = np.arange(len(live))
        self._cols.keep(live)
        self._records = [self._records[int(s)] for s in live]
        self._repoint()
        self._slot_of = {rid: int(remap[s]) for rid, s in self._slot_of.items()}
        self._by_uri = {u: tuple(int(remap[s]) for s in ss) for u, ss in self._by_uri.items()}
        self._tags = {t: {int(remap[s]) for s in ss} for t, ss in self._tags.items() if ss}
        self._postings.compact(remap)
        self._masks.clear()

    def _update_sketch(self, start: int) -> None:
        """Sketch the slots from ``start`` on; fit the sketch when the table grew big enough
        (and drop it when it shrank well below)."""
        cols, size = self._cols, len(self._records)
        if self._sketch is None and self.rows >= SKETCH_MIN_ROWS:
            live = np.flatnonzero(cols.live[:size])
            self._sketch = Sketch.fit(cols.matrix[live])
            cols.sketch = np.zeros((len(cols.live), self._sketch.width), dtype=np.float32)
            start = 0
        elif self._sketch is not None and self.rows < SKETCH_MIN_ROWS // 2:
            self._sketch = None
            cols.sketch = np.zeros((len(cols.live), 0), dtype=np.float32)
        if self._sketch is not None and start < size:
            cols.sketch[start:size] = self._sketch.project(cols.matrix[start:size])

    def _repoint(self) -> None:
        matrix = self._cols.matrix
        for slot, record in enumerate(self._records):
            if record is not None:
                record.vector = matrix[slot]

    # -- filters ---------------------------------------------------------------------------

    def mask(self, flt: IndexFilter) -> np.ndarray:
        """The live slots that pass ``flt`` (``flt.where`` is not supported here)."""
        cached = self._masks.get(flt)
        if cached is not None:
            return cached
        mask = self._build_mask(flt)
        if len(self._masks) >= _MASK_CACHE:
            self._masks.clear()
        self._masks[flt] = mask
        return mask

    def _build_mask(self, flt: IndexFilter) -> np.ndarray:
        size = len(self._records)
        cols = self._cols
        mask = cols.live[:size].copy()
        if flt.account_id is not None:
            mask &= self._among("account", (flt.account_id,), size)
        if flt.uri_prefixes and _ROOT not in {normalize_uri(p) for p in flt.uri_prefixes}:
            mask &= self._under_any(flt.uri_prefixes, size)
        if flt.exclude_prefixes:
            mask &= ~self._under_any(flt.exclude_prefixes, size)
        if flt.levels:
            mask &= np.isin(cols.level[:size], np.asarray(flt.levels, dtype=np.int8))
        if flt.context_types:
            mask &= self._among("type", flt.context_types, size)
        if flt.parent_uri is not None:
            mask &= self._among("parent", (normalize_uri(flt.parent_uri),), size)
        if flt.parent_uris:
            mask &= self._among("parent", [normalize_uri(u) for u in flt.parent_uris], size)
        for tag in flt.tags_all:
            mask &= self._slot_mask(self._tags.get(tag, ()), size)
        if flt.updated_after is not None:
            mask &= cols.updated[:size] > flt.updated_after
        if flt.updated_before is not None:
            mask &= cols.updated[:size] < flt.updated_before
        return mask

    def _among(self, column: str, values: Sequence[str], size: int) -> np.ndarray:
        numbers = self._codes[column].numbers
        codes = [numbers[v] for v in values if v in numbers]
        if not codes:
            return np.zeros(size, dtype=bool)
        column_codes = self._cols.codes[column][:size]
        if len(codes) == 1:  # a plain comparison is several times cheaper than isin
            equal: np.ndarray = column_codes == codes[0]
            return equal
        return np.isin(column_codes, np.asarray(codes, dtype=np.int32))

    @staticmethod
    def _slot_mask(slots: Any, size: int) -> np.ndarray:
        mask = np.zeros(size, dtype=bool)
        if slots:
            mask[np.fromiter(slots, dtype=np.int64)] = True
        return mask

    def _under_any(self, prefixes: Sequence[str], size: int) -> np.ndarray:
        """Rows whose URI is one of ``prefixes`` or lies below one of them."""
        directories = self._codes["directory"].values
        under = np.zeros(len(directories), dtype=bool)
        exact: set[int] = set()
        for prefix in prefixes:
            norm = normalize_uri(prefix)
            if norm == _ROOT:
                return np.ones(size, dtype=bool)
            under |= self._directories_under(norm, directories)
            exact.update(self._by_uri.get(norm, ()))
        mask: np.ndarray = under[self._cols.codes["directory"][:size]]
        if exact:
            mask |= self._slot_mask(exact, size)
        return mask

    def _directories_under(self, prefix: str, directories: list[str]) -> np.ndarray:
        """``directory == prefix or directory starts with prefix/``, per directory code
        (cached; directory codes only ever grow)."""
        known = self._under.get(prefix)
        start = 0 if known is None else len(known)
        if start == len(directories) and known is not None:
            return known
        inside = prefix + "/"
        fresh = np.fromiter(
            (d == prefix or d.startswith(inside) for d in directories[start:]),
            dtype=bool,
            count=len(directories) - start,
        )
        result = fresh if known is None else np.concatenate([known, fresh])
        if len(self._under) > 256:
            self._under.clear()
        self._under[prefix] = result
        return result

    # -- searches --------------------------------------------------------------------------

    def vector_search(self, vector: np.ndarray, flt: IndexFilter, limit: int) -> list[IndexHit]:
        """The ``limit`` passing rows nearest to ``vector``; score = cosine similarity."""
        mask = self.mask(flt)
        slots = np.flatnonzero(mask)
        if limit <= 0 or not len(slots):
            return []
        cols = self._cols
        size = len(mask)
        if self._sketch is not None and len(slots) > candidates(limit):
            slots = self._sketched(slots, vector, limit, mask)
        if len(slots) > _SUBSET_SHARE * size:
            dots = (cols.matrix[:size] @ vector)[slots]
        else:
            dots = cols.matrix[slots] @ vector
        norms = cols.norms[slots] * float(np.linalg.norm(vector))
        sims = np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
        return self._top(slots, sims, limit)

    def _sketched(
        self, slots: np.ndarray, vector: np.ndarray, limit: int, mask: np.ndarray
    ) -> np.ndarray:
        """The passing slots whose sketches are nearest to ``vector``'s."""
        assert self._sketch is not None
        size = len(mask)
        query = self._sketch.project(vector)[0]
        if len(slots) > _SUBSET_SHARE * size:
            approx = (self._cols.sketch[:size] @ query)[slots]
        else:
            approx = self._cols.sketch[slots] @ query
        keep = np.argpartition(-approx, candidates(limit) - 1)[: candidates(limit)]
        return np.sort(slots[keep])

    def fts_search(self, query: str, flt: IndexFilter, limit: int) -> list[IndexHit]:
        """The ``limit`` passing rows with the best BM25 for ``query`` (only rows holding a
        query token)."""
        tokens = query_tokens(query)
        if limit <= 0 or not tokens or not self._postings.candidates(tokens):
            return []
        mask = self.mask(flt)
        passing = np.flatnonzero(mask)
        if len(passing) * _FEW_CANDIDATES < len(mask):  # a few rows (a descent round)
            scores = self._postings.scores_of(tokens, passing)
            matched = scores > 0
            return self._top(passing[matched], scores[matched], limit)
        scores = self._postings.scores(tokens, len(mask))
        scores[~mask] = 0.0
        slots = np.flatnonzero(scores > 0)
        return self._top(slots, scores[slots], limit)

    def _top(self, slots: np.ndarray, scores: np.ndarray, limit: int) -> list[IndexHit]:
        if not len(slots):
            return []
        if len(slots) > limit:
            best = np.argpartition(-scores, limit - 1)[:limit]
            slots, scores = slots[best], scores[best]
        order = np.argsort(-scores, kind="stable")
        return [IndexHit(self._slot_record(int(slots[i])), float(scores[i])) for i in order]

    def _slot_record(self, slot: int) -> IndexRecord:
        record = self._records[slot]
        assert record is not None, "a live slot always holds its record"
        return record
