"""An in-memory copy of the search columns of the ``contexts`` table, searched without LanceDB.

Each row lives in a *slot*: its record (without the vector), its vector in one float32 matrix
(with its norm), its BM25 postings, the filter columns as numpy arrays (level, codes of the
account, type, parent and directory, ``updated_at``) and its place among its parent's
children. A search first finds the slots passing its :class:`IndexFilter`
(:meth:`Mirror.passing`, without SQL), then runs a matrix-vector product for cosine similarity
and a postings walk for BM25 over them: no query, no Arrow conversion.

Replacing or removing a row only clears its slot's ``live`` flag; the slots are renumbered
when a third of them are dead. A held record's ``vector`` is a view of its matrix row (kept
pointing at the current matrix when it grows or is compacted), and search hits hand out the
held records themselves: callers must not change them. The mirror is not thread-safe: it is
built (or rebuilt) off the event loop as a new object and then only touched on the loop.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from openviking_mcp.storage.index._bm25 import Postings, query_tokens, text_tokens
from openviking_mcp.storage.index._model import IndexFilter, IndexHit, IndexRecord, normalize_uri
from openviking_mcp.storage.index._select import largest
from openviking_mcp.storage.index._sketch import candidates
from openviking_mcp.storage.index._vectors import Vectors, reallocated

__all__ = ["Mirror", "Prepared", "prepare"]

_ROOT = "viking://"
_MASK_CACHE = 16
#: Keyword scores are looked up per candidate when fewer than 1/this of the slots pass.
_FEW_CANDIDATES = 16

Prepared = list[tuple[IndexRecord, "Counter[str]"]]
#: A per-slot column narrowed to the slots a filter looks at.
_At = Callable[[np.ndarray], np.ndarray]


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

    def __init__(self, capacity: int = 64) -> None:
        self.vector = np.zeros(capacity, dtype=np.int64)  # its row in the Vectors matrix
        self.live = np.zeros(capacity, dtype=bool)
        self.level = np.zeros(capacity, dtype=np.int8)
        self.updated = np.zeros(capacity, dtype=np.float64)
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
            return reallocated(array, rows, capacity)

        self.vector, self.live = moved(self.vector), moved(self.live)
        self.level, self.updated = moved(self.level), moved(self.updated)
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
        self._cols = _Columns()
        self._vectors = Vectors(dimension)
        self._records: list[IndexRecord | None] = []
        self._slot_of: dict[str, int] = {}
        self._by_uri: dict[str, tuple[int, ...]] = {}
        self._tags: dict[str, set[int]] = {}
        self._postings = Postings()
        self._codes = {name: _Codes() for name in ("account", "type", "parent", "directory")}
        self._children: dict[int, set[int]] = {}
        self._passing: dict[IndexFilter, np.ndarray] = {}
        self._under: dict[str, np.ndarray] = {}

    @property
    def rows(self) -> int:
        """Live rows."""
        return len(self._slot_of)

    def reserve(self, rows: int) -> None:
        """Make room for ``rows`` more rows at once (a build knows its size; how many
        distinct vectors they hold shows only as they come)."""
        if self._cols.reserve(len(self._records) + rows):
            self._repoint()

    def trim(self) -> None:
        """Give back the vector matrix's spare room (after a build)."""
        if self._vectors.trim():
            self._repoint()

    # -- changes ---------------------------------------------------------------------------

    def upsert(self, prepared: Prepared) -> None:
        """Insert or replace rows (by id); each replaced row's slot dies."""
        self._passing.clear()
        grown = self._cols.reserve(len(self._records) + len(prepared))
        if self._vectors.reserve(len(prepared)) | grown:
            self._repoint()
        for record, tokens in prepared:
            self._remove(record.id)
            self._insert(record, tokens)
        self._settle()

    def remove(self, ids: Sequence[str]) -> None:
        """Forget the rows with these ids (unknown ids are ignored)."""
        self._passing.clear()
        for row_id in ids:
            self._remove(row_id)
        self._settle()

    def _insert(self, record: IndexRecord, tokens: Counter[str]) -> None:
        slot = len(self._records)
        cols = self._cols
        row = self._vectors.add(np.asarray(record.vector, dtype=np.float32))
        cols.vector[slot] = row
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
        self._children.setdefault(int(cols.codes["parent"][slot]), set()).add(slot)
        stored = replace(
            record,
            vector=self._vectors.matrix[row],
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
        self._vectors.release(int(self._cols.vector[slot]))
        self._children.get(int(self._cols.codes["parent"][slot]), set()).discard(slot)
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
        self._children = {p: {int(remap[s]) for s in ss} for p, ss in self._children.items() if ss}
        self._postings.compact(remap)
        self._passing.clear()

    def _settle(self) -> None:
        """After a batch of changes: renumber sparse slots and vectors, update the sketch."""
        self._compact_if_sparse()
        remap = self._vectors.settle()
        if remap is not None:
            size = len(self._records)
            live = self._cols.live[:size]
            self._cols.vector[:size] = np.where(live, remap[self._cols.vector[:size]], 0)
            self._repoint()

    def _repoint(self) -> None:
        matrix, rows = self._vectors.matrix, self._cols.vector
        for slot, record in enumerate(self._records):
            if record is not None:
                record.vector = matrix[rows[slot]]

    # -- filters ---------------------------------------------------------------------------

    def passing(self, flt: IndexFilter) -> np.ndarray:
        """The live slots that pass ``flt``, ascending (``flt.where`` is not supported here).

        A filter on parent directories (a descent round) starts from those directories'
        children, so it costs their number, not the table's size."""
        cached = self._passing.get(flt)
        if cached is not None:
            return cached
        if flt.parent_uri is not None or flt.parent_uris:
            children = self._children_of(flt)
            slots: np.ndarray = children[self._keep(flt, children)]
        else:
            slots = np.flatnonzero(self._keep(flt, None))
        if len(self._passing) >= _MASK_CACHE:
            self._passing.clear()
        self._passing[flt] = slots
        return slots

    def _children_of(self, flt: IndexFilter) -> np.ndarray:
        """The slots whose parent is ``flt.parent_uri`` and one of ``flt.parent_uris``."""
        numbers = self._codes["parent"].numbers

        def under(uris: Sequence[str]) -> set[int]:
            codes = {numbers.get(normalize_uri(u)) for u in uris}
            return set().union(*(self._children.get(c, ()) for c in codes if c is not None))

        found = under(flt.parent_uris) if flt.parent_uris else None
        if flt.parent_uri is not None:
            only = under((flt.parent_uri,))
            found = only if found is None else found & only
        return np.sort(np.fromiter(found or (), dtype=np.int64))

    def _keep(self, flt: IndexFilter, slots: np.ndarray | None) -> np.ndarray:
        """Which of ``slots`` (all slots when ``None``) pass ``flt``'s conditions other than
        its parents (:meth:`passing` starts from the parents' children)."""
        size = len(self._records)
        cols = self._cols

        def at(array: np.ndarray) -> np.ndarray:
            return array[:size] if slots is None else array[slots]

        mask = at(cols.live).copy()
        if flt.account_id is not None:
            mask &= self._among("account", (flt.account_id,), at)
        if flt.uri_prefixes and _ROOT not in {normalize_uri(p) for p in flt.uri_prefixes}:
            mask &= self._under_any(flt.uri_prefixes, at, slots)
        if flt.exclude_prefixes:
            mask &= ~self._under_any(flt.exclude_prefixes, at, slots)
        if flt.levels:
            mask &= np.isin(at(cols.level), np.asarray(flt.levels, dtype=np.int8))
        if flt.context_types:
            mask &= self._among("type", flt.context_types, at)
        for tag in flt.tags_all:
            mask &= self._holding(self._tags.get(tag, ()), size, slots)
        if flt.updated_after is not None:
            mask &= at(cols.updated) > flt.updated_after
        if flt.updated_before is not None:
            mask &= at(cols.updated) < flt.updated_before
        return mask

    def _among(self, column: str, values: Sequence[str], at: _At) -> np.ndarray:
        numbers = self._codes[column].numbers
        codes = [numbers[v] for v in values if v in numbers]
        column_codes = at(self._cols.codes[column])
        if not codes:
            return np.zeros(len(column_codes), dtype=bool)
        if len(codes) == 1:  # a plain comparison is several times cheaper than isin
            equal: np.ndarray = column_codes == codes[0]
            return equal
        return np.isin(column_codes, np.asarray(codes, dtype=np.int32))

    @staticmethod
    def _holding(chosen: Any, size: int, slots: np.ndarray | None) -> np.ndarray:
        """Which of ``slots`` (all when ``None``) are among the ``chosen`` slots."""
        picked = np.fromiter(chosen, dtype=np.int64) if chosen else np.zeros(0, np.int64)
        if slots is not None:  # both ascending: one binary search per slot
            if not len(picked):
                return np.zeros(len(slots), dtype=bool)
            picked.sort()
            at = np.minimum(np.searchsorted(picked, slots), len(picked) - 1)
            found: np.ndarray = picked[at] == slots
            return found
        mask = np.zeros(size, dtype=bool)
        mask[picked] = True
        return mask

    def _under_any(self, prefixes: Sequence[str], at: _At, slots: np.ndarray | None) -> np.ndarray:
        """Rows whose URI is one of ``prefixes`` or lies below one of them."""
        directories = self._codes["directory"].values
        under = np.zeros(len(directories), dtype=bool)
        exact: set[int] = set()
        size = len(self._records)
        for prefix in prefixes:
            norm = normalize_uri(prefix)
            if norm == _ROOT:
                return np.ones(size if slots is None else len(slots), dtype=bool)
            under |= self._directories_under(norm, directories)
            exact.update(self._by_uri.get(norm, ()))
        mask: np.ndarray = under[at(self._cols.codes["directory"])]
        if exact:
            mask |= self._holding(exact, size, slots)
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
        slots = self.passing(flt)
        if limit <= 0 or not len(slots):
            return []
        rows = self._cols.vector[slots]
        keep = self._vectors.preselect(rows, vector, candidates(limit))
        if len(keep) < len(slots):
            slots, rows = slots[keep], rows[keep]
        return self._top(slots, self._vectors.cosines(rows, vector), limit)

    def fts_search(self, query: str, flt: IndexFilter, limit: int) -> list[IndexHit]:
        """The ``limit`` passing rows with the best BM25 for ``query`` (only rows holding a
        query token)."""
        tokens = query_tokens(query)
        if limit <= 0 or not tokens or not self._postings.candidates(tokens):
            return []
        passing = self.passing(flt)
        size = len(self._records)
        if len(passing) * _FEW_CANDIDATES < size:  # a few rows (a descent round)
            scores = self._postings.scores_of(tokens, passing)
            matched = scores > 0
            return self._top(passing[matched], scores[matched], limit)
        every = self._postings.scores(tokens, size)
        if len(passing) == self.rows:  # every live row passes
            inside = self._cols.live[:size]
        else:
            inside = np.zeros(size, dtype=bool)
            inside[passing] = True
        np.multiply(every, inside, out=every)
        best = largest(every, limit)
        best = np.sort(best[every[best] > 0])
        return self._top(best, every[best], limit)

    def _top(self, slots: np.ndarray, scores: np.ndarray, limit: int) -> list[IndexHit]:
        if not len(slots):
            return []
        if len(slots) > limit:
            best = largest(scores, limit)
            slots, scores = slots[best], scores[best]
        order = np.argsort(-scores, kind="stable")
        return [IndexHit(self._slot_record(int(slots[i])), float(scores[i])) for i in order]

    def _slot_record(self, slot: int) -> IndexRecord:
        record = self._records[slot]
        assert record is not None, "a live slot always holds its record"
        return record
