"""The positions of the largest scores of a big array, without partitioning all of it.

``np.argpartition`` over 300k scores costs about 1.5 ms; a search needs only the best few
dozen. :func:`largest` first finds a cut-off from a strided sample (a few thousand values),
keeps the scores above it (usually a few hundred) and partitions only those. Whenever at
least ``count`` scores are above the cut-off, every one of the ``count`` largest is among
them; when fewer are, the rest are scores equal to the cut-off (a mostly-zero keyword score
array): either way the answer is exact. When too few are kept (near-duplicate rows crowding
the top) a lower cut-off is tried; when too many, it partitions the whole array.
"""

from __future__ import annotations

import numpy as np

__all__ = ["largest"]

#: Arrays up to this size are partitioned whole.
_SMALL = 16_384
#: Values in the sample that picks the cut-off.
_SAMPLE = 4_096


def largest(scores: np.ndarray, count: int) -> np.ndarray:
    """The positions of the ``count`` largest ``scores`` (all of them when there are fewer),
    in no particular order; ties at the boundary are broken arbitrarily."""
    size = len(scores)
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    if size <= count:
        return np.arange(size)
    if size > _SMALL and count * 64 < size:
        stride = size // _SAMPLE
        sample = np.sort(scores[::stride])
        # About four times ``count`` scores are expected above the cut-off; near-duplicate
        # rows can crowd the top, so a cut-off that keeps too few is lowered and tried again.
        rank = max(1, (4 * count) // stride)
        while rank <= len(sample):
            cut = sample[len(sample) - rank]
            above = np.flatnonzero(scores > cut)
            if len(above) > size // 4:
                break
            if len(above) >= count:
                return above[np.argpartition(-scores[above], count - 1)[:count]]
            level = np.flatnonzero(scores == cut)[: count - len(above)]
            if len(above) + len(level) == count:  # the rest are all tied at the cut-off
                return np.concatenate([above, level])
            rank *= 8
    return np.argpartition(-scores, count - 1)[:count]
