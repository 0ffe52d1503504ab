"""The mirror's vectors, each distinct vector held once and shared by the rows that hold it.

A folder that holds one file gives its two tiers (L0, L1) the file's own vector, so in a store
of imported documents (a folder per document, as the original lays them out) three index rows
share each vector. :class:`Vectors` keeps one float32 matrix row (with its norm and, in big
tables, its sketch) per distinct vector and counts the rows using it; a search multiplies
the distinct vectors once and hands each row its vector's score. That is a third of the
bytes to scan and to hold for such stores, with exact results.

A freed matrix row is not reused: the matrix is renumbered, in new arrays, when a third of its
rows are free, so a held record's vector (a view of its row) never changes under it.
"""

from __future__ import annotations

import numpy as np

from openviking_mcp.storage.index import _sketch
from openviking_mcp.storage.index._select import largest
from openviking_mcp.storage.index._sketch import Sketch

__all__ = ["Vectors", "reallocated"]

#: Below this share of the matrix, only the rows asked for are multiplied.
_SUBSET_SHARE = 0.3


def reallocated(array: np.ndarray, rows: slice | np.ndarray, capacity: int) -> np.ndarray:
    """A new zeroed array of ``capacity`` rows (``array``'s row shape and dtype), with
    ``array[rows]`` copied to its front: how the mirror's per-row arrays grow and compact."""
    kept = array[rows]
    out = np.zeros((capacity, *array.shape[1:]), dtype=array.dtype)
    out[: len(kept)] = kept
    return out


class Vectors:
    """Distinct vectors of one dimension, reference-counted (see the module docstring)."""

    def __init__(self, dimension: int, capacity: int = 64) -> None:
        self.dimension = dimension
        self.matrix = np.zeros((capacity, dimension), dtype=np.float32)
        self.norms = np.zeros(capacity, dtype=np.float32)
        self.refs = np.zeros(capacity, dtype=np.int32)
        self.sketched = np.zeros((capacity, 0), dtype=np.float32)
        self.sketch: Sketch | None = None
        self.size = 0  # matrix rows in use or free
        self._freed = 0
        self._by_hash: dict[int, list[int]] = {}
        self._unsketched: list[int] = []

    @property
    def distinct(self) -> int:
        """Vectors held (matrix rows in use)."""
        return self.size - self._freed

    def reserve(self, count: int) -> bool:
        """Room for ``count`` more vectors; ``True`` when the matrix was reallocated (views
        of its rows then point at the old one)."""
        needed = self.size + count
        if needed <= len(self.refs):
            return False
        self._rebuild(max(needed, len(self.refs) * 2), slice(0, self.size))
        return True

    def trim(self) -> bool:
        """Shrink the matrix to the rows used plus an eighth; ``True`` when it was
        reallocated."""
        wanted = self.size + self.size // 8 + 64
        if len(self.refs) <= wanted:
            return False
        self._rebuild(wanted, slice(0, self.size))
        return True

    def add(self, vector: np.ndarray) -> int:
        """The matrix row holding ``vector`` (shared when an equal one is held). Call
        :meth:`reserve` first, and :meth:`settle` after a batch."""
        key = hash(vector.tobytes())
        for row in self._by_hash.get(key, ()):
            if np.array_equal(self.matrix[row], vector):
                self.refs[row] += 1
                return row
        row, self.size = self.size, self.size + 1
        self.matrix[row] = vector
        self.norms[row] = float(np.linalg.norm(vector))
        self.refs[row] = 1
        self._by_hash.setdefault(key, []).append(row)
        self._unsketched.append(row)
        return row

    def release(self, row: int) -> None:
        """One row fewer uses the vector at ``row``; it is freed when none does."""
        self.refs[row] -= 1
        if self.refs[row] > 0:
            return
        key = hash(self.matrix[row].tobytes())
        rows = [r for r in self._by_hash.pop(key, ()) if r != row]
        if rows:
            self._by_hash[key] = rows
        self._freed += 1

    def settle(self) -> np.ndarray | None:
        """After a batch of changes: renumber the matrix when a third of it is free (the
        old-to-new row numbers are returned, ``-1`` for a freed row), and fit, update or drop
        the sketch."""
        remap = None
        if self.size >= 1024 and self._freed * 3 >= self.size:
            kept = np.flatnonzero(self.refs[: self.size] > 0)
            remap = np.full(self.size, -1, dtype=np.int64)
            remap[kept] = np.arange(len(kept))
            self._rebuild(max(64, len(kept) * 2), kept)
            self.size, self._freed = len(kept), 0
            self._by_hash = {}
            for row in range(self.size):
                self._by_hash.setdefault(hash(self.matrix[row].tobytes()), []).append(row)
            self._unsketched = list(range(self.size)) if self.sketch is not None else []
        self._update_sketch()
        return remap

    def _update_sketch(self) -> None:
        pending, self._unsketched = self._unsketched, []
        if self.sketch is None and self.distinct >= _sketch.SKETCH_MIN_ROWS:
            used = np.flatnonzero(self.refs[: self.size] > 0)
            self.sketch = Sketch.fit(self.matrix[used])
            self.sketched = np.zeros((len(self.refs), self.sketch.width), dtype=np.float32)
            self.sketched[: self.size] = self.sketch.project(self.matrix[: self.size])
        elif self.sketch is not None and self.distinct < _sketch.SKETCH_MIN_ROWS // 2:
            self.sketch = None
            self.sketched = np.zeros((len(self.refs), 0), dtype=np.float32)
        elif self.sketch is not None and pending:
            rows = np.asarray(pending, dtype=np.int64)
            self.sketched[rows] = self.sketch.project(self.matrix[rows])

    def _rebuild(self, capacity: int, rows: slice | np.ndarray) -> None:
        self.matrix = reallocated(self.matrix, rows, capacity)
        self.norms = reallocated(self.norms, rows, capacity)
        self.refs = reallocated(self.refs, rows, capacity)
        self.sketched = reallocated(self.sketched, rows, capacity)

    # -- scoring ---------------------------------------------------------------------------

    def cosines(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """The cosine similarity of ``query`` with the vector at each of ``rows`` (rows may
        repeat; a zero vector scores 0)."""
        if len(rows) > _SUBSET_SHARE * self.size:
            dots = (self.matrix[: self.size] @ query)[rows]
        else:
            dots = self.matrix[rows] @ query
        norms = self.norms[rows] * float(np.linalg.norm(query))
        out: np.ndarray = np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
        return out

    def preselect(self, rows: np.ndarray, query: np.ndarray, count: int) -> np.ndarray:
        """The positions in ``rows`` whose vectors are among the ``count`` distinct ones (of
        those ``rows`` hold) with the sketches nearest to ``query``'s, ascending (every
        position when there is no sketch or few rows)."""
        if self.sketch is None or len(rows) <= count:
            return np.arange(len(rows))
        projected = self.sketch.project(query)[0]
        if len(rows) <= _SUBSET_SHARE * self.size:
            return np.sort(largest(self.sketched[rows] @ projected, count))
        approx = self.sketched[: self.size] @ projected  # one score per distinct vector
        held = np.zeros(self.size, dtype=bool)
        held[rows] = True
        approx[~held] = -np.inf
        chosen = np.zeros(self.size, dtype=bool)
        chosen[largest(approx, count)] = True
        return np.flatnonzero(chosen[rows])
